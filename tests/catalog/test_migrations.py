"""Data migrations run on a real database: what they compute for the products already there."""

from __future__ import annotations

import hashlib
import importlib

import pytest
from django.apps import apps

from catalog.models import Product
from tests.catalog.factories import make_product

pytestmark = pytest.mark.django_db


def test_products_stored_before_the_digest_get_their_photos_digest(photo_bytes):
    migration = importlib.import_module("catalog.migrations.0005_product_photo_sha256")
    product = make_product(photo_bytes)
    gone = make_product(photo_bytes, name="Sin foto")
    Product.objects.update(photo_sha256="")  # as they were before the migration
    gone.image.delete(save=False)  # a photo missing from the storage: left blank, no error

    migration.digest_stored_photos(apps, None)

    product.refresh_from_db()
    gone.refresh_from_db()
    assert product.photo_sha256 == hashlib.sha256(photo_bytes).hexdigest()
    assert gone.photo_sha256 == ""
