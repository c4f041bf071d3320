"""Data migrations run on a real database: what they compute for the products already there."""

from __future__ import annotations

import hashlib
import importlib
import unicodedata

import pytest
from django.apps import apps
from PIL import Image

from catalog.models import Product
from tests.catalog.factories import make_product
from tests.photo_files import exif_rotated_jpeg, large_photo, portrait_photo

pytestmark = pytest.mark.django_db


def test_large_photos_stored_before_get_a_copy_for_the_product_page(photo_bytes):
    migration = importlib.import_module("catalog.migrations.0006_product_display")
    large = make_product(large_photo(photo_bytes), name="Grande")
    small = make_product(photo_bytes, name="Pequeña")
    gone = make_product(large_photo(photo_bytes), name="Sin foto")
    Product.objects.update(display="")  # as they were before the migration
    gone.image.delete(save=False)

    migration.make_display_photos(apps, None)

    large, small, gone = (Product.objects.get(pk=p.pk) for p in (large, small, gone))
    assert large.display.name.endswith(".webp") and max(Image.open(large.display).size) == 1200
    assert small.display.name == "" and gone.display.name == ""


def test_products_stored_before_get_the_size_of_their_pages_photo(photo_bytes):
    migration = importlib.import_module("catalog.migrations.0009_product_photo_size")
    large = make_product(large_photo(photo_bytes), name="Grande")
    turned = make_product(exif_rotated_jpeg(portrait_photo(photo_bytes)), name="De lado")
    gone = make_product(photo_bytes, name="Sin foto")
    made = {p.pk: (p.photo_width, p.photo_height) for p in (large, turned, gone)}
    Product.objects.update(photo_width=None, photo_height=None)  # as before the migration
    gone.image.delete(save=False)

    migration.fill_photo_sizes(apps, None)

    large, turned, gone = (Product.objects.get(pk=p.pk) for p in (large, turned, gone))
    assert (large.photo_width, large.photo_height) == made[large.pk]
    assert max(made[large.pk]) == 1200  # the copy's size, not the original's
    assert (turned.photo_width, turned.photo_height) == made[turned.pk]
    assert turned.photo_width < turned.photo_height  # upright: a portrait, as it was taken
    assert gone.photo_width is None and gone.photo_height is None


def test_names_from_macos_file_names_are_composed(photo_bytes):
    migration = importlib.import_module("catalog.migrations.0007_product_names_composed")
    product = make_product(photo_bytes, name="Pantalón")
    decomposed = unicodedata.normalize("NFD", "Pantalón chándal")
    Product.objects.filter(pk=product.pk).update(name=decomposed, description=decomposed)

    migration.compose_texts(apps, None)

    product.refresh_from_db()
    assert product.name == product.description == "Pantalón chándal"
    assert len(product.name) == len("Pantalón chándal")


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
