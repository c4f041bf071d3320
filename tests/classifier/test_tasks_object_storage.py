"""Photos in S3-compatible object storage: the worker reads them through Django's storage API.

A local S3-compatible server (moto's, a real HTTP server process) stands in for the shop's
bucket; nothing in the classification path may touch a local file path.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from decimal import Decimal

import boto3
import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import services
from catalog.models import Product
from classifier import tasks

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
BUCKET = "percha-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    yield endpoint
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def s3_storage(s3_endpoint, settings, monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket=BUCKET
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": BUCKET, "endpoint_url": s3_endpoint},
        },
    }
    storages._storages.pop("default", None)  # the handler caches backends; rebuild with ours
    yield storages["default"]
    storages._storages.pop("default", None)


def test_worker_classifies_a_photo_that_lives_in_the_bucket(s3_storage, photo_bytes, settings):
    settings.MEDIA_ROOT = "/nonexistent"  # any local-path access would fail loudly
    product = services.product_create(
        name="Pantalón",
        image=SimpleUploadedFile("p.jpg", photo_bytes, content_type="image/jpeg"),
        price=Decimal("10"),
        classify=False,
    )
    assert s3_storage.exists(product.image.name) and s3_storage.exists(product.thumbnail.name)
    tasks.classify_products.apply(args=[[product.pk]]).get()
    product.refresh_from_db()
    assert product.classification_status in (Product.Status.CLASSIFIED, Product.Status.NEEDS_REVIEW)
    assert product.image.url.startswith(settings.STORAGES["default"]["OPTIONS"]["endpoint_url"])
