"""Products made through the real service, for the catalog tests (not classified unless asked)."""

from __future__ import annotations

from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import services
from catalog.models import Category, Product


def make_product(
    photo_bytes: bytes,
    name: str = "Pantalón",
    category: Category | None = None,
    price: Decimal = Decimal("10"),
    **kwargs,
) -> Product:
    return services.product_create(
        name=name,
        image=SimpleUploadedFile(f"{name}.jpg", photo_bytes, content_type="image/jpeg"),
        price=price,
        category=category,
        classify=kwargs.pop("classify", False),
        **kwargs,
    )
