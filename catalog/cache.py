"""The catalog's read cache: what every visitor sees alike, kept under a catalog version.

A category page costs ~12 ms of Python and four queries to build (the category tree with its
counts, the page's count and rows, 24 cards), and it is the same for every visitor in a language
until the catalog changes. So the storefront and the API keep what they built under a key that
starts with the **catalog version**, and every write of the catalog calls ``catalog_changed()``
(the services in ``catalog.services``, and the admin where Django saves or deletes a row itself),
which moves the version on: nothing is invalidated key by key, old entries are never read again
and expire. Entries also expire after ``PERCHA["CATALOG_CACHE_SECONDS"]``, so a write made
outside the store's code (SQL by hand, a data migration) shows within that time.

Only what is the same for everyone is cached: the category tree, a category page's content
(never the header with its CSRF token) and the API's product list for non-staff callers. Keys
hold the language, the page size and every query parameter that changes the answer; requests
with parameters outside a short list (a search, an odd page number) are built afresh rather than
filling the cache with one-off entries.

The cache is ``CACHES["default"]`` (``CACHE_URL``): Redis wherever more than one machine serves
(docker-compose), else a folder of files that every process of the machine shares
(``.cache/catalog``, so that ``make run`` sees a write by ``import_products`` in another shell).
The tests use a folder of their own (``tests/conftest.py``).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Collection
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import QueryDict

from catalog import selectors
from catalog.models import Category

VERSION_KEY = "catalog:version"
T = TypeVar("T")


def catalog_version() -> str:
    """The current version; a new one when none is stored (first start, or Redis evicted it,
    which invalidates everything, as it should: entries of an unknown version are not trusted)."""
    version = cache.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(VERSION_KEY, version, timeout=None):  # another process was first
            version = cache.get(VERSION_KEY, version)
    return version


def _new_version() -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def catalog_changed() -> None:
    """Every cached page and list is stale: call after any write to products or categories.

    Inside a transaction the version moves now and again once it commits: a request served
    between the two may have cached the rows as they were before the commit, under the version
    of the moment, and the second move leaves that entry unread.
    """
    _new_version()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_new_version)


def key(name: str, *parts: object, version: str | None = None) -> str:
    """A cache key under ``version`` (default: the current catalog version); the parts (query
    parameters, a host) are hashed, so that whatever a client sends makes a short key every
    cache backend accepts. A page that reads two entries passes the version it read once."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"catalog:{version or catalog_version()}:{name}:{digest}"


def cached(cache_key: str, build: Callable[[], T]) -> T:
    """The value stored under ``cache_key``, or ``build()``'s, stored for next time."""
    value = cache.get(cache_key)
    if value is None:
        value = build()
        cache.set(cache_key, value, timeout=settings.PERCHA["CATALOG_CACHE_SECONDS"])
    return value


def category_tree(version: str | None = None) -> list[Category]:
    """``selectors.category_tree()`` as of ``version`` (default: the current one; names in both
    languages are in the rows, so one entry serves every language)."""
    return cached(key("tree", version=version), selectors.category_tree)


def stocked_categories(version: str | None = None) -> list[Category]:
    """Every category of the cached tree, at any depth, with published products to show (no
    query when the tree is warm): what may be linked to without leading a customer nowhere."""
    found, nodes = [], list(category_tree(version))
    while nodes:
        node = nodes.pop(0)
        nodes.extend(node.subcategories)
        if node.product_count:
            found.append(node)
    return found


def cacheable_query(query: QueryDict, allowed: Collection[str]) -> bool:
    """Whether a listing asked for with this query string may be cached: only the parameters a
    listing reads, each once and short, the page and the page size numbers. Anything else is
    built afresh, so that made-up query strings cannot fill the cache with one-off pages."""
    if not set(query) <= set(allowed):
        return False
    if any(len(query.getlist(name)) > 1 or len(query[name]) > 100 for name in query):
        return False
    page, page_size = query.get("page", ""), query.get("page_size", "")
    return _number_or_empty(page, 6) and _number_or_empty(page_size, 3)


def _number_or_empty(text: str, most_digits: int) -> bool:
    return text == "" or (len(text) <= most_digits and text.isascii() and text.isdigit())
