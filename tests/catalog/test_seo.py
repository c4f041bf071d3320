"""What link previews and search engines read: a product page's Open Graph card and schema.org
data, the sitemap of what customers can see, and robots.txt."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.utils.timezone import localtime

from catalog.models import Category
from tests.catalog import factories

pytestmark = pytest.mark.django_db
SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@pytest.fixture
def make_product(photo_bytes):
    """A product as the store makes one, filed by a person under ``category`` (None: unfiled)."""

    def make(name, category="pantalones", price="19.90", published=True, description=""):
        return factories.make_product(
            photo_bytes,
            name,
            category=Category.objects.get(slug=category) if category else None,
            price=Decimal(price),
            is_published=published,
            description=description,
        )

    return make


def meta(html: str, name: str) -> str | None:
    found = re.search(rf'<meta (?:property|name)="{re.escape(name)}" content="([^"]*)">', html)
    return found.group(1) if found else None


def structured_data(html: str) -> dict | None:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    return json.loads(found.group(1)) if found else None


def test_a_product_page_shows_its_photo_name_and_price_to_link_previews(client, make_product):
    product = make_product(
        "Vestido </script><b>rojo</b>", "vestidos", price="1234.5", description="De lino & algodón"
    )
    html = client.get(product.get_absolute_url()).content.decode()
    url = f"http://testserver{product.get_absolute_url()}"
    photo = f"http://testserver{product.image.url}"  # small: the page shows the original
    assert f'<link rel="canonical" href="{url}">' in html
    assert meta(html, "og:type") == "product" and meta(html, "og:url") == url
    assert meta(html, "og:title") == "Vestido &lt;/script&gt;&lt;b&gt;rojo&lt;/b&gt;"
    assert meta(html, "og:image") == photo
    assert meta(html, "og:image:width") == str(product.photo_width)
    assert meta(html, "product:price:amount") == "1234.50"
    assert meta(html, "product:price:currency") == "EUR"
    assert meta(html, "description") == meta(html, "og:description") == "De lino &amp; algodón"
    data = structured_data(html)  # the name's "</script>" did not end the element
    assert data["@type"] == "Product" and data["name"] == "Vestido </script><b>rojo</b>"
    assert data["image"] == [photo] and data["category"] == "Vestidos"
    assert data["offers"] == {
        "@type": "Offer",
        "url": url,
        "price": "1234.50",
        "priceCurrency": "EUR",
        "availability": "https://schema.org/InStock",
    }
    assert meta(html, "robots") is None


def test_a_hidden_product_seen_by_staff_is_not_indexed(admin_client, make_product):
    product = make_product("Borrador", published=False)
    html = admin_client.get(product.get_absolute_url()).content.decode()
    assert meta(html, "robots") == "noindex"
    assert structured_data(html) is None and meta(html, "og:title") is None


def test_the_sitemap_lists_what_customers_can_see(client, make_product):
    shown = make_product("Pantalón azul")
    hidden = make_product("Pantalón oculto", published=False)
    unfiled = make_product("Sin categoría", category=None)
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # noqa: S314 (the store's own response)
    urls = {loc.text for loc in root.findall("s:url/s:loc", SITEMAP_NS)}
    base = "http://testserver"
    assert f"{base}{shown.get_absolute_url()}" in urls
    assert f"{base}{hidden.get_absolute_url()}" not in urls
    assert f"{base}{unfiled.get_absolute_url()}" not in urls
    assert {f"{base}/", f"{base}/clasificador/", f"{base}/c/pantalones/"} <= urls
    assert f"{base}/c/bolsos/" not in urls  # nothing to show there
    lastmods = root.findall("s:url/s:lastmod", SITEMAP_NS)
    # the store's time zone writes the date: after 23:00 UTC, Madrid is on the next day
    written = {m.text[:10] for m in lastmods}
    assert localtime(shown.updated_at).date().isoformat() in written


def test_robots_keep_crawlers_out_of_the_admin_api_and_search(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    for path in ("/admin/", "/api/", "/buscar/"):
        assert f"Disallow: {path}\n" in text
    assert "Sitemap: http://testserver/sitemap.xml\n" in text
