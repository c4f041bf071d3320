"""Shared fixtures: the real Fashion-MNIST folder, photos drawn by the tests, fast settings."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import ml_training  # noqa: F401  # first: it turns TensorFlow's oneDNN kernels on before TF loads

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"
FASHION_MNIST_DIR = Path(os.environ.get("FASHION_MNIST_DIR", SHARED_DATASETS / "fashion-mnist"))
CLOTHING_PHOTOS_DIR = SHARED_DATASETS / "clothing-photos"
# how many classes the committed model answers with (Fashion-MNIST's ten + those from photos)
SERVED_CLASSES = len(
    json.loads((ROOT / "classifier" / "artifacts" / "model_card.json").read_text())["classes"]
)


@pytest.fixture(scope="session")
def fashion_mnist_dir() -> Path:
    """The real data set; CI has it beside the checkout, so a missing folder is an error."""
    if not (FASHION_MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.fail(f"Fashion-MNIST not found in {FASHION_MNIST_DIR}; set FASHION_MNIST_DIR")
    return FASHION_MNIST_DIR


@pytest.fixture(scope="session")
def fashion_test_set(fashion_mnist_dir):
    """uint8 test images (10000, 28, 28) and labels, read with our own loader."""
    from ml_training.data import IMAGES_MAGIC, LABELS_MAGIC, read_idx

    images = read_idx(fashion_mnist_dir / "t10k-images-idx3-ubyte.gz", IMAGES_MAGIC)
    labels = read_idx(fashion_mnist_dir / "t10k-labels-idx1-ubyte.gz", LABELS_MAGIC)
    return images, labels


def render_as_photo(
    image: np.ndarray, scale: int = 12, margin: int = 40, fmt: str = "JPEG"
) -> bytes:
    """A Fashion-MNIST image as a shop photo: dark garment on white, upscaled, with a margin."""
    garment = Image.fromarray(255 - image).resize(
        (28 * scale, 28 * scale), Image.Resampling.BICUBIC
    )
    canvas = Image.new("L", (28 * scale + 2 * margin, 28 * scale + 2 * margin), 255)
    canvas.paste(garment, (margin, margin))
    out = io.BytesIO()
    canvas.convert("RGB").save(out, fmt, quality=92)
    return out.getvalue()


@pytest.fixture
def photo_bytes(fashion_test_set) -> bytes:
    """A real-looking product photo (a Fashion-MNIST trouser rendered dark on white)."""
    images, labels = fashion_test_set
    index = int(np.flatnonzero(labels == 1)[0])
    return render_as_photo(images[index])


@pytest.fixture(scope="session", autouse=True)
def _own_cache_folder(tmp_path_factory):
    """The tests' cache in a folder of their own. The default one (``.cache/catalog``) is the
    development store's: a test's ``cache.clear()`` emptied it, and a test's pages and category
    tree could be served by ``make run`` for minutes. Commands a test runs in a subprocess
    (``manage.py import_products``) read the same folder, through ``CACHE_URL``."""
    from django.test.utils import override_settings

    folder = tmp_path_factory.mktemp("cache")
    os.environ["CACHE_URL"] = f"filecache://{folder}"
    backend = "django.core.cache.backends.filebased.FileBasedCache"
    with override_settings(CACHES={"default": {"BACKEND": backend, "LOCATION": str(folder)}}):
        yield folder


@pytest.fixture(autouse=True)
def _fast_and_isolated(request, tmp_path):
    """Media into a temporary folder, a fast password hasher and an empty cache (the catalog's
    pages cached by one test must not be served in the next one), for Django tests only."""
    if "settings" not in request.fixturenames and "db" not in request.fixturenames:
        yield
        return
    from django.core.cache import cache

    settings = request.getfixturevalue("settings")
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield


@pytest.fixture(scope="session")
def _chromium_session():
    from tests.browser import require_chromium, start_chromium

    require_chromium()
    driver = start_chromium()
    yield driver
    driver.quit()


@pytest.fixture
def short_lived_connections():
    """The live server answers each request on a new thread: persistent connections would pile
    up to PostgreSQL's limit (gunicorn's workers reuse theirs; this is the test server only)."""
    from django.db import connections

    db = connections.settings["default"]
    saved, db["CONN_MAX_AGE"] = db["CONN_MAX_AGE"], 0
    yield
    db["CONN_MAX_AGE"] = saved


@pytest.fixture
def chromium(_chromium_session, short_lived_connections):
    """A headless Chromium (one per test session, Spanish, desktop-sized), left on a blank page
    with no cookies after each test so that it holds no connection to a closed live server."""
    yield _chromium_session
    _chromium_session.get("about:blank")
    _chromium_session.delete_all_cookies()
