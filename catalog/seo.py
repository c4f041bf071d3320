"""What search engines and link previews read of the store: a product page's Open Graph card
and schema.org data (a shared link shows the garment, its name and price; a search engine can
list it with its price), the sitemap of what customers can see, and robots.txt."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.text import Truncator

from catalog import cache as catalog_cache
from catalog import selectors
from catalog.models import Category, Product

CURRENCY = "EUR"  # the store's prices are in euros (the money filter's "€%(amount)s")
SITE_NAME = "Percha"
# the escapes of Django's json_script: "</script>" in a product's name cannot end the element
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def product_page_meta(request: HttpRequest, product: Product) -> dict[str, Any]:
    """The product page's ``<head>``: its canonical address, the photo a link preview shows,
    a short description, and the schema.org Product as JSON-LD (already escaped for a
    ``<script>``)."""
    url = request.build_absolute_uri(product.get_absolute_url())
    photo = request.build_absolute_uri((product.display or product.image).url)
    description = Truncator(strip_tags(product.description)).words(30) or product.name
    price = f"{product.price:.2f}"  # schema.org and Open Graph: a dot, two decimals
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.name,
        "image": [photo],
        "description": description,
        "sku": str(product.pk),
        "offers": {
            "@type": "Offer",
            "url": url,
            "price": price,
            "priceCurrency": CURRENCY,
            "availability": "https://schema.org/InStock",
        },
    }
    if product.category is not None:
        data["category"] = product.category.name
    return {
        "url": url,
        "photo": photo,
        "description": description,
        "price": price,
        "currency": CURRENCY,
        "site_name": SITE_NAME,
        "json_ld": json.dumps(data, ensure_ascii=False).translate(_SCRIPT_ESCAPES),
    }


class ProductSitemap(Sitemap):
    """Every product a customer can see (published and filed), newest change first."""

    changefreq = "weekly"

    def items(self) -> QuerySet[Product]:
        visible = selectors.product_list(published_only=True).select_related(None)
        return visible.only("slug", "updated_at").order_by("-updated_at", "-id")

    def lastmod(self, product: Product):
        return product.updated_at


class CategorySitemap(Sitemap):
    """The categories that have something to show (an empty one's page leads nowhere)."""

    changefreq = "daily"

    def items(self) -> list[Category]:
        return catalog_cache.stocked_categories()


class PageSitemap(Sitemap):
    """The store's own pages: home and the classifier."""

    changefreq = "daily"

    def items(self) -> list[str]:
        return ["catalog:home", "catalog:classifier"]

    def location(self, item: str) -> str:
        return reverse(item)


SITEMAPS = {"pages": PageSitemap, "categories": CategorySitemap, "products": ProductSitemap}


def robots_txt(request: HttpRequest) -> HttpResponse:
    """Crawl the storefront, not the admin, the API or endless search results; here is the
    sitemap."""
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /api/",
        f"Disallow: {reverse('catalog:search')}",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
