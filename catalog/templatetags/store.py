"""Template helpers of the storefront: prices in the reader's locale and the category menu."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from catalog import cache as catalog_cache
from catalog.models import Category

register = template.Library()


@register.filter
def money(amount: Decimal | None) -> str:
    """A price as the reader expects it: "1 234,50 €" in Spanish, "€1,234.50" in English.

    Where the symbol goes is a translation (msgid "€%(amount)s"), so a new language needs no
    code; digits and separators come from Django's locale formats.
    """
    if amount is None:
        return ""
    figure = number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)
    return _("€%(amount)s") % {"amount": figure}


@register.filter
def stocked(categories: list[Category]) -> list[Category]:
    """The categories (nodes of the cached tree, with their counts) that have something to show.

    A link to an empty page sends a customer away from products: a shop that sells no bags
    showed "Bolsos, 0 productos" on its home page and menu, and footwear the model files goes
    under Calzado itself (a card group), so Sandalias, Zapatillas and Botines stay empty unless
    a person files there. Their pages stay reachable by their address."""
    return [category for category in categories if category.product_count]


@register.simple_tag(takes_context=True)
def nav_categories(context: template.Context) -> list[Category]:
    """The top-level categories for the header menu; reuses the tree a view already loaded and
    otherwise loads it once (the 404 page, the product page), so no page queries it twice."""
    tree: Any = context.get("category_tree")
    if tree is None:
        tree = catalog_cache.category_tree()
    return tree
