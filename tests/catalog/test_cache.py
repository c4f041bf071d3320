"""The catalog's read cache (catalog/cache.py): every kind of write shows at once, a page is
never served in the wrong language or with what only staff may see, and a cached page costs no
query at all."""

from __future__ import annotations

import re
from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import caches
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from catalog import cache as catalog_cache
from catalog import services
from catalog.models import Category, Product
from tests.catalog.factories import make_product

pytestmark = pytest.mark.django_db

PAGE = "/c/pantalones/"
LIST = "/api/products/"


def csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def cat(slug: str) -> Category:
    return Category.objects.get(slug=slug)


def shown(client, path: str = PAGE, **headers) -> list[str]:
    """Product names on a category page, in order."""
    html = client.get(path, **headers).content.decode()
    return re.findall(r'class="card-link" href="/p/[^"]+/">([^<]+)</a>', html)


def listed(client, params: dict | None = None, **headers) -> list[str]:
    """Product names in the API's list."""
    response = client.get(LIST, params or {"category": "pantalones"}, **headers)
    assert response.status_code == 200
    return [p["name"] for p in response.json()["results"]]


@pytest.fixture
def chino(photo_bytes) -> Product:
    return make_product(photo_bytes, "Chino", category=cat("pantalones"))


def test_a_second_visit_is_served_from_the_cache_without_a_query(client, chino):
    assert shown(client) == ["Chino"]  # builds and caches the content
    with CaptureQueriesContext(connection) as queries:
        assert shown(client) == ["Chino"]
    assert len(queries) == 0
    assert listed(client) == ["Chino"]
    with CaptureQueriesContext(connection) as queries:
        assert listed(client) == ["Chino"]
    assert len(queries) == 0


def test_a_cached_page_reads_the_catalog_version_once(client, chino):
    """The tree and the listing are read under one version: one cache round trip, not two."""
    assert shown(client) == ["Chino"]
    backend = caches["default"]
    with mock.patch.object(backend, "get", wraps=backend.get) as get:
        assert shown(client) == ["Chino"]
    read = [call.args[0] for call in get.call_args_list]
    assert read.count(catalog_cache.VERSION_KEY) == 1
    assert len(read) == 3  # the version, the tree, the page's content


def test_a_new_product_shows_at_once(client, chino, photo_bytes):
    assert shown(client) == ["Chino"] and listed(client) == ["Chino"]
    make_product(photo_bytes, "Vaquero", category=cat("pantalones"))
    assert shown(client) == ["Vaquero", "Chino"]
    assert listed(client) == ["Vaquero", "Chino"]


def test_the_workers_classification_files_the_product_at_once(client, chino, photo_bytes):
    unfiled = make_product(photo_bytes, "Vaquero")  # pending, no category: not in the shop
    assert shown(client) == ["Chino"] and listed(client) == ["Chino"]
    services.product_apply_prediction(
        product=unfiled,
        label=cat("pantalones").classifier_label,
        confidence=0.99,
        probabilities=[],
        model_version="test",
        threshold=0.5,
    )
    assert shown(client) == ["Vaquero", "Chino"]
    assert listed(client) == ["Vaquero", "Chino"]


def test_a_classification_failure_shows_in_the_api_at_once(client, chino):
    assert listed(client) == ["Chino"]
    services.product_mark_failed(product=chino, error="unreadable")
    result = client.get(LIST, {"category": "pantalones"}).json()["results"][0]
    assert result["classification_status"] == "failed"


def test_a_persons_category_moves_the_product_at_once(client, chino):
    assert shown(client) == ["Chino"] and shown(client, "/c/vestidos/") == []
    services.product_set_category(product=chino, category=cat("vestidos"))
    assert shown(client) == [] and shown(client, "/c/vestidos/") == ["Chino"]
    assert listed(client) == [] and listed(client, {"category": "vestidos"}) == ["Chino"]


def test_unpublishing_and_publishing_show_at_once(client, chino):
    assert shown(client) == ["Chino"] and listed(client) == ["Chino"]
    services.products_set_published(products=[chino], published=False)
    assert shown(client) == [] and listed(client) == []
    services.products_set_published(products=[chino], published=True)
    assert shown(client) == ["Chino"] and listed(client) == ["Chino"]


def test_an_edit_shows_at_once(client, chino):
    assert shown(client) == ["Chino"]
    services.product_update(product=chino, data={"name": "Chino beige", "price": Decimal("5")})
    assert shown(client) == ["Chino beige"] and listed(client) == ["Chino beige"]


def test_admin_edits_of_products_show_at_once(client, admin_client, chino):
    assert shown(client) == ["Chino"]
    form = {
        "name": "Chino azul",
        "price": "19.90",
        "description": "",
        "category": cat("pantalones").pk,
        "is_published": "on",
    }
    response = admin_client.post(f"/admin/catalog/product/{chino.pk}/change/", form)
    assert response.status_code == 302
    assert shown(client) == ["Chino azul"]
    response = admin_client.post(f"/admin/catalog/product/{chino.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert shown(client) == [] and listed(client) == []


def test_admin_edits_of_categories_show_at_once(client, admin_client, chino):
    assert "Pantalones" in client.get(PAGE).content.decode()
    trousers = cat("pantalones")
    form = {
        "slug": trousers.slug,
        "name_es": "Pantalones largos",
        "name_en": trousers.name_en,
        "parent": "",
        "classifier_label": trousers.classifier_label,
        "position": trousers.position,
    }
    response = admin_client.post(f"/admin/catalog/category/{trousers.pk}/change/", form)
    assert response.status_code == 302
    assert "Pantalones largos" in client.get(PAGE).content.decode()  # title, menu, breadcrumb
    assert client.get("/api/categories/pantalones/").json()["name"] == "Pantalones largos"

    assert client.get("/c/faldas/").status_code == 404
    form = {"slug": "faldas", "name_es": "Faldas", "name_en": "Skirts", "position": 99}
    assert admin_client.post("/admin/catalog/category/add/", form).status_code == 302
    assert client.get("/c/faldas/").status_code == 200
    skirts = cat("faldas")
    response = admin_client.post(f"/admin/catalog/category/{skirts.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert client.get("/c/faldas/").status_code == 404


def test_a_write_moves_the_version_again_when_its_transaction_commits(
    django_capture_on_commit_callbacks,
):
    """A request served between the write and the commit may cache the rows as they were;
    the second move leaves that entry unread."""
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        catalog_cache.catalog_changed()
        during = catalog_cache.catalog_version()
    assert catalog_cache.catalog_version() != during


def test_each_language_gets_its_own_page(client, chino):
    spanish = client.get(PAGE).content.decode()
    english = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    spanish_again = client.get(PAGE).content.decode()
    assert "1 producto" in spanish and "10,00 €" in spanish
    assert "Trousers" in english and "Pantalones" not in english
    assert "€10.00" in english and "10,00 €" not in english and "1 product\n" in english
    assert spanish_again == spanish.replace(csrf(spanish), csrf(spanish_again))

    names = {
        lang: client.get(LIST, {"category": "pantalones"}, HTTP_ACCEPT_LANGUAGE=lang).json()
        for lang in ("es", "en", "es")
    }
    assert names["es"]["results"][0]["category"]["name"] == "Pantalones"
    assert names["en"]["results"][0]["category"]["name"] == "Trousers"


@pytest.mark.parametrize("staff_first", [True, False])
def test_anonymous_visitors_never_see_what_only_staff_see(
    client, admin_client, admin_user, chino, photo_bytes, staff_first
):
    make_product(photo_bytes, "Borrador", category=cat("pantalones"), is_published=False)
    staff = APIClient()
    staff.force_authenticate(admin_user)
    visits = [
        ("staff", lambda: (shown(admin_client), listed(staff))),
        ("anonymous", lambda: (shown(client), listed(APIClient()))),
    ]
    seen = {who: visit() for who, visit in (visits if staff_first else visits[::-1])}
    assert seen["anonymous"] == (["Chino"], ["Chino"])
    assert seen["staff"] == (["Chino"], ["Borrador", "Chino"])  # the shop page is the shop's


def test_odd_query_strings_are_answered_but_not_cached(client, chino):
    """Made-up parameters cannot fill the cache with one-off pages."""
    client.get(PAGE)  # the category tree is cached
    backend = caches["default"]
    with mock.patch.object(backend, "set", wraps=backend.set) as stored:
        for query in ({"utm_source": "x"}, {"page": "1" * 20}, {"sort": "<b>"}):
            assert client.get(PAGE, query).status_code == 200
        for query in ({"search": "chino"}, {"category": "pantalones", "format": "json"}):
            assert client.get(LIST, query).status_code == 200
    assert stored.call_count == 0
    with mock.patch.object(backend, "set", wraps=backend.set) as stored:
        client.get(PAGE, {"sort": "price", "page": "1"})
        client.get(LIST, {"category": "pantalones", "ordering": "price", "page": "1"})
    assert stored.call_count == 2


def test_page_sizes_cost_the_same_queries_whether_built_or_cached(client, chino, photo_bytes):
    for n in range(30):
        Product.objects.create(
            name=f"Copia {n}",
            slug=f"copia-{n}",
            price=Decimal("3"),
            image=chino.image.name,
            category=chino.category,
            category_source=chino.category_source,
        )
    catalog_cache.catalog_changed()  # rows written around the services
    with CaptureQueriesContext(connection) as built:
        assert len(shown(client)) == 24
    with CaptureQueriesContext(connection) as cached:
        assert len(shown(client)) == 24
    assert len(built) <= 4 and len(cached) == 0


def test_a_real_worker_with_a_per_process_cache_is_warned_about(settings):
    from catalog.checks import cache_shared_with_the_worker

    settings.CELERY_TASK_ALWAYS_EAGER = False  # CELERY_BROKER_URL set: a worker files products
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [m.id for m in cache_shared_with_the_worker()] == ["catalog.W001"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/1",
        }
    }
    assert cache_shared_with_the_worker() == []
