"""The catalog's write rules: create, apply a prediction, review, a person's choice stands."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from catalog import services
from catalog.models import Category, Product
from tests.conftest import SERVED_CLASSES
from tests.on_commit import tasks

pytestmark = pytest.mark.django_db


def upload(data: bytes, name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def make_product(photo_bytes: bytes, **kwargs) -> Product:
    return services.product_create(
        name=kwargs.pop("name", "Pantalón"),
        image=upload(photo_bytes),
        price=Decimal("19.90"),
        **kwargs,
    )


def test_create_saves_pending_and_classifies_after_commit(
    photo_bytes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        product = make_product(photo_bytes)
    assert product.classification_status == Product.Status.PENDING
    assert product.thumbnail and product.image.name.endswith(".jpg")
    assert len(tasks(callbacks)) == 1  # queued only once the transaction commits
    tasks(callbacks)[0]()  # no broker in tests: the task runs in-process
    product.refresh_from_db()
    assert product.classification_status in (Product.Status.CLASSIFIED, Product.Status.NEEDS_REVIEW)
    assert product.predicted_label is not None and len(product.probabilities) == SERVED_CLASSES
    assert product.model_version


def test_stored_name_never_comes_from_the_client(photo_bytes):
    product = services.product_create(
        name="x", image=upload(photo_bytes, "evil.html"), price=Decimal("1")
    )
    assert product.image.name.endswith(".jpg") and "evil" not in product.image.name


@translation.override("en")  # the reason is translated; the source string is checked here
def test_bad_photo_is_refused_and_nothing_saved():
    with pytest.raises(ValidationError, match="not an image"):
        services.product_create(name="x", image=upload(b"hello", "x.jpg"), price=Decimal("1"))
    assert Product.objects.count() == 0


@pytest.mark.parametrize(
    ("confidence", "status", "filed"),
    [
        (0.95, Product.Status.CLASSIFIED, True),
        (0.6, Product.Status.CLASSIFIED, True),
        (0.59, Product.Status.NEEDS_REVIEW, False),
    ],
)
def test_threshold_decides_between_filing_and_review(photo_bytes, confidence, status, filed):
    product = make_product(photo_bytes, classify=False)
    services.product_apply_prediction(
        product=product,
        label=1,
        confidence=confidence,
        probabilities=[0.0] * 10,
        model_version="v",
        threshold=0.6,
    )
    product.refresh_from_db()
    assert product.classification_status == status
    assert (product.category == Category.objects.get(classifier_label=1)) is filed
    assert product.predicted_label == 1  # the suggestion is kept either way


def test_a_confident_hat_waits_for_review_the_store_has_no_category_for_it(photo_bytes):
    product = make_product(photo_bytes, classify=False)
    services.product_apply_prediction(
        product=product,
        label=10,  # "Hat": learned from photos, no store category
        confidence=0.97,
        probabilities=[0.0] * 10 + [0.97, 0.02, 0.01],
        model_version="v",
        threshold=0.6,
    )
    product.refresh_from_db()
    assert product.classification_status == Product.Status.NEEDS_REVIEW
    assert product.category is None and product.predicted_label == 10


def test_default_threshold_is_the_served_models_calibrated_one(settings):
    from classifier import predictor

    settings.PERCHA = {**settings.PERCHA, "CONFIDENCE_THRESHOLD": None}
    served = predictor.load(str(settings.PERCHA["MODEL_PATH"]))
    assert services.confidence_threshold() == served.threshold
    settings.PERCHA = {**settings.PERCHA, "CONFIDENCE_THRESHOLD": 0.8}
    assert services.confidence_threshold() == 0.8


def test_a_persons_category_is_never_overwritten(photo_bytes):
    bags = Category.objects.get(slug="bolsos")
    product = make_product(photo_bytes, category=bags, classify=False)
    services.product_apply_prediction(
        product=product, label=1, confidence=0.99, probabilities=[0.0] * 10, model_version="v"
    )
    product.refresh_from_db()
    assert product.category == bags and product.category_source == Product.CategorySource.PERSON
    assert product.predicted_label == 1


def test_accept_suggestion_files_under_the_predicted_category(photo_bytes):
    product = make_product(photo_bytes, classify=False)
    services.product_apply_prediction(
        product=product, label=3, confidence=0.2, probabilities=[0.0] * 10, model_version="v"
    )
    services.product_accept_suggestion(product=product)
    product.refresh_from_db()
    assert product.category.slug == "vestidos"
    assert product.category_source == Product.CategorySource.PERSON
    assert product.classification_status == Product.Status.CLASSIFIED
