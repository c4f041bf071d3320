"""``manage.py build_classifier_page``: the page as a folder that any static host serves.

The browser test serves the folder with ``python -m http.server`` (no Django behind it) and
classifies a real photo in headless Chromium.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
from django.core.management import call_command
from selenium.webdriver.common.by import By

from tests.catalog.test_classifier_browser import (
    open_page,
    send,
    status,
    sure_photo,
    top_indexes,
)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    folder = tmp_path_factory.mktemp("publish") / "clasificador"
    call_command("build_classifier_page", str(folder))
    return folder


def test_the_folder_is_self_contained(published):
    names = {p.relative_to(published).as_posix() for p in published.rglob("*") if p.is_file()}
    assert {"index.html", "en.html", "model/model.json", "model/model_card.json"} <= names
    assert {"vendor/tf.min.js", "vendor/opencv.js", "js/classifier/page.js"} <= names
    assert "js/classifier/admin_preview.js" not in names
    for page in ("index.html", "en.html"):
        html = (published / page).read_text()
        assert "/static/" not in html and "https://" not in html  # relative paths, no CDN
        assert '"modelUrl": "model/"' in html
    assert "Clasificador" in (published / "index.html").read_text()
    assert 'lang="en"' in (published / "en.html").read_text()


def test_building_again_replaces_the_folder(published):
    (published / "stale.txt").write_text("from an older build")
    call_command("build_classifier_page", str(published))
    assert not (published / "stale.txt").exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def http_server(published):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=published,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.terminate()
    server.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.browser
def test_the_folder_classifies_a_photo_under_http_server(chromium, http_server):
    photo, label = sure_photo("outwear")
    open_page(chromium, http_server)
    assert send(chromium, photo, "abrigo.jpg") == "done", status(chromium)
    assert top_indexes(chromium)[0] == label
    assert chromium.find_elements(By.CSS_SELECTOR, "[data-verdict] a") == []  # no store here
    open_page(chromium, http_server + "en.html")
    assert send(chromium, photo, "coat.jpg") == "done"
    assert "on this device" in status(chromium)
