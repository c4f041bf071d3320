"""The Celery task run in-process: idempotent, fails without retry on a bad photo."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import services
from catalog.models import Product
from classifier import tasks
from classifier.predictor import ModelUnavailable

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(photo_bytes):
    image = SimpleUploadedFile("p.jpg", photo_bytes, content_type="image/jpeg")
    return services.product_create(name="Pantalón", image=image, price=Decimal("9"), classify=False)


def test_classifies_pending_products_and_records_the_model_version(product):
    outcome = tasks.classify_products.apply(args=[[product.pk]]).get()
    product.refresh_from_db()
    assert outcome == {"classified": 1, "failed": 0, "skipped": 0}
    assert product.classification_status in (Product.Status.CLASSIFIED, Product.Status.NEEDS_REVIEW)
    assert product.model_version and product.classified_at is not None


def test_a_second_delivery_changes_nothing(product):
    tasks.classify_products.apply(args=[[product.pk]]).get()
    product.refresh_from_db()
    before = (product.classified_at, product.classification_status, product.category_id)
    outcome = tasks.classify_products.apply(args=[[product.pk]]).get()
    product.refresh_from_db()
    assert outcome == {"classified": 0, "failed": 0, "skipped": 1}
    assert (product.classified_at, product.classification_status, product.category_id) == before


def test_unreadable_photo_fails_at_once_with_the_reason_kept(product):
    with product.image.open("wb") as fh:  # damaged on disk after the upload
        fh.write(b"garbage")
    result = tasks.classify_products.apply(args=[[product.pk]])
    product.refresh_from_db()
    assert result.successful()  # no retry for a photo that will never be readable
    assert product.classification_status == Product.Status.FAILED
    assert "no es una imagen" in product.classification_error  # the shop's language


def test_missing_photo_fails_without_retry_and_drops_the_earlier_answer(product):
    product.predicted_label, product.confidence, product.probabilities = 3, 0.4, [0.1] * 10
    product.save()  # an answer from before the photo went missing
    product.image.storage.delete(product.image.name)
    tasks.classify_products.apply(args=[[product.pk]]).get()
    product.refresh_from_db()
    assert product.classification_status == Product.Status.FAILED
    assert product.classification_error == "el archivo de la foto ya no está en el almacenamiento"
    assert (product.predicted_label, product.confidence, product.probabilities) == (None,) * 3


def test_missing_model_is_retried_and_the_product_waits_pending(product, settings, tmp_path):
    SERVED_MODEL = settings.PERCHA["MODEL_PATH"]
    settings.PERCHA = {**settings.PERCHA, "MODEL_PATH": tmp_path / "missing.tflite"}
    result = tasks.classify_products.apply(args=[[product.pk]])
    product.refresh_from_db()
    # in-process, Celery runs the retries at once until max_retries, then gives up
    assert isinstance(result.result, ModelUnavailable)
    assert tasks.classify_products.max_retries == 8 and ModelUnavailable in tasks.TRANSIENT
    assert product.classification_status == Product.Status.PENDING  # not failed one by one
    # and it says why, in the shop's language, to the staff polling its status
    assert product.classification_error.startswith("Esperando al modelo")
    assert "missing.tflite" in product.classification_error

    settings.PERCHA = {**settings.PERCHA, "MODEL_PATH": SERVED_MODEL}  # the model is back
    tasks.classify_products.apply(args=[[product.pk]]).get()
    product.refresh_from_db()
    assert product.classification_status != Product.Status.PENDING
    assert product.classification_error == ""


def test_classify_pending_requeues_pending_and_failed(product, django_capture_on_commit_callbacks):
    Product.objects.filter(pk=product.pk).update(classification_status=Product.Status.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.classify_pending.apply().get() == 1
    product.refresh_from_db()
    assert product.classification_status != Product.Status.PENDING
