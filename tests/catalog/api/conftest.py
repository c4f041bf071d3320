"""API fixtures: one client per kind of caller, and products made without touching the model."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils.crypto import get_random_string
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.cache import catalog_changed
from catalog.models import Category, Product

_serial = itertools.count(1)
# Messages are asserted in English; the shop's default language is Spanish.
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def make_product(db):
    """A product row as the worker leaves it (filed by the model, published) unless told otherwise.

    The image name is never opened by the API, so no file is written: fast enough for pages of 50.
    """

    def make(category: str | None = "pantalones", **fields) -> Product:
        n = next(_serial)
        defaults = {
            "name": f"Producto {n}",
            "slug": f"producto-{n}",
            "price": Decimal("10.00"),
            "image": f"products/test/{n}.jpg",
            "thumbnail": f"thumbnails/test/{n}.webp",
            "category": Category.objects.get(slug=category) if category else None,
            "category_source": Product.CategorySource.MODEL if category else "",
            "classification_status": Product.Status.CLASSIFIED,
            "is_published": True,
        }
        product = Product.objects.create(**{**defaults, **fields})
        catalog_changed()  # a row written around the services: the store's cache must hear of it
        return product

    return make


def _session_client(user) -> APIClient:
    """A browser-like client: session cookie, CSRF enforced, and the CSRF token sent back."""
    client = APIClient(enforce_csrf_checks=True, **ENGLISH)
    client.force_login(user)
    token = get_random_string(32)
    client.cookies["csrftoken"] = token
    client.credentials(HTTP_X_CSRFTOKEN=token)
    return client


@pytest.fixture
def customer(db):
    return get_user_model().objects.create_user("cliente", password="x", is_staff=False)


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("tienda", password="x", is_staff=True)


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient(enforce_csrf_checks=True, **ENGLISH)


@pytest.fixture
def customer_client(customer) -> APIClient:
    return _session_client(customer)


@pytest.fixture
def staff_client(staff) -> APIClient:
    return _session_client(staff)


@pytest.fixture
def token_client(staff) -> APIClient:
    client = APIClient(enforce_csrf_checks=True, **ENGLISH)
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
    return client


@pytest.fixture
def clients(anon_client, customer_client, staff_client, token_client) -> dict[str, APIClient]:
    return {
        "anonymous": anon_client,
        "customer": customer_client,
        "staff_session": staff_client,
        "staff_token": token_client,
    }
