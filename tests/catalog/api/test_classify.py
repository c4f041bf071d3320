"""POST /api/classify/: the model's answer for a photo, nothing stored, anonymous callers capped."""

from __future__ import annotations

import math

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import Category, Product
from tests.conftest import CLOTHING_PHOTOS_DIR, SERVED_CLASSES

pytestmark = pytest.mark.django_db
URL = reverse("api:classify")


def photo(data: bytes, name: str = "foto.jpg") -> dict:
    return {"image": SimpleUploadedFile(name, data, content_type="image/jpeg")}


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()  # throttle history lives in the cache
    yield
    cache.clear()


@pytest.fixture
def throttle_rate(settings):
    def set_rate(rate: str) -> None:
        rest = settings.REST_FRAMEWORK
        settings.REST_FRAMEWORK = {**rest, "DEFAULT_THROTTLE_RATES": {"classify_anon": rate}}

    return set_rate


def test_a_shoe_is_answered_with_the_category_the_store_files_it_under(anon_client):
    """The store files any footwear class under Calzado (the card groups them): so does the
    answer, while the label stays the class the model found most likely."""
    shoe = sorted((CLOTHING_PHOTOS_DIR / "validation" / "shoes").glob("*.jpg"))[2].read_bytes()
    body = anon_client.post(URL, photo(shoe, "zapato.jpg")).json()
    assert body["label"] in (5, 7, 9), body
    assert body["category"]["slug"] == "calzado"


def test_classify_answers_the_prediction_and_stores_nothing(anon_client, photo_bytes, settings):
    response = anon_client.post(URL, photo(photo_bytes))

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {
        "label", "label_name", "confidence", "probabilities", "model_version", "category",
        "would_file",
    }  # fmt: skip
    probabilities = body["probabilities"]
    assert len(probabilities) == SERVED_CLASSES and all(0 <= p <= 1 for p in probabilities)
    assert math.isclose(sum(probabilities), 1, abs_tol=1e-3)
    assert 0 <= body["label"] < SERVED_CLASSES
    assert body["confidence"] == pytest.approx(max(probabilities))
    assert body["confidence"] == pytest.approx(probabilities[body["label"]])
    assert body["label_name"] and body["model_version"]
    expected = Category.objects.get(classifier_label=body["label"])
    assert body["category"]["slug"] == expected.slug
    assert body["category"]["name"] == expected.name_en
    assert body["category"]["url"].endswith(f"/api/categories/{expected.slug}/")
    assert Product.objects.count() == 0
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


@pytest.mark.parametrize(("threshold", "filed"), [(0.0, True), (1.0001, False)])
def test_would_file_says_whether_an_upload_would_skip_the_review_queue(
    anon_client, photo_bytes, settings, threshold, filed
):
    """The same rule as an upload's: confident enough by the store's threshold, and a category
    for the label; otherwise a person decides."""
    settings.PERCHA = {**settings.PERCHA, "CONFIDENCE_THRESHOLD": threshold}
    body = anon_client.post(URL, photo(photo_bytes)).json()
    assert body["would_file"] is filed and body["category"] is not None


def test_category_is_null_when_no_category_has_the_label(anon_client, photo_bytes):
    Category.objects.filter(parent__isnull=False).update(parent=None)
    Category.objects.update(classifier_label=None)

    body = anon_client.post(URL, photo(photo_bytes)).json()

    assert body["category"] is None and 0 <= body["label"] < SERVED_CLASSES
    assert body["would_file"] is False


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"<html>hello</html>", "not an image"), (b"", "the file is empty")],
    ids=["text-named-jpg", "empty"],
)
def test_bad_file_is_400_with_the_reason(anon_client, data, message):
    response = anon_client.post(URL, photo(data))

    assert response.status_code == 400
    (error,) = response.json()["image"]
    assert message in error and "upload a JPEG, PNG or WebP photo" in error


def test_missing_file_and_json_body_are_refused(anon_client):
    missing = anon_client.post(URL, {})
    assert missing.status_code == 400
    assert missing.json()["image"] == ["Send the photo as the multipart field 'image'."]
    assert anon_client.post(URL, {"image": "x"}, format="json").status_code == 415


def test_missing_model_is_503_with_retry_after(anon_client, photo_bytes, settings, tmp_path):
    settings.PERCHA = {**settings.PERCHA, "MODEL_PATH": tmp_path / "no-model.tflite"}

    response = anon_client.post(URL, photo(photo_bytes))

    assert response.status_code == 503
    assert "try again in a few minutes" in response.json()["detail"]
    assert str(tmp_path) not in response.json()["detail"]  # no server paths to the public
    assert response["Retry-After"] == "60"


def test_anonymous_callers_are_throttled_after_the_rate(anon_client, throttle_rate):
    throttle_rate("2/minute")
    # Bad files are refused after the throttle is counted, so no model run is needed here.
    codes = [anon_client.post(URL, photo(b"not a photo")).status_code for _ in range(3)]

    assert codes == [400, 400, 429]
    throttled = anon_client.post(URL, photo(b"not a photo"))
    assert throttled.status_code == 429
    assert "Try again in" in throttled.json()["detail"]
    assert "sign in" not in throttled.json()["detail"]  # an anonymous caller has no way to
    assert 0 < int(throttled["Retry-After"]) <= 60


def test_the_rate_comes_from_settings(anon_client, throttle_rate):
    throttle_rate("5/minute")
    codes = [anon_client.post(URL, photo(b"x")).status_code for _ in range(6)]
    assert codes == [400] * 5 + [429]


@pytest.mark.parametrize("client_name", ["staff_session", "staff_token", "customer"])
def test_signed_in_callers_are_not_throttled(clients, client_name, throttle_rate):
    throttle_rate("1/minute")
    client = clients[client_name]
    codes = [client.post(URL, photo(b"not a photo")).status_code for _ in range(3)]
    assert codes == [400, 400, 400]
