"""/api/products/: what each caller sees, the filters, pages, uploads and the staff's edits."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import BadRequest, DisallowedHost, RequestDataTooBig, TooManyFieldsSent
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, reverse
from django.utils import timezone, translation

from catalog.models import Category, Product
from tests.conftest import SERVED_CLASSES
from tests.on_commit import tasks

pytestmark = pytest.mark.django_db
LIST = reverse("api:product-list")


def detail(product: Product, name: str = "detail") -> str:
    return reverse(f"api:product-{name}", kwargs={"pk": product.pk})


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [p["id"] for p in response.json()["results"]]


def jpeg(data: bytes, name: str = "foto.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- what each caller sees -------------------------------------------------------------------


@pytest.fixture
def mixed(make_product) -> dict[str, Product]:
    return {
        "shown": make_product("pantalones"),
        "unpublished": make_product("pantalones", is_published=False),
        "unfiled": make_product(
            None, classification_status=Product.Status.NEEDS_REVIEW, predicted_label=3
        ),
        "pending": make_product(None, classification_status=Product.Status.PENDING),
    }


def test_anonymous_and_customers_see_only_published_filed_products(
    anon_client, customer_client, mixed
):
    assert ids(anon_client.get(LIST)) == [mixed["shown"].id]
    assert ids(customer_client.get(LIST)) == [mixed["shown"].id]


def test_staff_see_every_product(staff_client, token_client, mixed):
    everything = {p.id for p in mixed.values()}
    assert set(ids(staff_client.get(LIST))) == everything
    assert set(ids(token_client.get(LIST))) == everything


def test_an_upload_of_a_photo_the_store_has_is_409_naming_the_product(
    token_client, photo_bytes, django_capture_on_commit_callbacks
):
    """A client retrying after a timeout must not put the garment on sale twice; as bulk
    uploads and imports skip it. duplicate=true creates it anyway."""

    def upload(**extra):
        photo = SimpleUploadedFile("f.jpg", photo_bytes, content_type="image/jpeg")
        with django_capture_on_commit_callbacks(execute=False):
            return token_client.post(LIST, {"name": "Falda", "price": "5", "image": photo, **extra})

    first = upload()
    assert first.status_code == 202
    again = upload()
    assert again.status_code == 409
    body = again.json()
    assert body["code"] == "duplicate_photo" and body["product"] == first.json()["id"]
    assert body["product_url"] == f"http://testserver/api/products/{body['product']}/"
    assert body["detail"].startswith(f"Product {body['product']} (“Falda”) already has this photo")
    assert Product.objects.count() == 1
    assert upload(duplicate="true").status_code == 202 and Product.objects.count() == 2


@pytest.mark.parametrize("price", ["12,50", "doce"])
def test_a_price_that_is_no_number_says_how_to_write_one(token_client, make_product, price):
    """A Spanish shop types "12,50"; the API's numbers take a dot, and now say so."""
    product = make_product()
    response = token_client.patch(f"/api/products/{product.pk}/", {"price": price}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "price": ["Send the price as a number with a dot for decimals, such as 12.50."]
    }


def test_every_error_that_is_not_about_fields_has_a_code(anon_client, customer_client):
    """Clients tell errors apart by code; the sentence is for people, in their language."""
    assert anon_client.post(LIST, {}).json()["code"] == "not_authenticated"
    assert customer_client.post(LIST, {}).json()["code"] == "permission_denied"
    assert anon_client.get("/api/products/999999/").json()["code"] == "not_found"
    fields = anon_client.get(LIST, {"page_size": "500"}).json()
    assert "code" not in fields and "page_size" in fields  # field errors keep DRF's shape


def test_staff_delete_a_product_and_its_photos(
    token_client, anon_client, photo_bytes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = token_client.post(
            LIST,
            {"name": "Falda", "price": "5", "image": SimpleUploadedFile("f.jpg", photo_bytes)},
        )
    assert created.status_code == 202
    product = Product.objects.get(pk=created.json()["id"])
    stored = [product.image, product.thumbnail]
    with django_capture_on_commit_callbacks(execute=True):
        response = token_client.delete(f"/api/products/{product.pk}/")
    assert response.status_code == 204 and not response.content
    assert token_client.get(f"/api/products/{product.pk}/").status_code == 404
    assert not any(f.storage.exists(f.name) for f in stored)
    assert anon_client.delete(f"/api/products/{product.pk}/").status_code == 401


@pytest.mark.parametrize("hidden", ["unpublished", "unfiled", "pending"])
def test_hidden_products_are_404_to_non_staff_but_not_to_staff(
    anon_client, customer_client, staff_client, mixed, hidden
):
    for name in ("detail", "status"):
        url = detail(mixed[hidden], name)
        assert anon_client.get(url).status_code == 404
        assert customer_client.get(url).status_code == 404
        assert staff_client.get(url).status_code == 200


def test_detail_fields(staff_client, make_product):
    product = make_product(
        "sandalias",
        predicted_label=5,
        confidence=0.91,
        probabilities=[0.01] * 9 + [0.91],
        model_version="v1",
        classified_at=timezone.now(),
    )
    body = staff_client.get(detail(product)).json()

    assert body["id"] == product.id and body["slug"] == product.slug
    assert body["price"] == "10.00"
    assert body["image"] == f"http://testserver/media/{product.image.name}"
    assert body["thumbnail"].endswith(product.thumbnail.name)
    assert body["category"]["slug"] == "sandalias" and body["category"]["name"] == "Sandals"
    assert body["category"]["products_url"].endswith("/api/products/?category=sandalias")
    assert body["category_source"] == "model"
    assert (body["predicted_label"], body["predicted_label_name"]) == (5, "Sandal")
    assert body["confidence"] == 0.91 and len(body["probabilities"]) == 10
    assert body["classification_status"] == "classified" and body["classification_error"] == ""
    assert body["model_version"] == "v1" and body["classified_at"] and body["created_at"]
    assert body["is_published"] is True
    assert body["url"] == f"http://testserver{detail(product)}"
    assert body["status_url"] == f"http://testserver{detail(product, 'status')}"


def test_a_pending_product_has_no_verdict_yet(staff_client, make_product):
    product = make_product(None, classification_status=Product.Status.PENDING, thumbnail="")
    body = staff_client.get(detail(product)).json()

    assert body["category"] is None and body["thumbnail"] is None
    assert body["predicted_label"] is None and body["predicted_label_name"] is None
    assert body["probabilities"] is None and body["confidence"] is None


def test_status_endpoint(staff_client, make_product):
    product = make_product("bolsos", predicted_label=8, confidence=0.7)
    body = staff_client.get(detail(product, "status")).json()

    assert body == {
        "id": product.id,
        "classification_status": "classified",
        "category": body["category"],
        "confidence": 0.7,
        "predicted_label": 8,
        "predicted_label_name": "Bag",
        "classification_error": "",
        "url": f"http://testserver{detail(product)}",
    }
    assert body["category"]["slug"] == "bolsos"


STAFF_ONLY = {"probabilities", "model_version", "classification_error"}


@pytest.mark.parametrize("client_name", ["anonymous", "customer", "staff_session", "staff_token"])
def test_the_models_workings_are_shown_to_staff_only(clients, client_name, make_product):
    """Every class's probability, the model version and a failure's reason are the shop's
    business: customers and other sites reading the API get the product and its category."""
    product = make_product(
        "bolsos", predicted_label=8, confidence=0.7, probabilities=[0.03] * 10, model_version="v1"
    )
    client = clients[client_name]
    answers = [
        client.get(detail(product)).json(),
        client.get(detail(product, "status")).json(),
        client.get(LIST).json()["results"][0],
    ]
    detail_body, status_body, listed = answers
    for body in answers:
        assert body["id"] == product.id and body["category"]["slug"] == "bolsos"
        assert body["confidence"] == 0.7 and body["predicted_label_name"] == "Bag"
    if client_name.startswith("staff"):
        assert set(detail_body) >= STAFF_ONLY and set(listed) >= STAFF_ONLY
        assert detail_body["model_version"] == "v1" and "classification_error" in status_body
    else:
        assert not STAFF_ONLY & (set(detail_body) | set(status_body) | set(listed))


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("es", "No hay ningún producto 999999, o no está publicado."),
        ("en", "There is no product 999999, or it is not published."),
    ],
)
def test_unknown_product_is_404_in_the_callers_language(anon_client, language, message):
    response = anon_client.get("/api/products/999999/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    assert response.json() == {"detail": message, "code": "not_found"}


@pytest.mark.parametrize("path", ["/api/products/abc/", "/api/produtcs/", "/api/", "/api"])
def test_a_path_the_api_lacks_is_a_json_404_that_says_where_to_look(anon_client, path):
    response = anon_client.get(path)
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": f"There is nothing at {path}; the API's endpoints are listed at /api/docs/.",
        "code": "not_found",
    }
    spanish = anon_client.get(path, HTTP_ACCEPT_LANGUAGE="es").json()["detail"]
    assert spanish.startswith(f"No hay nada en {path}")


def test_a_request_django_refuses_is_a_json_400_under_the_api(token_client, photo_bytes, settings):
    """More files than Django takes: refused before any view, in the API's shape."""
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = [SimpleUploadedFile(f"{i}.jpg", photo_bytes, "image/jpeg") for i in range(3)]
    response = token_client.post(LIST, {"name": "Falda", "price": "5", "image": files})
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "Too many files in one request: send at most 2 at a time.",
        "code": "bad_request",
    }
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("exception", "reason"),
    [
        (TooManyFieldsSent(), "Too many form fields in one request: at most 1000."),
        (RequestDataTooBig(), "The request's form fields are over 11.0\xa0MB, the limit"),
        (DisallowedHost(), "This server does not answer to the host name"),
        (BadRequest(), "The request could not be read."),
    ],
)
def test_a_refused_request_under_the_api_says_why(rf, exception, reason):
    """Each cause its own reason: a bad Host header was answered "too many files"."""
    handler = get_resolver().resolve_error_handler(400)
    with translation.override("en"):
        response = handler(rf.get("/api/products/"), exception)
    assert response.status_code == 400 and json.loads(response.content)["detail"].startswith(reason)
    store = handler(rf.get("/"), exception)
    assert store["Content-Type"].startswith("text/html")


def test_a_server_error_under_the_api_is_json_and_tells_nothing_of_the_error(rf):
    handler = get_resolver().resolve_error_handler(500)
    response = handler(rf.get("/api/products/"))
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {
        "detail": "Something went wrong on the server; try again in a few minutes.",
        "code": "server_error",
    }
    store = handler(rf.get("/p/falda/"))
    assert store.status_code == 500 and b"Algo ha fallado" in store.content


def test_the_store_keeps_its_own_404_page(client):
    response = client.get("/no-existe/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_a_list_without_its_slash_is_still_redirected(anon_client):
    response = anon_client.get("/api/products")
    assert response.status_code == 301 and response["Location"] == LIST


# --- filters, ordering, pages ----------------------------------------------------------------


def test_category_filter_includes_sub_categories(anon_client, make_product):
    sandal = make_product("sandalias")
    boot = make_product("botines")
    make_product("pantalones")

    assert set(ids(anon_client.get(LIST, {"category": "calzado"}))) == {sandal.id, boot.id}
    assert ids(anon_client.get(LIST, {"category": "sandalias"})) == [sandal.id]
    assert ids(anon_client.get(LIST, {"category": "zapatillas"})) == []


def test_unknown_category_filter_is_400_with_the_way_out(anon_client):
    response = anon_client.get(LIST, {"category": "sombreros"})
    assert response.status_code == 400
    (message,) = response.json()["category"]
    assert "sombreros" in message and "/api/categories/" in message


def test_search_matches_the_name_case_insensitively(anon_client, make_product):
    linen = make_product(name="Pantalón de LINO")
    make_product(name="Pantalón vaquero")

    assert ids(anon_client.get(LIST, {"search": "lino"})) == [linen.id]
    assert len(ids(anon_client.get(LIST, {"search": "pantalón"}))) == 2
    assert ids(anon_client.get(LIST, {"search": "abrigo"})) == []


def test_ordering(anon_client, make_product):
    now = timezone.now()
    cheap = make_product(price=Decimal("5"))
    dear = make_product(price=Decimal("50"))
    middle = make_product(price=Decimal("20"))
    for age, product in enumerate([middle, dear, cheap]):  # middle is the newest
        Product.objects.filter(pk=product.pk).update(created_at=now - timedelta(days=age))

    assert ids(anon_client.get(LIST, {"ordering": "price"})) == [cheap.id, middle.id, dear.id]
    assert ids(anon_client.get(LIST, {"ordering": "-price"})) == [dear.id, middle.id, cheap.id]
    assert ids(anon_client.get(LIST, {"ordering": "newest"})) == [middle.id, dear.id, cheap.id]
    assert ids(anon_client.get(LIST)) == [middle.id, dear.id, cheap.id]


def test_unknown_ordering_is_400_listing_the_choices(anon_client):
    response = anon_client.get(LIST, {"ordering": "name"})
    assert response.status_code == 400
    assert "newest, price, -price" in response.json()["ordering"][0]


def test_status_filter_for_staff(staff_client, mixed):
    assert ids(staff_client.get(LIST, {"status": "needs_review"})) == [mixed["unfiled"].id]
    assert ids(staff_client.get(LIST, {"status": "pending"})) == [mixed["pending"].id]
    assert staff_client.get(LIST, {"status": "lost"}).status_code == 400


def test_status_filter_never_shows_hidden_products_to_anonymous(anon_client, mixed):
    assert ids(anon_client.get(LIST, {"status": "needs_review"})) == []


def test_pagination(anon_client, make_product, settings):
    page_size = settings.REST_FRAMEWORK["PAGE_SIZE"]
    made = [make_product() for _ in range(page_size + 3)]

    first = anon_client.get(LIST).json()
    second = anon_client.get(first["next"]).json()

    assert first["count"] == page_size + 3 and first["previous"] is None
    assert len(first["results"]) == page_size and len(second["results"]) == 3
    assert second["next"] is None
    seen = [p["id"] for p in first["results"] + second["results"]]
    assert sorted(seen) == sorted(p.id for p in made)
    assert anon_client.get(LIST, {"page": 3}).status_code == 404


def test_page_size_is_the_callers_choice_up_to_a_limit(anon_client, make_product):
    for _ in range(7):
        make_product()

    first = anon_client.get(LIST, {"page_size": 3}).json()
    second = anon_client.get(first["next"]).json()

    assert len(first["results"]) == 3 and first["count"] == 7
    assert "page_size=3" in first["next"] and len(second["results"]) == 3
    assert len(anon_client.get(LIST).json()["results"]) == 7  # not the cached page of 3
    for wrong in ("0", "101", "many", "²", "①", "2.5"):
        response = anon_client.get(LIST, {"page_size": wrong})
        assert response.status_code == 400 and "page_size" in response.json(), wrong
    assert anon_client.get(LIST, {"page_size": 101}).json() == {
        "page_size": ["Ask for 1 to 100 products a page; '101' is not."]
    }
    assert len(anon_client.get(LIST, {"page_size": ""}).json()["results"]) == 7


@pytest.mark.parametrize("client_name", ["anonymous", "staff_token"])
def test_list_queries_do_not_grow_with_the_page(
    clients, make_product, client_name, django_assert_max_num_queries
):
    client = clients[client_name]
    make_product("sandalias")
    with CaptureQueriesContext(connection) as one_product:
        client.get(LIST, {"category": "calzado"})
    for slug in ["sandalias", "botines", "zapatillas"] * 8:
        make_product(slug)
    with django_assert_max_num_queries(len(one_product)):
        response = client.get(LIST, {"category": "calzado"})
    assert len(response.json()["results"]) == 24


# --- staff: upload ---------------------------------------------------------------------------


def test_upload_answers_202_saves_pending_and_classifies_after_commit(
    staff_client, photo_bytes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_client.post(
            LIST, {"name": "Pantalón chino", "price": "39.90", "image": jpeg(photo_bytes)}
        )

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["classification_status"] == "pending"  # as saved, before the commit
    assert body["status_url"] == response["Location"]
    assert body["status_url"].endswith(f"/api/products/{body['id']}/status/")
    assert (body["name"], body["price"], body["is_published"]) == ("Pantalón chino", "39.90", True)
    assert body["category"] is None and body["category_source"] == ""
    assert len(tasks(callbacks)) == 1

    status = staff_client.get(response["Location"]).json()
    assert status["classification_status"] in ("classified", "needs_review")
    assert 0 <= status["predicted_label"] < SERVED_CLASSES and 0 < status["confidence"] <= 1
    product = Product.objects.get(pk=body["id"])
    assert len(product.probabilities) == SERVED_CLASSES and product.model_version
    assert (status["category"] is None) == (status["classification_status"] == "needs_review")


def test_upload_with_a_category_and_unpublished(
    token_client, photo_bytes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = token_client.post(
            LIST,
            {
                "name": "Bolso",
                "price": "12",
                "description": "Piel",
                "image": jpeg(photo_bytes),
                "category": "bolsos",
                "is_published": "false",
            },
        )

    assert response.status_code == 202, response.content
    product = Product.objects.get(pk=response.json()["id"])
    assert product.category.slug == "bolsos" and product.category_source == "person"
    assert product.is_published is False and product.description == "Piel"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("foto.jpg", b"just some text", content_type="image/jpeg"),
            "not an image",
        ),
        (SimpleUploadedFile("foto.jpg", b"", content_type="image/jpeg"), "the file is empty"),
    ],
    ids=["text-named-jpg", "empty"],
)
def test_bad_photo_is_400_with_the_services_message_and_nothing_saved(
    staff_client, settings, upload, message
):
    response = staff_client.post(LIST, {"name": "x", "price": "1", "image": upload})

    assert response.status_code == 400
    (error,) = response.json()["image"]
    assert message in error and "upload a JPEG, PNG or WebP photo" in error
    assert Product.objects.count() == 0
    assert stored_files(settings) == []


def test_too_large_photo_is_400(staff_client, settings, photo_bytes):
    settings.PERCHA = {**settings.PERCHA, "MAX_UPLOAD_BYTES": len(photo_bytes) - 1}
    response = staff_client.post(LIST, {"name": "x", "price": "1", "image": jpeg(photo_bytes)})

    assert response.status_code == 400
    assert "Upload a smaller photo" in response.json()["image"][0]
    assert Product.objects.count() == 0


def test_upload_without_photo_or_with_bad_fields_is_400(staff_client, photo_bytes):
    no_photo = staff_client.post(LIST, {"name": "x", "price": "1"})
    assert no_photo.json()["image"] == ["Send the product photo as the multipart field 'image'."]

    bad = staff_client.post(
        LIST, {"name": "", "price": "-1", "image": jpeg(photo_bytes), "category": "sombreros"}
    )
    assert bad.status_code == 400
    assert set(bad.json()) == {"name", "price", "category"}
    assert Product.objects.count() == 0


def test_upload_names_a_misspelt_field(staff_client, photo_bytes):
    response = staff_client.post(
        LIST, {"name": "x", "price": "1", "image": jpeg(photo_bytes), "categoria": "bolsos"}
    )
    assert response.status_code == 400
    assert "'categoria' cannot be set here" in response.json()["categoria"][0]


# --- staff: edits ----------------------------------------------------------------------------


def test_patch_edits_the_shop_fields_and_keeps_the_slug(token_client, make_product):
    product = make_product(name="Viejo", slug="viejo")
    response = token_client.patch(
        detail(product),
        {"name": " Nuevo ", "price": "7.50", "description": "d", "is_published": False},
        format="json",
    )

    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert (product.name, product.price, product.description) == ("Nuevo", Decimal("7.50"), "d")
    assert product.is_published is False and product.slug == "viejo"
    assert response.json()["name"] == "Nuevo"


def test_patch_refuses_fields_it_does_not_edit(token_client, make_product):
    product = make_product("pantalones")
    response = token_client.patch(detail(product), {"category": "bolsos"}, format="json")

    assert response.status_code == 400
    assert "name, description, price, is_published" in response.json()["category"][0]
    product.refresh_from_db()
    assert product.category.slug == "pantalones"


def test_patch_validates_values(token_client, make_product):
    product = make_product()
    response = token_client.patch(detail(product), {"price": "-3"}, format="json")
    assert response.status_code == 400 and "price" in response.json()
    product.refresh_from_db()
    assert product.price == Decimal("10.00")


def test_set_category_is_a_persons_choice_and_null_clears_it(token_client, make_product):
    product = make_product(
        None, classification_status=Product.Status.NEEDS_REVIEW, predicted_label=1
    )
    url = detail(product, "category")

    response = token_client.post(url, {"category": "bolsos"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["category"]["slug"] == "bolsos" and body["category_source"] == "person"
    assert body["classification_status"] == "classified"

    cleared = token_client.post(url, {"category": None}, format="json").json()
    assert cleared["category"] is None and cleared["category_source"] == ""
    # back in the review queue: a classified product without a category would be in no list
    assert cleared["classification_status"] == "needs_review"


def test_set_category_needs_a_known_slug(token_client, make_product):
    product = make_product()
    unknown = token_client.post(detail(product, "category"), {"category": "x"}, format="json")
    missing = token_client.post(detail(product, "category"), {}, format="json")

    assert unknown.status_code == missing.status_code == 400
    assert "/api/categories/" in unknown.json()["category"][0]
    product.refresh_from_db()
    assert product.category.slug == "pantalones"


def test_reclassify_answers_202_and_queues_the_model(
    token_client, make_product, django_capture_on_commit_callbacks
):
    product = make_product("bolsos", category_source=Product.CategorySource.PERSON)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = token_client.post(detail(product, "reclassify"))

    assert response.status_code == 202
    assert response["Location"].endswith(detail(product, "status"))
    assert response.json()["classification_status"] == "pending"
    assert len(tasks(callbacks)) == 1
    product.refresh_from_db()
    assert product.category.slug == "bolsos"  # a person's choice stays


def test_accept_suggestion_files_the_product_under_the_prediction(token_client, make_product):
    product = make_product(
        None, classification_status=Product.Status.NEEDS_REVIEW, predicted_label=3, confidence=0.3
    )
    response = token_client.post(detail(product, "accept-suggestion"))

    assert response.status_code == 200, response.content
    assert response.json()["category"]["slug"] == Category.objects.get(classifier_label=3).slug
    assert response.json()["category_source"] == "person"


def test_accept_suggestion_without_one_is_409_and_says_what_to_do(token_client, make_product):
    product = make_product(None, classification_status=Product.Status.PENDING)
    response = token_client.post(detail(product, "accept-suggestion"))

    assert response.status_code == 409 and response.json()["code"] == "not_classified"
    assert f"/api/products/{product.pk}/category/" in response.json()["detail"]
    assert "not classified this product yet (pending)" in response.json()["detail"]
    product.refresh_from_db()
    assert product.category is None


def test_accept_suggestion_of_a_failed_product_is_409_and_says_why(token_client, make_product):
    product = make_product(
        None,
        classification_status=Product.Status.FAILED,
        classification_error="the file is empty; upload a JPEG, PNG or WebP photo",
    )
    response = token_client.post(detail(product, "accept-suggestion"))
    assert response.status_code == 409 and response.json()["code"] == "photo_unreadable"
    assert response.json()["detail"].startswith(
        "The model could not read this product's photo (the file is empty;"
    )


def test_accept_suggestion_of_a_class_without_a_category_is_409_and_names_it(
    token_client, make_product
):
    """The model did suggest something: a class the store has no category for (a hat)."""
    hat = SERVED_CLASSES - 1
    Category.objects.filter(classifier_label=hat).delete()
    product = make_product(
        None, classification_status=Product.Status.NEEDS_REVIEW, predicted_label=hat
    )
    response = token_client.post(detail(product, "accept-suggestion"))
    assert response.status_code == 409 and response.json()["code"] == "no_category"
    detail_text = response.json()["detail"]
    assert "which has no category in the store" in detail_text and "needs_review" not in detail_text
    spanish = token_client.post(detail(product, "accept-suggestion"), HTTP_ACCEPT_LANGUAGE="es")
    assert "no tiene categoría en la tienda" in spanish.json()["detail"]
