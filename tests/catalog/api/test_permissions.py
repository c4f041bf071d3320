"""Who may do what: every endpoint and method for each kind of caller, and CSRF on sessions.

Every client enforces CSRF; the session clients send a valid token, so a 403 below comes from the
permission, not from CSRF (checked by its message).
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from catalog.models import Product
from tests.catalog.api.conftest import ENGLISH

pytestmark = pytest.mark.django_db

CALLERS = ("anonymous", "customer", "staff_session", "staff_token")
READ = (200, 200, 200, 200)
STAFF_READ = (404, 404, 200, 200)  # hidden products: not found unless staff
WRITE = (401, 403, 200, 200)
ACCEPTED = (401, 403, 202, 202)
NOT_ALLOWED = (401, 403, 405, 405)

# (method, url template, body kind, expected codes per caller)
MATRIX = [
    ("get", "/api/categories/", None, READ),
    ("post", "/api/categories/", "json", NOT_ALLOWED),
    ("get", "/api/categories/calzado/", None, READ),
    ("delete", "/api/categories/calzado/", None, NOT_ALLOWED),
    ("get", "/api/products/", None, READ),
    ("post", "/api/products/", "upload", ACCEPTED),
    ("get", "/api/products/{shown}/", None, READ),
    ("get", "/api/products/{hidden}/", None, STAFF_READ),
    ("patch", "/api/products/{shown}/", "edit", WRITE),
    ("patch", "/api/products/{hidden}/", "edit", (401, 403, 200, 200)),
    ("put", "/api/products/{shown}/", "edit", NOT_ALLOWED),
    ("delete", "/api/products/{shown}/", None, NOT_ALLOWED),
    ("get", "/api/products/{shown}/status/", None, READ),
    ("get", "/api/products/{hidden}/status/", None, STAFF_READ),
    ("post", "/api/products/{shown}/status/", None, NOT_ALLOWED),
    ("post", "/api/products/{hidden}/category/", "category", WRITE),
    ("get", "/api/products/{hidden}/category/", None, (405, 405, 405, 405)),
    ("post", "/api/products/{hidden}/reclassify/", None, ACCEPTED),
    ("post", "/api/products/{hidden}/accept-suggestion/", None, WRITE),
    ("post", "/api/classify/", "photo", READ),
    ("get", "/api/classify/", None, (405, 405, 405, 405)),
    ("get", "/api/schema/", None, READ),
    ("get", "/api/docs/", None, READ),
]


def body(kind: str | None, photo_bytes: bytes) -> dict:
    image = SimpleUploadedFile("foto.jpg", photo_bytes, content_type="image/jpeg")
    return {
        None: {},
        "json": {"format": "json", "data": {"slug": "nueva"}},
        "upload": {"format": "multipart", "data": {"name": "n", "price": "1", "image": image}},
        "edit": {"format": "json", "data": {"price": "3.00"}},
        "category": {"format": "json", "data": {"category": "bolsos"}},
        "photo": {"format": "multipart", "data": {"image": image}},
    }[kind]


@pytest.fixture
def products(make_product) -> dict[str, int]:
    hidden = make_product(
        None, classification_status=Product.Status.NEEDS_REVIEW, predicted_label=8, confidence=0.2
    )
    return {"shown": make_product("pantalones").pk, "hidden": hidden.pk}


@pytest.mark.parametrize(("caller", "index"), [(c, i) for i, c in enumerate(CALLERS)])
@pytest.mark.parametrize(
    ("method", "url", "kind", "codes"),
    MATRIX,
    ids=[f"{m.upper()} {u}" for m, u, _, _ in MATRIX],
)
def test_permission_matrix(
    clients, products, photo_bytes, django_capture_on_commit_callbacks,
    caller, index, method, url, kind, codes,
):  # fmt: skip
    client = clients[caller]
    with django_capture_on_commit_callbacks(execute=False):  # no model runs for uploads here
        response = getattr(client, method)(url.format(**products), **body(kind, photo_bytes))

    assert response.status_code == codes[index], response.content[:300]
    if response.status_code == 401:
        assert response["WWW-Authenticate"] == "Token"
    if response.status_code == 403:
        assert "staff" in response.json()["detail"]  # the permission speaks, not CSRF


def test_non_staff_writes_change_nothing(anon_client, customer_client, products, photo_bytes):
    for client in (anon_client, customer_client):
        client.post("/api/products/", **body("upload", photo_bytes))
        client.patch(f"/api/products/{products['shown']}/", **body("edit", photo_bytes))
        client.post(f"/api/products/{products['hidden']}/category/", **body("category", b""))
        client.post(f"/api/products/{products['hidden']}/accept-suggestion/")

    assert Product.objects.count() == 2
    assert Product.objects.get(pk=products["shown"]).price == 10
    assert Product.objects.get(pk=products["hidden"]).category is None


def test_session_writes_need_the_csrf_token(staff, products):
    client = APIClient(enforce_csrf_checks=True, **ENGLISH)
    client.force_login(staff)
    url = f"/api/products/{products['hidden']}/category/"

    response = client.post(url, {"category": "bolsos"}, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert Product.objects.get(pk=products["hidden"]).category is None
    assert client.get(url.replace("category/", "")).status_code == 200  # reads need no token


def test_token_writes_need_no_csrf_token(token_client, products):
    response = token_client.post(
        f"/api/products/{products['hidden']}/category/", {"category": "bolsos"}, format="json"
    )
    assert response.status_code == 200


def test_anonymous_classify_needs_no_csrf_token(anon_client, photo_bytes):
    assert anon_client.post("/api/classify/", **body("photo", b"x")).status_code == 400


def test_a_wrong_token_is_401(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Token nope")
    response = anon_client.get("/api/products/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
