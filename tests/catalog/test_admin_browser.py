"""The store in a real headless Chromium: the admin's in-browser guess on the product form, and
the README's screenshots of the storefront and the review queue (real photos, real model)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from catalog import services
from catalog.models import Category, Product
from tests.browser import browser_errors, save_screenshot
from tests.catalog.test_classifier_browser import sure_photo
from tests.conftest import CLOTHING_PHOTOS_DIR

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
# (folder, product name) of the demo catalog the screenshots show, two photos each
DEMO = [
    ("t-shirt", "Camiseta"),
    ("pants", "Pantalón"),
    ("dress", "Vestido"),
    ("outwear", "Abrigo"),
    ("shoes", "Zapatillas"),
    ("longsleeve", "Jersey"),
    ("hat", "Sombrero"),
    ("skirt", "Falda"),
]


def log_in(driver, live_server, client, user) -> None:
    client.force_login(user)
    driver.get(live_server.url + "/admin/login/")
    driver.add_cookie({"name": "sessionid", "value": client.cookies["sessionid"].value})


def demo_catalog() -> list[Product]:
    """Real validation photos through the real service and model (tasks run in-process)."""
    products = []
    for folder, name in DEMO:
        paths = sorted((CLOTHING_PHOTOS_DIR / "validation" / folder).glob("*.jpg"))[:2]
        for i, path in enumerate(paths):
            upload = SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/jpeg")
            products.append(
                services.product_create(
                    name=f"{name} {i + 1}", image=upload, price=Decimal(19 + 10 * i)
                )
            )
    return [Product.objects.get(pk=p.pk) for p in products]


def test_the_product_form_guesses_the_category_as_soon_as_a_photo_is_chosen(
    chromium, live_server, client, admin_user, tmp_path
):
    photo, label = sure_photo("pants")
    path = tmp_path / "IMG_2041.jpg"  # a phone's name: no name is made from it
    path.write_bytes(photo)
    log_in(chromium, live_server, client, admin_user)
    chromium.get(live_server.url + reverse("admin:catalog_product_add"))
    preview = chromium.find_element(By.CSS_SELECTOR, "[data-photo-preview]")
    assert preview.get_attribute("hidden")  # nothing loaded or shown before a photo
    assert chromium.execute_script("return typeof window.cv") == "undefined"
    chromium.find_element(By.ID, "id_image").send_keys(str(path))
    WebDriverWait(chromium, 90).until(
        lambda d: preview.get_attribute("data-state") in {"done", "error"}
    )
    assert preview.get_attribute("data-state") == "done", (
        preview.text,
        browser_errors(chromium),
    )
    assert int(preview.get_attribute("data-label")) == label
    category = Category.objects.get(classifier_label=label)
    assert category.name_es in preview.text
    assert re.search(r"\d\s%\)", preview.text), preview.text  # "(97 %)": Spanish, as the page
    save_screenshot(chromium, "admin-product-form")

    # a form the server would refuse (no name) leaves the browser with its photo: it does not
    chromium.find_element(By.ID, "id_price").send_keys("5")
    chromium.find_element(By.CSS_SELECTOR, "#product_form [type=submit][name=_save]").click()
    assert not Product.objects.exists()
    name = chromium.find_element(By.ID, "id_name")
    assert name.get_attribute("value") == ""  # not "IMG 2041"
    assert chromium.execute_script("return arguments[0].validity.valueMissing", name)
    image = chromium.find_element(By.ID, "id_image")
    assert chromium.execute_script("return arguments[0].files.length", image) == 1

    # a class the store has no category for: sure of it, and it says why the product will wait
    shorts, shorts_label = sure_photo("shorts")
    assert not Category.objects.filter(classifier_label=shorts_label).exists()
    (tmp_path / "corto.jpg").write_bytes(shorts)
    chromium.find_element(By.ID, "id_image").send_keys(str(tmp_path / "corto.jpg"))
    WebDriverWait(chromium, 90).until(
        lambda d: (
            preview.get_attribute("data-label") == str(shorts_label)
            and preview.get_attribute("data-state") == "done"
        )
    )
    assert "la tienda no tiene categoría" in preview.text and "no está seguro" not in preview.text
    # a person's file name fills the empty name, as a bulk upload would name the product;
    # another photo replaces a name made so, never one typed
    assert name.get_attribute("value") == "Corto"
    (tmp_path / "falda-vaquera.jpg").write_bytes(shorts)
    chromium.find_element(By.ID, "id_image").send_keys(str(tmp_path / "falda-vaquera.jpg"))
    WebDriverWait(chromium, 10).until(lambda d: name.get_attribute("value") == "Falda vaquera")
    name.clear()
    name.send_keys("Mi falda")
    chromium.find_element(By.ID, "id_image").send_keys(str(tmp_path / "corto.jpg"))
    assert name.get_attribute("value") == "Mi falda"


def list_fits_the_window(driver) -> bool:
    """The admin's list table fits its box in the 1280 px window: no column is hidden to the
    right, behind a scroll bar a shop owner would not look for."""
    return driver.execute_script(
        "const box = document.querySelector('#changelist .results');"
        "return box.scrollWidth <= box.clientWidth"
    )


def test_screenshots_of_the_storefront_the_review_queue_and_the_model_page(
    chromium, live_server, client, admin_user
):
    products = demo_catalog()
    filed = [p for p in products if p.category_id is not None]
    held = [p for p in products if p.classification_status == Product.Status.NEEDS_REVIEW]
    assert filed and held, [(p.name, p.classification_status) for p in products]

    chromium.get(live_server.url + "/")
    assert chromium.find_elements(By.CSS_SELECTOR, ".product-grid li")  # the filed products
    save_screenshot(chromium, "storefront")
    chromium.get(live_server.url + filed[0].category.get_absolute_url())
    save_screenshot(chromium, "category")

    log_in(chromium, live_server, client, admin_user)
    chromium.get(live_server.url + reverse("admin:catalog_productreview_changelist"))
    rows = chromium.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == len(held)
    save_screenshot(chromium, "review-queue")
    assert list_fits_the_window(chromium)
    # a name without spaces (a supplier's file name) must not push the columns out either
    Product.objects.filter(pk=products[0].pk).update(
        name="Camiseta_algodon_organico_manga_corta_cuello_redondo_2026-AB-000123"
    )
    chromium.get(live_server.url + reverse("admin:catalog_product_changelist"))
    assert len(chromium.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")) == len(products)
    save_screenshot(chromium, "product-list")
    assert list_fits_the_window(chromium)
    chromium.get(live_server.url + reverse("admin:catalog_trainingrun_changelist"))
    assert chromium.find_element(By.ID, "retrain").is_displayed()
    save_screenshot(chromium, "model-page")


def test_a_wrong_price_or_too_many_photos_are_stopped_before_the_photos_are_sent(
    chromium, live_server, client, admin_user
):
    """A form the server refuses comes back without its chosen photos; Chromium checks the
    price's pattern first, in the page's language, and keeps the form (and the photos) as
    they are."""
    log_in(chromium, live_server, client, admin_user)
    chromium.get(live_server.url + reverse("admin:catalog_product_bulk_upload"))
    photos = sorted((CLOTHING_PHOTOS_DIR / "validation" / "dress").glob("*.jpg"))[:2]
    chromium.find_element(By.NAME, "photos").send_keys("\n".join(str(p) for p in photos))
    price = chromium.find_element(By.NAME, "price")

    def mismatch(typed: str) -> bool:
        price.clear()
        price.send_keys(typed)
        return chromium.execute_script("return arguments[0].validity.patternMismatch", price)

    assert [mismatch(t) for t in ("10 €", "diez", "10,505")] == [True] * 3
    assert [mismatch(t) for t in ("10,50", "10.50", "10")] == [False] * 3
    mismatch("10 €")
    page = chromium.find_element(By.TAG_NAME, "html")
    chromium.find_element(By.CSS_SELECTOR, "#content-main form [type=submit]").click()
    assert page.is_displayed()  # the same page: no request was sent, nothing reloaded
    assert Product.objects.count() == 0
    files = chromium.execute_script("return document.querySelector('[name=photos]').files.length")
    assert files == 2

    # more photos than the server takes (100): stopped here too, with the limit said
    many = sorted((CLOTHING_PHOTOS_DIR / "validation").glob("*/*.jpg"))[:101]
    chromium.find_element(By.NAME, "photos").send_keys("\n".join(str(p) for p in many))
    mismatch("10,50")
    chromium.find_element(By.CSS_SELECTOR, "#content-main form [type=submit]").click()
    assert page.is_displayed() and Product.objects.count() == 0
    photos_input = chromium.find_element(By.NAME, "photos")
    message = chromium.execute_script("return arguments[0].validationMessage", photos_input)
    assert "100" in message and "%(count)d" not in message, message
    assert not browser_errors(chromium)
