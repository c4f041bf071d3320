"""Every kind of bad or odd file through every door: the admin form, the API upload,
/api/classify/ and ``import_products``.

A bad file gets its specific reason (400 in the API, a form error in the admin, a line in the
import's summary) and leaves no product and no stored file; an odd but real photo (16-bit, CMYK,
alpha, animated, EXIF-rotated, WebP) is stored under a safe name and classified like the same
garment as an ordinary JPEG. The files are made by ``tests.photo_files``.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

import classifier
from catalog.models import Product
from catalog.photos import photo_error_message, validated_photo
from classifier.preprocess import MESSAGES, UnreadableImage
from tests.catalog.api.conftest import ENGLISH
from tests.photo_files import BAD_INPUTS, ODD_PHOTOS, UPLOAD_LIMIT

pytestmark = pytest.mark.django_db

DOORS = ("admin", "api_upload", "api_classify", "import")
STORED_NAME = re.compile(r"^products/\d{4}/\d{2}/[0-9a-f]{32}\.(jpg|png|gif|webp)$")
REAL_EXTENSION = {
    "16-bit.png": "png",
    "cmyk.jpg": "jpg",
    "alpha.png": "png",
    "animated.gif": "gif",
    "phone-rotated.jpg": "jpg",
    "photo.webp": "webp",
}


@pytest.fixture(autouse=True)
def _limits_and_fresh_throttle(settings):
    settings.PERCHA = {**settings.PERCHA, "MAX_UPLOAD_BYTES": UPLOAD_LIMIT}
    cache.clear()  # the anonymous classify throttle counts in the cache
    yield
    cache.clear()


@pytest.fixture
def token_client(django_user_model) -> APIClient:
    staff = django_user_model.objects.create_user("tienda", password="x", is_staff=True)
    client = APIClient(**ENGLISH)
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
    return client


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient(**ENGLISH)


@pytest.fixture
def reference_label(photo_bytes) -> int:
    """What the model says about the ordinary JPEG of the garment every odd photo shows."""
    return classifier.classify_image(photo_bytes).label


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def upload(data: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")  # the client's word only


def send(door: str, data: bytes, name: str, *, client, admin_client, tmp_path) -> tuple[int, str]:
    """Send one file through one door; returns a status (HTTP or import count) and the text a
    person reads about it."""
    if door == "admin":
        response = admin_client.post(
            reverse("admin:catalog_product_add"),
            {"image": upload(data, name), "name": "Prenda", "price": "10", "is_published": "on"},
        )
        if response.status_code == 200:
            errors = response.context["adminform"].form.errors
            return 400, " ".join(errors.get("image", [])) or str(errors)
        return response.status_code, ""
    if door == "api_upload":
        response = client.post(
            reverse("api:product-list"),
            {"name": "Prenda", "price": "10", "image": upload(data, name)},
        )
        return response.status_code, " ".join(response.json().get("image", []))
    if door == "api_classify":
        response = client.post(reverse("api:classify"), {"image": upload(data, name)})
        return response.status_code, " ".join(response.json().get("image", []))
    folder = tmp_path / "import"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)
    out = io.StringIO()
    with translation.override("en"):
        call_command("import_products", str(folder), stdout=out, verbosity=0)
    return Product.objects.count(), out.getvalue()


@pytest.fixture
def door_kit(token_client, admin_client, tmp_path):
    admin_client.defaults.update(ENGLISH)
    return {"client": token_client, "admin_client": admin_client, "tmp_path": tmp_path}


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("bad", BAD_INPUTS, ids=[b.name for b in BAD_INPUTS])
def test_bad_file_is_refused_with_its_reason_and_leaves_nothing(
    door, bad, door_kit, photo_bytes, settings, django_capture_on_commit_callbacks
):
    data = bad.make(photo_bytes)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        status, text = send(door, data, bad.name, **door_kit)

    if door == "import":
        assert status == 0
        assert f"skipped {bad.name}: " in text and bad.reason in text, text
        assert "Imported 0, skipped 1" in text
    else:
        assert status == 400, text
        assert bad.reason in text
    assert Product.objects.count() == 0
    assert stored_files(settings) == []
    assert not [c for c in callbacks if door != "import"]  # nothing queued for the model


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("name", list(ODD_PHOTOS))
def test_odd_but_real_photo_is_stored_safely_and_classified_like_a_plain_one(
    door, name, door_kit, photo_bytes, reference_label, django_capture_on_commit_callbacks
):
    data = ODD_PHOTOS[name](photo_bytes)
    with django_capture_on_commit_callbacks(execute=True):  # the model runs (in-process)
        status, text = send(door, data, name, **door_kit)

    if door == "api_classify":
        assert status == 200, text
        return  # nothing stored; the label is checked below through the same code path
    assert status == {"admin": 302, "api_upload": 202, "import": 1}[door], text
    product = Product.objects.get()
    assert STORED_NAME.match(product.image.name), product.image.name
    assert product.image.name.endswith("." + REAL_EXTENSION[name])  # from the bytes, not the name
    assert product.thumbnail.name.endswith(".webp")
    assert product.classification_status in (
        Product.Status.CLASSIFIED,
        Product.Status.NEEDS_REVIEW,
    ), product.classification_error
    assert product.predicted_label == reference_label


@pytest.mark.parametrize("name", list(ODD_PHOTOS))
def test_classify_endpoint_answers_the_same_label_for_odd_photos(
    name, anon_client, photo_bytes, reference_label
):
    data = ODD_PHOTOS[name](photo_bytes)
    response = anon_client.post(reverse("api:classify"), {"image": upload(data, name)})
    assert response.status_code == 200, response.content
    assert response.json()["label"] == reference_label


def test_the_whole_mess_in_one_import_folder(tmp_path, photo_bytes, settings, reference_label):
    """One folder with every bad and every odd file: the good imported, each bad one named."""
    folder = tmp_path / "dump"
    folder.mkdir()
    for bad in BAD_INPUTS:
        (folder / bad.name).write_bytes(bad.make(photo_bytes))
    for name, make in ODD_PHOTOS.items():
        (folder / name).write_bytes(make(photo_bytes))
    out = io.StringIO()
    with translation.override("en"):
        call_command("import_products", str(folder), stdout=out, verbosity=0)
    text = out.getvalue()

    assert f"Imported {len(ODD_PHOTOS)}, skipped {len(BAD_INPUTS)}" in text
    for bad in BAD_INPUTS:
        line = next(x for x in text.splitlines() if x.startswith(f"skipped {bad.name}:"))
        assert bad.reason in line
    assert Product.objects.count() == len(ODD_PHOTOS)
    assert len(stored_files(settings)) == 2 * len(ODD_PHOTOS)  # photo + thumbnail each


def test_bulk_upload_takes_the_odd_photos_and_names_each_bad_one(admin_client, photo_bytes):
    admin_client.defaults.update(ENGLISH)
    photos = [upload(b.make(photo_bytes), b.name) for b in BAD_INPUTS]
    photos += [upload(make(photo_bytes), name) for name, make in ODD_PHOTOS.items()]

    response = admin_client.post(
        reverse("admin:catalog_product_bulk_upload"), {"photos": photos, "price": "5"}, follow=True
    )

    html = response.content.decode()
    assert Product.objects.count() == len(ODD_PHOTOS)
    for bad in BAD_INPUTS:
        assert bad.name in html
    assert f"Created {len(ODD_PHOTOS)} products" in html


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=[b.name for b in BAD_INPUTS])
def test_the_refusal_names_its_reason_code(bad, photo_bytes):
    with pytest.raises(ValidationError) as caught:
        validated_photo(upload(bad.make(photo_bytes), bad.name))
    assert caught.value.error_list[0].code == bad.code


def test_every_reason_is_shown_in_english_and_in_spanish():
    for code, message in MESSAGES.items():
        params = dict.fromkeys(re.findall(r"%\((\w+)\)", message), 7)
        refusal = UnreadableImage(code, **params)
        with translation.override("en"):
            assert photo_error_message(refusal) == str(refusal), code
        with translation.override("es"):
            assert photo_error_message(refusal) != str(refusal), f"no Spanish for {code!r}"


def test_pixel_counts_are_written_as_the_readers_language_writes_them():
    refusal = UnreadableImage("too_many_pixels", width=9000, height=6000, max_pixels=40_000_000)
    assert "more than the 40,000,000 allowed" in str(refusal)
    with translation.override("es"):  # Django's Spanish groups with a no-break space
        assert "más de los 40\xa0000\xa0000 permitidos" in photo_error_message(refusal)
    with translation.override("en"):
        assert "40,000,000" in photo_error_message(refusal)


def test_a_damaged_photo_is_refused_without_the_decoders_english(photo_bytes):
    with translation.override("es"), pytest.raises(ValidationError) as caught:
        validated_photo(upload(photo_bytes[: len(photo_bytes) // 2], "cortada.jpg"))
    message = " ".join(caught.value.messages)
    assert "dañada" in message and "truncated" not in message and "bytes" not in message


def test_the_reason_is_in_spanish_by_default(anon_client, photo_bytes):
    anon_client.defaults.pop("HTTP_ACCEPT_LANGUAGE", None)
    response = anon_client.post(reverse("api:classify"), {"image": upload(b"", "vacia.jpg")})
    assert response.status_code == 400
    assert "vacío" in response.json()["image"][0]


@translation.override("en")
def test_a_message_of_its_own_survives_pickling():
    import pickle

    exc = pickle.loads(pickle.dumps(UnreadableImage("too_small", width=1, height=2, min=8)))  # noqa: S301
    assert str(exc) == "the image is only 1x2 pixels; upload a photo at least 8x8"
    assert photo_error_message(exc) == str(exc)


@translation.override("en")
def test_limits_are_settings(settings, photo_bytes):
    settings.PERCHA = {**settings.PERCHA, "MAX_IMAGE_PIXELS": 10_000}
    with pytest.raises(ValidationError, match="more than the 10,000 allowed"):
        validated_photo(upload(photo_bytes, "ok.jpg"))
    settings.PERCHA = {**settings.PERCHA, "MAX_UPLOAD_BYTES": 100}
    with pytest.raises(ValidationError, match="Upload a smaller photo"):
        validated_photo(upload(photo_bytes, "ok.jpg"))


# --- stored files are served as images, never as HTML or script -------------------------------


def test_stored_photo_is_served_as_an_image_with_inert_headers(
    token_client, photo_bytes, django_capture_on_commit_callbacks
):
    # a polyglot: a valid JPEG whose comment is an HTML page, named as a page
    polyglot = io.BytesIO()
    script = b"<html><script>alert(document.cookie)</script></html>"
    Image.open(io.BytesIO(photo_bytes)).save(polyglot, "JPEG", comment=script)
    assert script in polyglot.getvalue()
    with django_capture_on_commit_callbacks(execute=False):
        created = token_client.post(
            reverse("api:product-list"),
            {"name": "x", "price": "1", "image": upload(polyglot.getvalue(), "<script>.html")},
        )
    assert created.status_code == 202, created.content
    for field, content_type in (("image", "image/jpeg"), ("thumbnail", "image/webp")):
        url = created.json()[field]
        assert url.endswith((".jpg", ".webp")) and "script" not in url
        response = token_client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        # the same bytes in every language: one cached copy, not one per Accept-Language
        assert "Accept-Language" not in response.get("Vary", "")
        assert "Content-Language" not in response


@pytest.mark.parametrize(
    "name", ["evil.html", "evil.svg", "evil.js", "products/evil", "../shop/settings.py"]
)
def test_nothing_but_photos_is_served_from_media(client, settings, name):
    media = Path(settings.MEDIA_ROOT)
    (media / "products").mkdir(parents=True)
    for file in ("evil.html", "evil.svg", "evil.js", "products/evil"):
        (media / file).write_text("<script>alert(1)</script>")
    response = client.get(f"{settings.MEDIA_URL}{name}")
    assert response.status_code == 404
