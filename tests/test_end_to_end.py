"""Upload through the API → a real Celery worker on real Redis and PostgreSQL files the product."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from catalog import selectors
from catalog.models import Product
from classifier import classify_image
from shop.celery import app as celery_app
from tests.conftest import render_as_photo
from tests.real_services import Worker, forget_connections, use_real_broker

pytestmark = [
    pytest.mark.slow,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def worker(tmp_path, settings):
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    saved = use_real_broker(celery_app)
    process = Worker(media, tmp_path / "worker.log")
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()
        celery_app.conf.update(saved)
        forget_connections(celery_app)


@pytest.fixture
def staff_client():
    user = get_user_model().objects.create_user("staff", password="pw", is_staff=True)
    client = APIClient()
    client.force_authenticate(user)
    return client


def wait_until_classified(ids: list[int], timeout: float = 90) -> list[Product]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        products = list(Product.objects.filter(pk__in=ids).select_related("category"))
        if all(p.classification_status != Product.Status.PENDING for p in products):
            return products
        time.sleep(0.2)
    raise TimeoutError("products still pending")


def test_uploaded_photos_are_filed_by_the_worker(worker, staff_client, fashion_test_set):
    images, labels = fashion_test_set
    ids, expected, photos = [], {}, []
    for i in range(20):  # the first 20 test images, unselected (every class appears)
        photo = render_as_photo(images[i])
        photos.append(photo)
        response = staff_client.post(
            "/api/products/",
            {"name": f"Prenda {i}", "price": "10.00", "image": _upload(photo, f"{i}.jpg")},
            format="multipart",
        )
        assert response.status_code == 202, response.content
        assert response.json()["classification_status"] == "pending"
        ids.append(response.json()["id"])
        expected[response.json()["id"]] = int(labels[i])

    try:
        products = wait_until_classified(ids)
    except TimeoutError:
        pytest.fail(f"the worker did not classify the products:\n{worker.log()[-3000:]}")
    # the worker's answer is the store's own answer for the same photo, to the digit
    by_id = {p.pk: p for p in products}
    for pk, photo in zip(ids, photos, strict=True):
        own, filed = classify_image(photo), by_id[pk]
        assert (filed.predicted_label, filed.model_version) == (own.label, own.model_version)
        assert abs(filed.confidence - own.confidence) < 1e-4
    # where the store files each true class (a sandal, a sneaker, an ankle boot: Calzado, the
    # category the served card's footwear group shares)
    filing = selectors.filing_categories(set(expected.values()))
    right = [p for p in products if p.category and p.category == filing.get(expected[p.pk])]
    assert any(p.category and p.category.slug == "calzado" for p in right)
    # and nothing on the way garbles the photos: most are filed under the right category (a
    # wrong or an unsure answer both count against it; chance is 1 in 10). The model's own
    # accuracy is held to its targets on the whole test set and on real photos elsewhere; on
    # these 20 the served model files 17, the one before it 18.
    assert len(right) >= 16, [(p.name, p.predicted_label, p.confidence) for p in products]
    assert all(p.model_version for p in products)
    assert "classifier.tasks.classify_products" in worker.log()  # done by the worker


def _upload(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/jpeg")
