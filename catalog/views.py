"""The customer-facing storefront: thin views over ``catalog.selectors``, rendered by templates.

Customers only ever see published products filed under a category; staff may open any product
page (to check a product before publishing it). Reads go through the selectors so the storefront,
the API and the admin agree on what "visible" means.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from catalog import cache as catalog_cache
from catalog import search as search_words
from catalog import selectors, seo
from catalog.classifier_page import page_config
from catalog.models import Category, Product

PAGE_SIZE = 24
NEWEST_ON_HOME = 8
MAX_QUERY_LENGTH = 100


def _page(request: HttpRequest, products: QuerySet[Product]) -> Page:
    """One page of a listing; a missing or bad ``?page=`` gives the first or last page, not an
    error, so shared or edited links keep working."""
    return Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))


def _sort_options() -> list[tuple[str, str]]:
    """The sort choices of a listing; built per request so the labels follow the language."""
    return [
        ("newest", _("Newest first")),
        ("price", _("Price: low to high")),
        ("-price", _("Price: high to low")),
    ]


def home(request: HttpRequest) -> HttpResponse:
    """Every top-level category with its count and a sample photo, then the newest products."""
    tree = catalog_cache.category_tree()
    samples = selectors.category_samples(tree)
    for category in tree:
        category.sample = samples.get(category.pk)
    newest = selectors.product_list(published_only=True)[:NEWEST_ON_HOME]
    return render(request, "catalog/home.html", {"category_tree": tree, "products": newest})


def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A category's products, its sub-categories' included, sorted and paginated.

    Everything below the header is the same for every visitor in a language, so it is cached
    under the catalog version (catalog/cache.py); the header, with its CSRF token, is rendered
    for each request.
    """
    version = catalog_cache.catalog_version()  # once: the tree and the listing are read under it
    tree = catalog_cache.category_tree(version)
    found = selectors.tree_path(tree, slug)
    if found is None:
        raise Http404(_("No such category."))
    category, ancestors = found
    sort = request.GET.get("sort", "newest")
    if sort not in selectors.SORTS:
        sort = "newest"

    def content() -> str:
        products = selectors.product_list(category=category, published_only=True, sort=sort)
        context = {
            "category": category,
            "ancestors": ancestors,
            "page_obj": _page(request, products),
            "sort": sort,
            "sort_options": _sort_options(),
        }
        return render_to_string("catalog/_category_content.html", context, request)

    cache_key = _listing_cache_key(request, version, "category", slug)
    context = {
        "category_tree": tree,
        "category": category,
        "nav_current": (ancestors[0] if ancestors else category).slug,
        # rendered from our templates, which escape what they show
        "content": mark_safe(  # noqa: S308
            content() if cache_key is None else catalog_cache.cached(cache_key, content)
        ),
    }
    return render(request, "catalog/category.html", context)


def _listing_cache_key(request: HttpRequest, version: str, *parts: str) -> str | None:
    """The cache key of a listing's content for this request, or None to build it afresh.

    The content shows the page and sort asked for, and its pagination links repeat the query
    string: a query string with anything else (or an odd value) is not cached, so that made-up
    parameters cannot fill the cache with one-off pages.
    """
    query = request.GET
    if not catalog_cache.cacheable_query(query, {"page", "sort"}):
        return None
    page, sort = query.get("page", ""), query.get("sort", "")
    if sort not in {"", *selectors.SORTS}:
        return None
    return catalog_cache.key(*parts, get_language(), PAGE_SIZE, sort, page, version=version)


def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A product's page; unpublished or unfiled products exist only for staff."""
    products = selectors.product_list(published_only=not request.user.is_staff)
    product = get_object_or_404(products.select_related("category__parent"), slug=slug)
    ancestors: list[Category] = []
    parent = product.category.parent if product.category else None
    while parent is not None:  # the tree is shallow: parents beyond the first cost one query each
        ancestors.insert(0, parent)
        parent = parent.parent
    root = ancestors[0] if ancestors else product.category
    context = {
        "product": product,
        "ancestors": ancestors,
        "nav_current": root.slug if root else "",
        "hidden_from_customers": not (product.is_published and product.category_id is not None),
        "meta": seo.product_page_meta(request, product),
    }
    return render(request, "catalog/product.html", context)


def search(request: HttpRequest) -> HttpResponse:
    """Products whose name (or description) holds the query; an empty query explains itself."""
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    context: dict = {"query": query, "page_obj": None, "ignored": [], "suggestion": ""}
    if not query:
        return render(request, "catalog/search.html", context)
    products = selectors.product_list(search=query, published_only=True)
    if not products.exists():
        # Every word must match: "camiseta blanca" found nothing in a shop whose names say no
        # colour. Leave out the words nothing matches, and say so; failing that, a spelling.
        visible = selectors.product_list(published_only=True)
        ignored = search_words.words_found_nowhere(query, visible)
        kept = [word for word in search_words.words(query) if word not in ignored]
        if ignored and kept:
            products = selectors.product_list(search=" ".join(kept), published_only=True)
            context["ignored"] = ignored
        else:
            suggestion = search_words.spelling_suggestion(query)
            if suggestion and selectors.product_list(search=suggestion).exists():
                context["suggestion"] = suggestion
                context["suggestion_url"] = f"{request.path}?{urlencode({'q': suggestion})}"
    context["page_obj"] = _page(request, products)
    return render(request, "catalog/search.html", context)


def classifier(request: HttpRequest) -> HttpResponse:
    """The model in the customer's browser: a photo is converted and classified on the device
    (nothing is uploaded), with what the model saw and the matching store category."""
    return render(request, "catalog/classifier.html", {"classifier_config": page_config()})
