"""GET /api/categories/: the tree, its counts of what customers can see, names per language."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.models import Category, Product

pytestmark = pytest.mark.django_db
URL = reverse("api:category-list")


def by_slug(nodes: list[dict]) -> dict[str, dict]:
    return {node["slug"]: node for node in nodes}


def test_tree_has_top_level_categories_with_nested_children(anon_client):
    response = anon_client.get(URL)

    assert response.status_code == 200
    roots = by_slug(response.json())
    assert set(roots) == set(Category.objects.filter(parent=None).values_list("slug", flat=True))
    footwear = roots["calzado"]
    assert {c["slug"] for c in footwear["children"]} == {"sandalias", "zapatillas", "botines"}
    assert "sandalias" not in roots  # a child appears only under its parent
    sandals = by_slug(footwear["children"])["sandalias"]
    assert sandals["classifier_label"] == 5 and sandals["children"] == []
    assert footwear["classifier_label"] is None
    assert set(sandals) == {
        "slug", "name_es", "name_en", "name", "classifier_label", "product_count", "url",
        "products_url", "children",
    }  # fmt: skip


def test_counts_are_published_filed_products_including_sub_categories(anon_client, make_product):
    make_product("sandalias")
    make_product("sandalias")
    make_product("botines")
    make_product("pantalones")
    make_product("botines", is_published=False)  # hidden from customers: not counted
    make_product(None, classification_status=Product.Status.NEEDS_REVIEW)  # unfiled: nowhere

    roots = by_slug(anon_client.get(URL).json())

    footwear = roots["calzado"]
    children = by_slug(footwear["children"])
    assert children["sandalias"]["product_count"] == 2
    assert children["botines"]["product_count"] == 1
    assert children["zapatillas"]["product_count"] == 0
    assert footwear["product_count"] == 3
    assert roots["pantalones"]["product_count"] == 1
    assert roots["bolsos"]["product_count"] == 0


def test_name_follows_the_active_language(anon_client):
    spanish = by_slug(anon_client.get(URL, HTTP_ACCEPT_LANGUAGE="es").json())["calzado"]
    english = by_slug(anon_client.get(URL, HTTP_ACCEPT_LANGUAGE="en").json())["calzado"]

    assert (spanish["name_es"], spanish["name_en"]) == ("Calzado", "Footwear")
    assert spanish["name"] == "Calzado"
    assert english["name"] == "Footwear"


def test_products_url_lists_the_category_and_its_sub_categories(anon_client, make_product):
    sandal = make_product("sandalias")
    make_product("pantalones")
    footwear = by_slug(anon_client.get(URL).json())["calzado"]

    listing = anon_client.get(footwear["products_url"]).json()

    assert [p["id"] for p in listing["results"]] == [sandal.id]


def test_detail_of_a_sub_category_and_its_self_link(anon_client, make_product):
    make_product("zapatillas")
    response = anon_client.get(reverse("api:category-detail", kwargs={"slug": "zapatillas"}))

    assert response.status_code == 200
    body = response.json()
    assert (body["slug"], body["product_count"], body["classifier_label"]) == ("zapatillas", 1, 7)
    assert anon_client.get(body["url"]).json() == body


def test_detail_of_a_parent_carries_its_children(anon_client):
    body = anon_client.get(reverse("api:category-detail", kwargs={"slug": "calzado"})).json()
    assert len(body["children"]) == 3


def test_unknown_slug_is_404_and_says_where_to_look(anon_client):
    response = anon_client.get(reverse("api:category-detail", kwargs={"slug": "sombreros"}))
    assert response.status_code == 404
    assert "sombreros" in response.json()["detail"]
    assert "/api/categories/" in response.json()["detail"]


def test_tree_takes_a_fixed_number_of_queries(anon_client, make_product, django_assert_num_queries):
    for slug in ("sandalias", "botines", "bolsos", "camisas"):
        make_product(slug)
    with django_assert_num_queries(2):  # counts + categories, whatever the tree holds
        anon_client.get(URL)
