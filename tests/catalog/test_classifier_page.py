"""The classifier page ("Clasificador") as the store renders it; test_classifier_browser.py runs
it in a real Chromium."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from catalog.models import Category
from classifier.labels import LABELS
from tests.catalog.factories import make_product

PAGE = "catalog:classifier"


def page_config(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="classifier-config" type="application/json">')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


@pytest.mark.django_db
def test_page_is_spanish_by_default_and_names_store_categories(client, photo_bytes):
    for slug in ("pantalones", "sandalias"):  # categories with something to show
        make_product(photo_bytes, name=slug, category=Category.objects.get(slug=slug))
    response = client.get(reverse(PAGE))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Clasificador" in html and 'lang="es"' in html
    assert 'capture="environment"' in html  # the phone's camera
    config = page_config(response)
    assert config["modelUrl"] == "/static/model/"
    by_index = {c["index"]: c for c in config["classes"]}
    assert len(by_index) == len(LABELS)
    assert by_index[1] == {"index": 1, "name": "Pantalones", "url": "/c/pantalones/", "filed": True}
    assert by_index[10]["filed"] is False and by_index[10]["url"] == ""  # hats: no category
    # a sandal is named as such, and filed as the store files it: under Calzado (the footwear
    # classes were learned from photos only as a group, the card says)
    assert by_index[5]["name"] == "Sandalias" and by_index[5]["url"] == "/c/sandalias/"
    assert by_index[5]["filedAs"] == {"name": "Calzado", "url": "/c/calzado/"}
    assert "filedAs" not in by_index[1]
    # a category with no products is named, not linked: its page would be empty
    assert by_index[8]["name"] == "Bolsos" and by_index[8]["filed"] and by_index[8]["url"] == ""
    assert "no es una imagen" in config["messages"]["not_image"]


@pytest.mark.django_db
def test_the_page_decides_with_the_stores_threshold_when_an_operator_set_one(client, settings):
    settings.PERCHA = {**settings.PERCHA, "CONFIDENCE_THRESHOLD": None}
    assert page_config(client.get(reverse(PAGE)))["threshold"] is None  # the card's, in the page
    settings.PERCHA = {**settings.PERCHA, "CONFIDENCE_THRESHOLD": 0.85}
    assert page_config(client.get(reverse(PAGE)))["threshold"] == 0.85


@pytest.mark.django_db
def test_page_in_english_and_linked_from_every_page(client):
    client.cookies["django_language"] = "en"
    config = page_config(client.get(reverse(PAGE)))
    assert {c["index"]: c["name"] for c in config["classes"]}[1] == "Trousers"
    assert config["messages"]["loading"] == "Loading the model…"
    home = client.get(reverse("catalog:home")).content.decode()
    assert f'href="{reverse(PAGE)}"' in home


@pytest.mark.django_db
def test_page_uses_no_cdn(client):
    html = client.get(reverse(PAGE)).content.decode()
    scripts = re.findall(r'<script[^>]* src="([^"]+)"', html)
    assert {
        "/static/vendor/tf.min.js",
        "/static/vendor/tf-backend-wasm.min.js",
        "/static/vendor/opencv.js",
        "/static/js/classifier/page.js",
    } <= set(scripts)
    assert all(src.startswith("/static/") for src in scripts), scripts
    assert "http://" not in html.replace("http://www.w3.org", "")
    assert "https://" not in html
