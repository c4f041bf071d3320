"""The shop admin: product list, add/change through the services, actions, review queue, bulk
upload, and who may get in."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from catalog import selectors, services
from catalog.forms import BulkUploadForm, price_pattern
from catalog.models import Category, Product
from tests.catalog.factories import make_product
from tests.on_commit import tasks
from tests.photo_files import another_photo

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:catalog_product_changelist"
HIDDEN_WARNING = "Without a price above 0, a product is hidden from the store"
REVIEW = "admin:catalog_productreview_changelist"


@pytest.fixture
def admin_client(admin_client):
    """The admin in English, so that the messages checked here are the source strings."""
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return admin_client


def upload(data: bytes, name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def predict(product: Product, label: int, confidence: float) -> Product:
    probabilities = [(1 - confidence) / 9] * 10
    probabilities[label] = confidence
    return services.product_apply_prediction(
        product=product,
        label=label,
        confidence=confidence,
        probabilities=probabilities,
        model_version="test",
        threshold=0.6,
    )


def action(client, url: str, name: str, products: list[Product], **extra):
    data = {"action": name, ACTION_CHECKBOX_NAME: [p.pk for p in products], **extra}
    return client.post(reverse(url), data, follow=True)


def test_changelist_shows_thumbnails_badges_and_filters(admin_client, photo_bytes):
    product = predict(make_product(photo_bytes), label=1, confidence=0.42)
    response = admin_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    html = response.content.decode()
    assert product.thumbnail.url in html and "<img" in html
    assert "percha-status-needs_review" in html
    assert "42%" in html
    assert "Pantalones" in html or "Trousers" in html  # the suggested category
    assert reverse("admin:catalog_product_bulk_upload") in html
    filtered = admin_client.get(reverse(CHANGELIST), {"classification_status__exact": "failed"})
    assert filtered.status_code == 200
    assert product.thumbnail.url not in filtered.content.decode()


def test_changelist_shows_prices_and_finds_the_unpriced(admin_client, photo_bytes):
    """Bulk uploads without a price are created hidden at 0: the shop must find them to price
    them, and see who filed each product beside its category."""
    pantalones = Category.objects.get(slug="pantalones")
    priced = make_product(photo_bytes, name="Vaquero", price=Decimal("1234.5"), category=pantalones)
    unpriced = make_product(photo_bytes, name="Sin precio", price=None)

    html = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "€1,234.50" in html and "no price" in html
    assert re.search(r"Trousers <small>\(person\)</small>", html)
    spanish = admin_client.get(reverse(CHANGELIST), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "1\xa0234,50 €" in spanish and "sin precio" in spanish

    def listed(priced: str) -> set[str]:
        page = admin_client.get(reverse(CHANGELIST), {"priced": priced}).content.decode()
        return {name for name in ("Vaquero", "Sin precio") if f">{name}<" in page}

    assert listed("no") == {unpriced.name} and listed("yes") == {priced.name}


def test_changelist_queries_do_not_grow_with_rows(
    admin_client, photo_bytes, django_assert_max_num_queries
):
    for i in range(3):
        predict(make_product(photo_bytes, name=f"p{i}"), label=i, confidence=0.3)
    admin_client.get(reverse(CHANGELIST))  # warm the session and content types
    with django_assert_max_num_queries(12) as few:
        admin_client.get(reverse(CHANGELIST))
    for i in range(3, 9):
        predict(make_product(photo_bytes, name=f"p{i}"), label=i, confidence=0.3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(reverse(CHANGELIST))


def test_add_form_creates_through_the_service_and_classifies_after_commit(
    admin_client, photo_bytes, django_capture_on_commit_callbacks
):
    page = admin_client.get(reverse("admin:catalog_product_add"))
    assert page.status_code == 200 and 'type="file"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            reverse("admin:catalog_product_add"),
            {
                "image": upload(photo_bytes, "pantalon.jpg"),
                "name": "Pantalón azul",
                "price": "29.90",
                "description": "Vaquero",
                "is_published": "on",
            },
        )
    assert response.status_code == 302, response.context["adminform"].form.errors
    product = Product.objects.get()
    assert len(tasks(callbacks)) == 1
    assert response.url == reverse("admin:catalog_product_changelist")
    assert product.name == "Pantalón azul" and product.slug == "pantalon-azul"
    assert product.price == Decimal("29.90") and product.thumbnail
    assert "pantalon" not in product.image.name  # renamed by the service, not the client's name
    assert product.classification_status in (
        Product.Status.CLASSIFIED,
        Product.Status.NEEDS_REVIEW,
    )
    assert product.predicted_label is not None


@pytest.mark.parametrize("language", ["es", "en"])
def test_the_browser_refuses_a_price_the_server_would(language):
    """The price input's pattern stops a wrong price in the browser, where the chosen photos
    are kept; it must refuse only what the server refuses, or a shop could not type a price."""
    typed = ["10", "10,5", "10,50", "10.50", " 29,90 ", "12345678,99", "10,", "10.", "0"]
    typed += ["10 €", "€10", "diez", "10,505", "1.234,50", "1,234.50", "-5", "123456789", ""]
    with translation.override(language):
        pattern = price_pattern()
        html = str(BulkUploadForm()["price"])
        for text in typed:
            form = BulkUploadForm({"price": text})
            form.is_valid()
            server = "price" not in form.errors and text != ""
            assert bool(re.fullmatch(pattern, text)) == server, (text, form.errors)
    assert f'pattern="{pattern}"' in html and 'title="' in html
    assert ("[," in pattern) == (language == "es")
    assert ("12,50" if language == "es" else "12.50") in html


@pytest.mark.parametrize(("language", "typed"), [("es", "10,50"), ("es", "10.50"), ("en", "10.50")])
def test_the_price_is_typed_in_the_admins_language(admin_client, photo_bytes, language, typed):
    """A number input dropped the Spanish decimal comma: "10,50" was saved as 1050 €."""
    add = reverse("admin:catalog_product_add")
    html = admin_client.get(add, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    price_input = re.search(r'<input[^>]*name="price"[^>]*>', html).group(0)
    assert 'type="text"' in price_input and 'inputmode="decimal"' in price_input
    response = admin_client.post(
        add,
        {"image": upload(photo_bytes), "name": "Camisa", "price": typed, "is_published": "on"},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    product = Product.objects.get()
    assert product.price == Decimal("10.50")
    change = reverse("admin:catalog_product_change", args=[product.pk])
    shown = admin_client.get(change, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert ('value="10,50"' if language == "es" else 'value="10.50"') in shown


def test_category_choices_show_the_tree(admin_client, photo_bytes):
    """A flat list hid that Sandalias is under Calzado: sub-categories carry their parent's name."""
    html = admin_client.get(reverse("admin:catalog_product_add")).content.decode()
    assert re.search(r"<option[^>]*>Footwear › Sandals</option>", html), html
    assert re.search(r"<option[^>]*>Footwear</option>", html)  # a top category, alone


def test_add_form_with_a_category_keeps_the_persons_choice(admin_client, photo_bytes):
    bags = Category.objects.get(slug="bolsos")
    response = admin_client.post(
        reverse("admin:catalog_product_add"),
        {"image": upload(photo_bytes), "name": "Bolso", "price": "5", "category": bags.pk},
    )
    assert response.status_code == 302
    product = Product.objects.get()
    assert product.category == bags
    assert product.category_source == Product.CategorySource.PERSON
    assert product.classification_status == Product.Status.PENDING
    assert product.is_published is False  # the checkbox was left unticked


def test_add_form_refuses_a_text_file_with_the_reason(admin_client):
    response = admin_client.post(
        reverse("admin:catalog_product_add"),
        {"image": upload(b"just some text", "fake.jpg"), "name": "Fake", "price": "1"},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "image" in errors and "not an image" in errors["image"][0]
    assert "not an image" in response.content.decode()
    assert Product.objects.count() == 0


def test_change_form_shows_outputs_read_only(admin_client, photo_bytes):
    product = predict(make_product(photo_bytes), label=1, confidence=0.42)
    response = admin_client.get(reverse("admin:catalog_product_change", args=[product.pk]))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "image" not in form.fields and "confidence" not in form.fields
    assert "predicted_label" not in form.fields and "classification_status" not in form.fields
    html = response.content.decode()
    assert "42%" in html and product.image.url in html


def test_changing_the_category_is_a_persons_choice(admin_client, photo_bytes):
    product = predict(make_product(photo_bytes), label=1, confidence=0.42)
    dresses = Category.objects.get(slug="vestidos")
    response = admin_client.post(
        reverse("admin:catalog_product_change", args=[product.pk]),
        {
            "name": "Vestido",
            "price": "12.50",
            "description": "",
            "category": dresses.pk,
            "is_published": "on",
        },
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.category == dresses
    assert product.category_source == Product.CategorySource.PERSON
    assert product.classification_status == Product.Status.CLASSIFIED
    assert product.name == "Vestido" and product.price == Decimal("12.50")
    assert product.predicted_label == 1 and product.confidence == pytest.approx(0.42)


def test_editing_other_fields_keeps_the_models_category(admin_client, photo_bytes):
    product = predict(make_product(photo_bytes), label=1, confidence=0.9)
    response = admin_client.post(
        reverse("admin:catalog_product_change", args=[product.pk]),
        {
            "name": "Otro nombre",
            "price": "10",
            "description": "",
            "category": product.category_id,
            "is_published": "on",
        },
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.name == "Otro nombre"
    assert product.category_source == Product.CategorySource.MODEL


def test_reclassify_action_queues_the_selected(
    admin_client, photo_bytes, django_capture_on_commit_callbacks
):
    first = predict(make_product(photo_bytes, name="a"), label=1, confidence=0.3)
    second = predict(make_product(photo_bytes, name="b"), label=1, confidence=0.3)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = action(admin_client, CHANGELIST, "reclassify", [first, second])
    assert response.status_code == 200
    assert len(tasks(callbacks)) == 1  # one batch for both
    assert "2 products queued" in response.content.decode()
    first.refresh_from_db()
    assert first.classification_status == Product.Status.PENDING


def test_accept_suggestion_action(admin_client, photo_bytes):
    suggested = predict(make_product(photo_bytes, name="a"), label=3, confidence=0.3)
    without = make_product(photo_bytes, name="b")
    response = action(admin_client, CHANGELIST, "accept_suggestion", [suggested, without])
    html = response.content.decode()
    assert "1 product filed" in html and "1 product has no suggestion" in html
    suggested.refresh_from_db()
    assert suggested.category.slug == "vestidos"
    assert suggested.category_source == Product.CategorySource.PERSON
    assert suggested.classification_status == Product.Status.CLASSIFIED


def test_accept_suggestion_of_a_class_without_a_category_says_so(admin_client, photo_bytes):
    hat = make_product(photo_bytes, name="gorro")
    services.product_apply_prediction(
        product=hat,
        label=10,  # "Hat": the served model knows it, the store has no category for it
        confidence=0.95,
        probabilities=[0.005] * 10 + [0.95, 0.0, 0.0],
        model_version="test",
        threshold=0.6,
    )
    response = action(admin_client, REVIEW, "accept_suggestion", [hat])
    html = response.content.decode()
    assert "1 product is suggested as Hats, which has no category in the store" in html
    assert "no suggestion" not in html
    hat.refresh_from_db()
    assert hat.category is None and hat.classification_status == Product.Status.NEEDS_REVIEW


def test_publishing_leaves_unpriced_products_hidden_and_says_so(admin_client, photo_bytes):
    priced = make_product(photo_bytes, name="a", is_published=False)
    unpriced = make_product(photo_bytes, name="b", price=Decimal("0"))
    html = action(admin_client, CHANGELIST, "publish", [priced, unpriced]).content.decode()
    assert "1 product published" in html and "1 product has no price and stays hidden" in html
    priced.refresh_from_db()
    unpriced.refresh_from_db()
    assert priced.is_published and not unpriced.is_published


def test_publish_and_unpublish_actions(admin_client, photo_bytes):
    product = make_product(photo_bytes, is_published=False)
    action(admin_client, CHANGELIST, "publish", [product])
    product.refresh_from_db()
    assert product.is_published
    action(admin_client, CHANGELIST, "unpublish", [product])
    product.refresh_from_db()
    assert not product.is_published


def test_publishing_says_why_a_product_is_still_not_in_the_store(admin_client, photo_bytes):
    """It said "0 products published." and nothing else when the selection was already
    published but waiting for a category; the list showed them with a green tick."""
    waiting = predict(make_product(photo_bytes, name="Dudoso"), label=1, confidence=0.3)
    assert waiting.is_published and waiting.category is None
    html = action(admin_client, CHANGELIST, "publish", [waiting]).content.decode()
    assert "0 products published." in html and "1 product was already published." in html
    assert "1 published product has no category yet, so customers do not see it" in html
    assert "published, waiting for a category" in html  # its column in the list


def test_review_queue_lists_only_products_waiting_for_a_person(admin_client, photo_bytes):
    review = predict(make_product(photo_bytes, name="Dudoso"), label=1, confidence=0.3)
    failed = services.product_mark_failed(
        product=make_product(photo_bytes, name="Roto"), error="The photo file is missing."
    )
    classified = predict(make_product(photo_bytes, name="Seguro"), label=1, confidence=0.95)
    pending = make_product(photo_bytes, name="Esperando")
    response = admin_client.get(reverse(REVIEW))
    assert response.status_code == 200
    shown = {p.pk for p in response.context["cl"].result_list}
    assert shown == {review.pk, failed.pk}
    assert classified.pk not in shown and pending.pk not in shown
    html = response.content.decode()
    assert review.thumbnail.url in html
    assert "<h1>Products to review</h1>" in html
    filters = response.context["cl"].filter_specs[0].lookup_choices
    assert [value for value, _ in filters] == ["needs_review", "failed"]
    failed_only = admin_client.get(reverse(REVIEW), {"classification_status__exact": "failed"})
    assert {p.pk for p in failed_only.context["cl"].result_list} == {failed.pk}
    change = admin_client.get(reverse("admin:catalog_productreview_change", args=[review.pk]))
    assert change.status_code == 200 and review.image.url in change.content.decode()
    assert "30%" in html  # the suggestion's confidence
    assert html.count('class="percha-prob"') == 3  # the top-3 probabilities (failed has none)
    assert re.search(r"percha-status-failed.*?</span><div[^>]*>The photo file is missing.", html)


def test_a_footwear_suggestion_is_named_where_accepting_it_files_it(admin_client, photo_bytes):
    """The photos never taught sandal from boot, so the store files either under Calzado: the
    suggestion column says so (it said "Sandals 97%" for a boot), the top 3 keep the classes."""
    boot = predict(make_product(photo_bytes, name="Bota"), label=5, confidence=0.5)
    calzado = Category.objects.get(slug="calzado")
    html = admin_client.get(reverse(REVIEW)).content.decode()
    assert f"<strong>{calzado.name_en}</strong> · Sandals 50%" in html
    assert "Sandals" in html  # the class, in the top 3
    action(admin_client, REVIEW, "accept_suggestion", [boot])
    assert Product.objects.get(pk=boot.pk).category == calzado


def test_review_queue_set_category_through_an_intermediate_page(admin_client, photo_bytes):
    product = predict(make_product(photo_bytes), label=1, confidence=0.3)
    coats = Category.objects.get(slug="abrigos")
    page = action(admin_client, REVIEW, "set_category", [product])
    assert page.status_code == 200 and "Set the category" in page.content.decode()
    assert re.search(r'<option value="" selected>', page.content.decode())  # nothing preselected
    unchosen = action(admin_client, REVIEW, "set_category", [product], apply="1", category="")
    assert "This field is required" in unchosen.content.decode()
    product.refresh_from_db()
    assert product.category is None
    action(admin_client, REVIEW, "set_category", [product], apply="1", category=coats.pk)
    product.refresh_from_db()
    assert product.category == coats
    assert product.category_source == Product.CategorySource.PERSON
    assert product.pk not in {
        p.pk for p in admin_client.get(reverse(REVIEW)).context["cl"].result_list
    }


def test_set_price_prices_a_selection_and_may_publish_it(admin_client, client, photo_bytes):
    """A bulk upload without a price leaves every product hidden at 0; one action prices them
    all, and publishes them if asked, saying what still keeps one from customers."""
    dresses = Category.objects.get(slug="vestidos")
    filed = make_product(photo_bytes, name="Falda", price=None, category=dresses)
    unfiled = make_product(another_photo(photo_bytes, 80), name="Abrigo", price=None)
    assert (filed.price, filed.is_published) == (0, False)
    page = action(admin_client, CHANGELIST, "set_price", [filed, unfiled])
    html = page.content.decode()
    assert page.status_code == 200 and "Set the price" in html and "Falda" in html
    refused = action(admin_client, CHANGELIST, "set_price", [filed, unfiled], apply="1", price="0")
    assert "greater than or equal to 0.01" in refused.content.decode()
    assert Product.objects.get(pk=filed.pk).price == 0

    done = action(
        admin_client,
        CHANGELIST,
        "set_price",
        [filed, unfiled],
        apply="1",
        price="12.50",
        publish="on",
    )
    html = done.content.decode()
    assert "2 products now cost €12.50." in html and "2 products published." in html
    assert "1 published product has no category yet" in html
    for product in (filed, unfiled):
        product.refresh_from_db()
        assert product.price == Decimal("12.50") and product.is_published
    assert client.get(filed.get_absolute_url()).status_code == 200  # customers see it
    assert client.get(unfiled.get_absolute_url()).status_code == 404  # not until it is filed


def test_publishing_from_a_filtered_list_keeps_its_warnings_and_skips_camera_names(
    admin_client, photo_bytes
):
    """From "Without a price", the list the messages send shops to: once priced, the filter
    matched none of them, and the warnings counted nothing. A camera's name stays hidden."""
    unfiled = make_product(photo_bytes, name="Falda vaquera", price=None)
    camera = make_product(another_photo(photo_bytes, 80), name="DSC01234", price=None)
    url = reverse(CHANGELIST) + "?priced=no"
    data = {
        "action": "set_price",
        ACTION_CHECKBOX_NAME: [unfiled.pk, camera.pk],
        "apply": "1",
        "price": "5",
        "publish": "on",
    }
    html = admin_client.post(url, data, follow=True).content.decode()
    assert "2 products now cost €5.00." in html and "1 product published." in html
    assert "1 published product has no category yet" in html
    assert "1 product is still named after its camera file (“DSC01234”)" in html
    camera.refresh_from_db()
    assert camera.price == 5 and not camera.is_published
    spanish = admin_client.post(
        reverse(CHANGELIST),
        {"action": "publish", ACTION_CHECKBOX_NAME: [camera.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="es",
    ).content.decode()
    assert "(«DSC01234»)" in spanish


def test_set_price_without_publishing_leaves_them_hidden(admin_client, photo_bytes):
    product = make_product(photo_bytes, name="Bolso", price=None)
    action(admin_client, CHANGELIST, "set_price", [product], apply="1", price="30")
    product.refresh_from_db()
    assert product.price == Decimal("30") and not product.is_published


def test_deleting_in_the_admin_removes_the_photo_files(
    admin_client, photo_bytes, django_capture_on_commit_callbacks
):
    """One from its page, two from the list: the files went with none of them before."""
    one, *two = (make_product(another_photo(photo_bytes, q), name=f"P{q}") for q in (70, 80, 90))
    stored = [f for p in (one, *two) for f in (p.image, p.thumbnail)]
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:catalog_product_delete", args=[one.pk]), {"post": "yes"})
        action(admin_client, CHANGELIST, "delete_selected", two, post="yes")
    assert not Product.objects.exists()
    assert not any(f.storage.exists(f.name) for f in stored)


def test_review_queue_accept_and_reclassify(
    admin_client, photo_bytes, django_capture_on_commit_callbacks
):
    first = predict(make_product(photo_bytes, name="a"), label=8, confidence=0.3)
    second = predict(make_product(photo_bytes, name="b"), label=8, confidence=0.3)
    action(admin_client, REVIEW, "accept_suggestion", [first])
    first.refresh_from_db()
    assert first.category.slug == "bolsos"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        action(admin_client, REVIEW, "reclassify", [second])
    assert len(tasks(callbacks)) == 1
    second.refresh_from_db()
    assert second.classification_status == Product.Status.PENDING


def test_review_queue_has_no_add_button(admin_client):
    assert admin_client.get(reverse("admin:catalog_productreview_add")).status_code == 403


def test_bulk_upload_creates_the_good_reports_the_bad_and_queues_once(
    admin_client, photo_bytes, django_capture_on_commit_callbacks
):
    url = reverse("admin:catalog_product_bulk_upload")
    form_page = admin_client.get(url)
    assert form_page.status_code == 200
    assert 'type="file"' in form_page.content.decode() and "multiple" in form_page.content.decode()
    photos = [
        upload(photo_bytes, "camiseta_roja.jpg"),
        upload(another_photo(photo_bytes, 90), "pantalon-vaquero.jpg"),
        upload(another_photo(photo_bytes, 80), "bolso.jpg"),
        upload(b"not a photo", "notas.jpg"),
    ]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            url, {"photos": photos, "price": "15", "is_published": "on"}, follow=True
        )
    assert response.status_code == 200
    assert Product.objects.count() == 3
    assert set(Product.objects.values_list("name", flat=True)) == {
        "Camiseta roja",
        "Pantalon vaquero",
        "Bolso",
    }
    assert all(p.price == Decimal("15") and p.is_published for p in Product.objects.all())
    html = response.content.decode()
    assert "notas.jpg" in html and "not an image" in html
    assert "Created 3 products. The model is filing them." in html  # queued, not yet run
    assert len(tasks(callbacks)) == 1  # classification queued once, for the three


def test_bulk_upload_without_a_price_creates_them_hidden_and_says_so(admin_client, photo_bytes):
    response = admin_client.post(
        reverse("admin:catalog_product_bulk_upload"),
        {"photos": [upload(photo_bytes, "falda.jpg")], "price": "", "is_published": "on"},
        follow=True,
    )
    product = Product.objects.get()
    assert product.price == 0 and not product.is_published  # nobody sees it at 0,00 €
    assert HIDDEN_WARNING in response.content.decode()


def test_bulk_upload_at_a_price_of_0_creates_them_hidden_and_says_so(admin_client, photo_bytes):
    response = admin_client.post(
        reverse("admin:catalog_product_bulk_upload"),
        {"photos": [upload(photo_bytes, "falda.jpg")], "price": "0", "is_published": "on"},
        follow=True,
    )
    assert not Product.objects.get().is_published
    assert HIDDEN_WARNING in response.content.decode()


def test_bulk_upload_skips_photos_already_in_the_store_and_says_as_what(admin_client, photo_bytes):
    """A retried upload must not put every garment on sale twice (import_products skips them
    too); the same photo twice in one upload is created once."""
    url = reverse("admin:catalog_product_bulk_upload")
    make_product(photo_bytes, name="Falda plisada")
    other = another_photo(photo_bytes, 85)
    photos = [upload(photo_bytes, "IMG_1.jpg"), upload(other, "IMG_2.jpg")]
    photos.append(upload(other, "IMG_2_copia.jpg"))
    response = admin_client.post(url, {"photos": photos, "price": "9"}, follow=True)
    html = response.content.decode()
    assert Product.objects.count() == 2 and Product.objects.filter(name="IMG 2").exists()
    skipped = "Skipped 2 photos already in the store: IMG_1.jpg (“Falda plisada”), "
    assert skipped + "IMG_2_copia.jpg (“IMG 2, from this upload”)." in html
    assert "Created 1 product" in html

    # a retried upload of dozens: one message, the first few by name
    again = [upload(another_photo(photo_bytes, 60 + i), f"foto_{i}.jpg") for i in range(8)]
    admin_client.post(url, {"photos": again, "price": "9"})
    retried = [upload(another_photo(photo_bytes, 60 + i), f"foto_{i}.jpg") for i in range(8)]
    html = admin_client.post(url, {"photos": retried, "price": "9"}, follow=True).content.decode()
    assert html.count("already in the store") == 1
    assert "Skipped 8 photos already in the store: foto_0.jpg" in html and "and 3 more." in html


def test_bulk_upload_keeps_a_camera_named_product_hidden_and_says_so(admin_client, photo_bytes):
    """With "publish" ticked, "IMG 20231105 123456" must not go on sale; a person's name does."""
    photos = [
        upload(photo_bytes, "IMG_20231105_123456.jpg"),
        upload(another_photo(photo_bytes, 90), "WhatsApp Image 2024-01-02 at 10.11.12.jpeg"),
        upload(another_photo(photo_bytes, 80), "vestido rojo talla 38.jpg"),
    ]
    response = admin_client.post(
        reverse("admin:catalog_product_bulk_upload"),
        {"photos": photos, "price": "15", "is_published": "on"},
        follow=True,
    )
    hidden = Product.objects.get(name="IMG 20231105 123456")  # the name kept, to be changed
    assert not hidden.is_published and hidden.price == Decimal("15")
    assert not Product.objects.get(name="WhatsApp Image 2024 01 02 at 10 11 12").is_published
    assert Product.objects.get(name="Vestido rojo talla 38").is_published
    html = response.content.decode()
    assert html.count("named after") == 1  # one message for them all
    assert (
        "2 products were named after their camera file names (“IMG 20231105 123456”, "
        "“WhatsApp Image 2024 01 02 at 10 11 12”) and stay hidden: give them names and "
        "publish them." in html
    )
    assert "Created 3 products" in html

    # publishing it still named so waits for a name; named, it goes on sale
    action(admin_client, CHANGELIST, "publish", [hidden])
    hidden.refresh_from_db()
    assert not hidden.is_published
    services.product_update(product=hidden, data={"name": "Vestido de punto"})
    action(admin_client, CHANGELIST, "publish", [hidden])
    hidden.refresh_from_db()
    assert hidden.is_published


def test_bulk_upload_of_many_camera_names_names_the_first_few(admin_client, photo_bytes):
    photos = [upload(another_photo(photo_bytes, 60 + i), f"DSC_00{i}0.JPG") for i in range(7)]
    response = admin_client.post(
        reverse("admin:catalog_product_bulk_upload"),
        {"photos": photos, "price": "9", "is_published": "on"},
        follow=True,
    )
    assert not Product.objects.filter(is_published=True).exists()
    html = response.content.decode()
    assert "7 products were named after their camera file names (“DSC 0000”, " in html
    assert "“DSC 0040” and 2 more) and stay hidden" in html


def test_bulk_upload_not_asked_to_publish_says_nothing_of_camera_names(admin_client, photo_bytes):
    """They are hidden anyway: the shop did not ask for them in the store."""
    response = admin_client.post(
        reverse("admin:catalog_product_bulk_upload"),
        {"photos": [upload(photo_bytes, "IMG_2041.jpg")], "price": "9"},
        follow=True,
    )
    assert not Product.objects.get(name="IMG 2041").is_published
    assert "named after" not in response.content.decode()


def test_more_photos_than_the_server_takes_are_stopped_before_and_explained_after(
    admin_client, photo_bytes, settings
):
    """Django refuses more than DATA_UPLOAD_MAX_NUMBER_FILES files before any form sees them;
    the input says the limit for the browser to check (js/form_checks.js), and the 400 page
    says what to do."""
    url = reverse("admin:catalog_product_bulk_upload")
    html = admin_client.get(url).content.decode()
    photos_input = re.search(r'<input[^>]*name="photos"[^>]*>', html).group(0)
    assert f'data-max-files="{settings.DATA_UPLOAD_MAX_NUMBER_FILES}"' in photos_input
    assert "Choose at most %(count)d photos at a time" in photos_input
    assert "js/form_checks.js" in html

    too_many = [upload(photo_bytes, f"{i}.jpg") for i in range(3)]
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    response = admin_client.post(url, {"photos": too_many, "price": "5"})
    assert response.status_code == 400 and not Product.objects.exists()
    assert "elige menos a la vez" in response.content.decode()


def test_adding_a_photo_the_store_has_saves_it_and_says_which_product_has_it(
    admin_client, photo_bytes
):
    make_product(photo_bytes, name="Falda vaquera")
    data = {"image": upload(photo_bytes), "name": "Falda", "price": "10", "is_published": "on"}
    response = admin_client.post(reverse("admin:catalog_product_add"), data, follow=True)
    assert Product.objects.count() == 2
    assert "“Falda vaquera” already has this photo" in response.content.decode()


def test_adding_a_product_at_0_saves_it_hidden_rather_than_losing_its_photo(
    admin_client, photo_bytes
):
    """Refusing the form would bring it back without the photo; bulk uploads do the same."""
    data = {"image": upload(photo_bytes), "name": "Falda", "price": "0", "is_published": "on"}
    response = admin_client.post(reverse("admin:catalog_product_add"), data, follow=True)
    product = Product.objects.get()
    assert product.price == 0 and not product.is_published and product.image
    assert HIDDEN_WARNING in response.content.decode()


def test_bulk_upload_without_photos_is_a_form_error(admin_client):
    response = admin_client.post(reverse("admin:catalog_product_bulk_upload"), {"price": "1"})
    assert response.status_code == 200
    assert "photos" in response.context["form"].errors


def test_category_admin_lists_product_counts(admin_client, photo_bytes):
    make_product(photo_bytes, category=Category.objects.get(slug="bolsos"))
    response = admin_client.get(reverse("admin:catalog_category_changelist"))
    assert response.status_code == 200
    rows = {c.slug: c._product_count for c in response.context["cl"].result_list}
    assert rows["bolsos"] == 1 and rows["vestidos"] == 0


def test_a_category_for_a_class_is_chosen_by_name_goes_last_and_points_to_its_waiting_products(
    admin_client, photo_bytes
):
    """The class was a bare number to look up on the Model page; a new category went first in
    the menu; the products already waiting with that class stayed in the queue unmentioned."""
    skirt = next(label for label in selectors.served_labels() if label.name == "Skirt")
    waiting = make_product(photo_bytes, name="Falda vaquera")
    Product.objects.filter(pk=waiting.pk).update(
        classification_status=Product.Status.NEEDS_REVIEW, predicted_label=skirt.index
    )
    add = reverse("admin:catalog_category_add")
    page = admin_client.get(add).content.decode()
    assert f'<option value="{skirt.index}">{skirt.index} · Skirts (Skirt)</option>' in page
    assert ">1 · Trousers (Trouser) → Trousers</option>" in page  # taken: by which category
    last = max(Category.objects.values_list("position", flat=True))
    assert re.search(rf'name="position" value="{last + 1}"', page)

    response = admin_client.post(
        add,
        {
            "slug": "faldas",
            "name_es": "Faldas",
            "name_en": "Skirts",
            "classifier_label": str(skirt.index),
            "position": str(last + 1),
            "keywords": "",
        },
        follow=True,
    )
    html = response.content.decode()
    assert Category.objects.get(slug="faldas").classifier_label == skirt.index
    assert "1 product in the review queue is suggested as this category&#x27;s class" in html
    assert reverse("admin:catalog_productreview_changelist") in html


def test_naming_a_camera_named_product_in_its_page_gives_it_an_address_by_its_name(
    admin_client, photo_bytes
):
    """The form had set the new name on the product before the service looked: the rule never
    fired from the admin, the way shops name them. Publishing in the same save counts too."""
    product = make_product(photo_bytes, name="IMG 2042", is_published=False)
    assert product.slug == "img-2042"
    admin_client.post(
        reverse("admin:catalog_product_change", args=[product.pk]),
        {
            "name": "Vestido rojo de fiesta",
            "price": "30",
            "description": "",
            "category": Category.objects.get(slug="vestidos").pk,
            "is_published": "on",
        },
    )
    product.refresh_from_db()
    assert product.slug == "vestido-rojo-de-fiesta" and product.is_published
    assert product.category.slug == "vestidos"


def test_a_shop_checks_what_the_model_filed_lately(admin_client, photo_bytes):
    """Filed on its own, a product goes on sale unseen: the list shows those of today or of
    the week, not a person's choices nor older ones."""
    today = predict(make_product(photo_bytes, name="Hoy"), label=1, confidence=0.95)
    old = predict(
        make_product(another_photo(photo_bytes, 80), name="Antiguo"), label=1, confidence=0.95
    )
    Product.objects.filter(pk=old.pk).update(classified_at=timezone.now() - timedelta(days=3))
    person = make_product(
        another_photo(photo_bytes, 70), name="Elegido", category=Category.objects.get(slug="bolsos")
    )
    assert today.category_source == Product.CategorySource.MODEL

    def listed(when: str) -> set[str]:
        response = admin_client.get(reverse(CHANGELIST), {"filed_by_model": when})
        return {p.name for p in response.context["cl"].result_list}

    assert listed("today") == {"Hoy"}
    assert listed("week") == {"Hoy", "Antiguo"}
    assert "Elegido" not in listed("week") and person.category_source == "person"
    assert "filed by the model" in admin_client.get(reverse(CHANGELIST)).content.decode()


def test_djangos_admin_sentences_read_as_the_shops_spanish(admin_client, photo_bytes):
    """Django's Spanish said "El categoría “Faldas” fue agregado correctamente"; the store's
    own translation names the model in brackets, whatever its gender."""
    admin_client.cookies["django_language"] = "es"
    response = admin_client.post(
        reverse("admin:catalog_category_add"),
        {"slug": "faldas", "name_es": "Faldas", "name_en": "Skirts", "position": "20"},
        follow=True,
    )
    html = response.content.decode()
    added = Category.objects.get(slug="faldas")
    link = f'<a href="{reverse("admin:catalog_category_change", args=[added.pk])}">Faldas</a>'
    assert f"Se ha añadido «{link}» (categoría)." in html and "El categoría" not in html
    product = make_product(photo_bytes)  # the list shows its actions once it has a row
    products = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "Eliminar la selección (productos)" in products and "seleccionado/s" not in products
    delete = reverse("admin:catalog_product_delete", args=[product.pk])
    asked = admin_client.get(delete).content.decode()
    assert (
        "¿Seguro que quieres borrar «Pantalón» (producto)?" in asked and "los producto" not in asked
    )


@pytest.mark.parametrize(
    "url",
    [
        "admin:catalog_product_changelist",
        "admin:catalog_product_bulk_upload",
        "admin:catalog_productreview_changelist",
    ],
)
def test_non_staff_cannot_reach_the_admin(client, django_user_model, url):
    user = django_user_model.objects.create_user("customer", password="pw-123456")
    client.force_login(user)
    response = client.get(reverse(url))
    assert response.status_code == 302
    assert reverse("admin:login") in response.url
    client.logout()
    assert client.get(reverse(url)).status_code == 302


def test_staff_without_add_permission_cannot_bulk_upload(client, django_user_model):
    staff = django_user_model.objects.create_user("clerk", password="pw-123456", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("admin:catalog_product_bulk_upload")).status_code == 403
