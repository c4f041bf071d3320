"""Who may do what: every endpoint and method for each kind of caller, and CSRF on sessions.

Every client enforces CSRF; the session clients send a valid token, so a 403 below comes from the
permission, not from CSRF (checked by its message).
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
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
    ("delete", "/api/products/{shown}/", None, (401, 403, 204, 204)),
    ("delete", "/api/products/{hidden}/", None, (401, 403, 204, 204)),
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


# --- every method on every endpoint ------------------------------------------------------------

METHODS = ("get", "head", "options", "post", "put", "patch", "delete")
ENDPOINTS = sorted(
    {url for _, url, _, _ in MATRIX if not url.startswith("/api/schema")} - {"/api/docs/"}
)
OPEN_TO_ALL = {"/api/classify/"}  # AllowAny: a wrong method is 405 for everyone


def expected(method: str, url: str) -> tuple[tuple[int, ...], str | None]:
    """The codes per caller for any method: the MATRIX where it names the pair, else the rule."""
    rows = {(m, u): (codes, kind) for m, u, kind, codes in MATRIX}
    if (method, url) in rows:
        codes, kind = rows[(method, url)]
        return codes, kind
    if method == "head" and ("get", url) in rows:
        codes, _ = rows[("get", url)]
        return codes, None
    if method == "options":
        return (200, 200, 200, 200), None  # what the endpoint accepts, never data
    if method in ("get", "head") or url in OPEN_TO_ALL:
        return (405, 405, 405, 405), None
    return NOT_ALLOWED, "json"  # a write: the permission answers before the method check


def test_the_matrix_names_every_operation_of_the_schema():
    """A new endpoint or method fails here until its row is added to MATRIX."""
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(public=True)["paths"]
    documented = {(m, p) for p, ops in paths.items() for m in ops if m in METHODS}
    templates = {
        "/api/categories/calzado/": "/api/categories/{slug}/",
        "/api/products/{shown}/": "/api/products/{id}/",
        "/api/products/{hidden}/": "/api/products/{id}/",
    }
    covered = set()
    for method, url, _, codes in MATRIX:
        template = templates.get(url, url.replace("{shown}", "{id}").replace("{hidden}", "{id}"))
        if codes[3] != 405:
            covered.add((method, template))
    assert documented <= covered, sorted(documented - covered)


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("method", METHODS)
def test_every_method_on_every_endpoint(
    clients, products, photo_bytes, django_capture_on_commit_callbacks, method, url
):
    codes, kind = expected(method, url)
    for index, caller in enumerate(CALLERS):
        # each caller on the same rows: one caller's DELETE is undone before the next asks
        with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
            response = getattr(clients[caller], method)(
                url.format(**products), **body(kind, photo_bytes)
            )
            transaction.set_rollback(True)
        assert response.status_code == codes[index], (caller, response.content[:300])
        if method == "head":
            assert response.content == b""
        if response.status_code == 403:
            assert "staff" in response.json()["detail"]


# --- the admin ---------------------------------------------------------------------------------

ADMIN_PAGES = [
    ("admin:index", False),
    ("admin:catalog_product_changelist", False),
    ("admin:catalog_product_add", False),
    ("admin:catalog_product_change", True),
    ("admin:catalog_product_delete", True),
    ("admin:catalog_product_history", True),
    ("admin:catalog_product_bulk_upload", False),
    ("admin:catalog_productreview_changelist", False),
    ("admin:catalog_productreview_change", True),
    ("admin:catalog_category_changelist", False),
    ("admin:catalog_category_add", False),
    ("admin:authtoken_tokenproxy_changelist", False),
    ("admin:auth_user_changelist", False),
]


@pytest.fixture
def admin_callers(django_user_model) -> dict[str, APIClient]:
    """Anonymous, a customer, staff without permissions, a superuser: session clients."""
    customer = django_user_model.objects.create_user("c", password="x")
    clerk = django_user_model.objects.create_user("s", password="x", is_staff=True)
    boss = django_user_model.objects.create_superuser("b", password="x")
    callers = {"anonymous": APIClient(**ENGLISH)}
    for name, user in (("customer", customer), ("staff_no_perms", clerk), ("superuser", boss)):
        callers[name] = APIClient(**ENGLISH)
        callers[name].force_login(user)
    return callers


@pytest.mark.parametrize(("name", "needs_pk"), ADMIN_PAGES, ids=[p for p, _ in ADMIN_PAGES])
def test_admin_pages_are_for_staff_with_permission_only(admin_callers, products, name, needs_pk):
    from django.urls import reverse

    url = reverse(name, args=[products["hidden"]] if needs_pk else [])
    codes = {caller: client.get(url).status_code for caller, client in admin_callers.items()}
    assert codes["anonymous"] == codes["customer"] == 302  # to the login page
    assert codes["staff_no_perms"] == (200 if name == "admin:index" else 403)
    assert codes["superuser"] == 200
    login = admin_callers["customer"].get(url)
    assert login.url.startswith("/admin/login/")


def test_admin_writes_need_the_csrf_token(django_user_model, products):
    from django.urls import reverse

    boss = django_user_model.objects.create_superuser("b", password="x")
    client = APIClient(enforce_csrf_checks=True, **ENGLISH)
    client.force_login(boss)
    url = reverse("admin:catalog_product_change", args=[products["shown"]])

    response = client.post(url, {"name": "Hacked", "price": "0"})

    assert response.status_code == 403 and b"CSRF" in response.content
    assert Product.objects.get(pk=products["shown"]).name != "Hacked"


def test_anonymous_admin_posts_create_nothing(anon_client, photo_bytes):
    from django.urls import reverse

    image = SimpleUploadedFile("foto.jpg", photo_bytes, content_type="image/jpeg")
    for name in ("admin:catalog_product_add", "admin:catalog_product_bulk_upload"):
        response = anon_client.post(reverse(name), {"image": image, "name": "x", "price": "1"})
        assert response.status_code in (302, 403)
    assert Product.objects.count() == 0


def test_unpublished_and_unfiled_products_are_hidden_from_the_storefront(client, make_product):
    hidden = [
        make_product("pantalones", is_published=False),
        make_product(None, classification_status=Product.Status.NEEDS_REVIEW),
        make_product(None, classification_status=Product.Status.PENDING),
    ]
    for product in hidden:
        assert client.get(product.get_absolute_url()).status_code == 404
