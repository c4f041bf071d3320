"""The catalog's write rules: create, apply a prediction, review, a person's choice stands."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from PIL import Image

from catalog import selectors, services
from catalog.models import Category, Product
from classifier import predictor
from tests.conftest import SERVED_CLASSES
from tests.on_commit import tasks
from tests.photo_files import another_photo, exif_rotated_jpeg, large_photo, portrait_photo

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


def test_a_large_photo_gets_a_smaller_copy_for_the_product_page(photo_bytes):
    """A phone's 12 MP photo weighs megabytes; the product page shows a WebP of 1200 px at
    most. A photo already that small has none: it is shown as it is."""
    large = make_product(large_photo(photo_bytes, side=4000), name="Grande")
    small = make_product(photo_bytes, name="Pequeña")
    with Image.open(large.display) as display:
        assert display.format == "WEBP" and max(display.size) == 1200
    assert large.display.size < large.image.size / 5
    assert not small.display


def test_the_size_of_the_product_pages_photo_is_kept_upright(photo_bytes):
    """What the page's <img width height> say: the copy's size for a large photo, the photo's
    own for a small one, and turned as the phone said for one stored sideways."""
    large = make_product(large_photo(photo_bytes, side=4000), name="Grande")
    small = make_product(portrait_photo(photo_bytes), name="Pequeña")
    turned = make_product(exif_rotated_jpeg(portrait_photo(photo_bytes)), name="De lado")
    with Image.open(large.display) as display:
        assert (large.photo_width, large.photo_height) == display.size
    with Image.open(small.image) as image:
        assert (small.photo_width, small.photo_height) == image.size
        upright = image.size
    with Image.open(turned.image) as stored:
        assert stored.size == upright[::-1] != upright  # the pixels lie on their side
    assert (turned.photo_width, turned.photo_height) == upright


def test_naming_a_camera_named_product_gives_it_an_address_by_its_name(photo_bytes):
    """Kept hidden until someone names it, it should not go on sale at /p/img-2041/."""
    product = make_product(photo_bytes, name="IMG 2041", is_published=False)
    assert product.slug == "img-2041"
    services.product_update(product=product, data={"name": "Jersey de rombos"})
    product.refresh_from_db()
    assert product.slug == "jersey-de-rombos"
    services.product_update(product=product, data={"name": "Jersey de rombos azul"})
    assert product.slug == "jersey-de-rombos"  # a person's name: its address stays


def test_a_published_products_address_never_changes(photo_bytes):
    """Links to it may be shared already, camera name or not."""
    product = make_product(photo_bytes, name="IMG 2042")
    assert product.is_published and product.slug == "img-2042"
    services.product_update(product=product, data={"name": "Falda plisada"})
    assert Product.objects.get(pk=product.pk).slug == "img-2042"


def test_deleting_products_removes_their_photo_files_once_committed(
    photo_bytes, django_capture_on_commit_callbacks
):
    large = make_product(large_photo(photo_bytes), name="Grande")
    small = make_product(photo_bytes, name="Pequeña")
    kept = make_product(photo_bytes, name="Queda")
    files = [f for p in (large, small) for f in (p.image, p.thumbnail, p.display) if f.name]
    assert len(files) == 5 and all(f.storage.exists(f.name) for f in files)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert services.products_delete(products=[large, small]) == 2
    assert all(f.storage.exists(f.name) for f in files)  # a rollback would still find them
    for callback in callbacks:
        callback()
    assert not any(f.storage.exists(f.name) for f in files)
    assert list(Product.objects.all()) == [kept] and kept.image.storage.exists(kept.image.name)


def test_the_summary_of_a_batch_says_where_its_products_went(photo_bytes):
    """Said to whoever made them: at work, waiting for a model that cannot load, or where."""
    products = [make_product(another_photo(photo_bytes, q), name=f"P{q}") for q in (60, 70, 80)]
    ids = [p.pk for p in products]
    with translation.override("en"):
        assert selectors.classification_summary(ids) == "The model is filing them."
        Product.objects.filter(pk__in=ids).update(classification_error="model file not found")
        assert selectors.classification_summary(ids).startswith("The model could not be loaded")
        statuses = [Product.Status.CLASSIFIED, Product.Status.NEEDS_REVIEW, Product.Status.FAILED]
        for product, status in zip(products, statuses, strict=True):
            Product.objects.filter(pk=product.pk).update(classification_status=status)
        assert selectors.classification_summary(ids) == (
            "The model filed 1; 1 waits in the review queue; 1 could not be read."
        )


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


def _footwear(photo_bytes: bytes, label: int = 5) -> Product:
    product = make_product(photo_bytes, classify=False)
    probabilities = [0.01] * 13
    probabilities[label] = 0.88
    services.product_apply_prediction(
        product=product,
        label=label,
        confidence=0.88,
        probabilities=probabilities,
        model_version="v",
        threshold=0.6,
    )
    product.refresh_from_db()
    return product


@pytest.mark.parametrize("label", [5, 7, 9])
def test_footwear_is_filed_under_calzado_the_photos_never_told_the_three_apart(photo_bytes, label):
    """The served card says sandal, sneaker and ankle boot were learned and measured on photos
    only as one group (clothing-photos has one "shoes" folder): the threshold's precision is the
    group's, so the product goes under their common parent, with the class kept as suggestion."""
    assert frozenset({5, 7, 9}) in predictor.card_groups(predictor.load().card)
    product = _footwear(photo_bytes, label)
    assert product.category.slug == "calzado"
    assert product.category_source == Product.CategorySource.MODEL
    assert product.classification_status == Product.Status.CLASSIFIED
    assert product.predicted_label == label


def test_accepting_a_footwear_suggestion_files_it_under_calzado(photo_bytes):
    """ "Sandalias 48%" for a boot: accepting what the model said is accepting "footwear"."""
    product = make_product(photo_bytes, classify=False)
    services.product_apply_prediction(
        product=product, label=9, confidence=0.48, probabilities=[0.0] * 13,
        model_version="v", threshold=0.6,
    )  # fmt: skip
    product.refresh_from_db()
    services.product_accept_suggestion(product=product)
    product.refresh_from_db()
    assert product.category.slug == "calzado"
    assert product.category_source == Product.CategorySource.PERSON


def test_a_product_without_a_price_is_never_published(photo_bytes):
    product = services.product_create(name="Gorro", image=upload(photo_bytes), price=Decimal("0"))
    assert not product.is_published  # 0 typed in is no price either
    assert services.products_set_published(products=[product], published=True) == 0
    product.refresh_from_db()
    assert not product.is_published
    with translation.override("en"), pytest.raises(ValidationError, match="price above 0"):
        services.product_update(product=product, data={"is_published": True})
    services.product_update(product=product, data={"price": Decimal("12"), "is_published": True})
    product.refresh_from_db()
    assert product.is_published and product.price == Decimal("12")


def test_a_group_without_one_common_parent_files_by_class(photo_bytes):
    Category.objects.filter(slug="sandalias").update(parent=None)  # a shop's own tree
    assert _footwear(photo_bytes, 5).category.slug == "sandalias"
    assert _footwear(photo_bytes, 7).category.slug == "zapatillas"  # its own, not Calzado


def test_a_model_without_groups_files_footwear_by_class(photo_bytes, settings, tmp_path):
    shutil.copy(predictor.ARTIFACTS_DIR / "model.tflite", tmp_path / "model.tflite")
    card = json.loads((predictor.ARTIFACTS_DIR / "model_card.json").read_text())
    del card["calibration"]["groups"]
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    settings.PERCHA = {**settings.PERCHA, "MODEL_PATH": str(tmp_path / "model.tflite")}
    assert _footwear(photo_bytes, 9).category.slug == "botines"


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


@dataclasses.dataclass
class Answer:
    label: int
    confidence: float
    probabilities: list[float] = dataclasses.field(default_factory=lambda: [0.0] * 10)
    model_version: str = "v"


def test_a_batch_is_decided_as_one_product_at_a_time(photo_bytes):
    bags = Category.objects.get(slug="bolsos")
    confident, unsure, persons = (make_product(photo_bytes, classify=False) for _ in range(3))
    services.product_set_category(product=persons, category=bags)
    before = Product.objects.get(pk=confident.pk).updated_at
    written = services.products_apply_predictions(
        predictions={
            confident.pk: Answer(label=1, confidence=0.9),
            unsure.pk: Answer(label=1, confidence=0.3),
            persons.pk: Answer(label=1, confidence=0.99),
        },
        threshold=0.6,
    )
    assert written == 3
    confident, unsure, persons = [
        Product.objects.get(pk=p.pk) for p in (confident, unsure, persons)
    ]
    assert confident.category.classifier_label == 1
    assert confident.category_source == Product.CategorySource.MODEL
    assert confident.classification_status == Product.Status.CLASSIFIED
    assert confident.updated_at > before and confident.classified_at is not None
    assert unsure.category is None and unsure.classification_status == Product.Status.NEEDS_REVIEW
    assert persons.category == bags and persons.classification_status == Product.Status.CLASSIFIED
    assert [p.predicted_label for p in (confident, unsure, persons)] == [1, 1, 1]


def test_a_batch_writes_only_products_still_pending(photo_bytes):
    done, pending = (make_product(photo_bytes, classify=False) for _ in range(2))
    services.product_apply_prediction(
        product=done, label=3, confidence=0.9, probabilities=[0.0] * 10, model_version="first"
    )
    gone = make_product(photo_bytes, classify=False)
    gone_pk = gone.pk
    gone.delete()
    written = services.products_apply_predictions(
        predictions={
            pk: Answer(label=1, confidence=0.9, model_version="second")
            for pk in (done.pk, pending.pk, gone_pk)
        },
        threshold=0.6,
    )
    assert written == 1  # another delivery did the first; the third was deleted meanwhile
    assert Product.objects.get(pk=done.pk).model_version == "first"
    assert Product.objects.get(pk=pending.pk).model_version == "second"


def test_a_batch_is_one_transaction_with_one_update_a_product(photo_bytes):
    products = [make_product(photo_bytes, classify=False) for _ in range(12)]

    def statements(batch: list[Product]) -> list[str]:
        answers = {p.pk: Answer(label=i % 10, confidence=0.9) for i, p in enumerate(batch)}
        with CaptureQueriesContext(connection) as queries:
            assert services.products_apply_predictions(predictions=answers, threshold=0.6)
        return [q["sql"].split()[0] for q in queries.captured_queries]

    small, large = statements(products[:2]), statements(products[2:])
    # the categories and the locked rows are read once, whatever the batch's size
    assert small.count("SELECT") == large.count("SELECT") == 2
    assert (small.count("UPDATE"), large.count("UPDATE")) == (2, 10)
    assert large.count("SAVEPOINT") <= 1  # one transaction (a savepoint inside the test's)


def test_reclassified_products_are_not_queued_again_by_the_periodic_run(
    photo_bytes, django_capture_on_commit_callbacks
):
    product = make_product(photo_bytes, classify=False)
    services.product_apply_prediction(
        product=product, label=1, confidence=0.9, probabilities=[0.0] * 10, model_version="v"
    )
    Product.objects.filter(pk=product.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    services.products_reclassify(products=[product])
    assert Product.objects.get(pk=product.pk).classification_status == Product.Status.PENDING
    # beat's run leaves products changed within the last minutes: their task is on its way
    with django_capture_on_commit_callbacks(execute=False):
        assert services.products_queue_pending(older_than=timedelta(minutes=5)) == 0
        assert services.products_queue_pending() == 1
