"""What the in-browser classifier page needs to know, for the store and for the static copy.

The page (``static/js/classifier/page.js``) runs the model in the customer's browser; the server
only tells it where the files are, the classes' names in the page's language, the store category
each class files into, and the messages it may have to show. Built here once so that the store's
page and the publishable folder (``manage.py build_classifier_page``) say the same things.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from catalog import cache as catalog_cache
from catalog import selectors
from catalog.models import Category, in_language
from classifier.preprocess import MESSAGES


def _class_names(with_links: bool) -> list[dict]:
    """The served model's classes (from its card), each named as its category if it has one,
    with the category a confident answer is filed under (``filedAs``: Calzado for a sandal)."""
    labels = selectors.served_labels()
    own = (
        {c.classifier_label: c for c in Category.objects.filter(classifier_label__isnull=False)}
        if with_links
        else {}
    )
    filing = selectors.filing_categories(label.index for label in labels) if with_links else {}
    stocked = {c.pk for c in catalog_cache.stocked_categories()} if with_links else set()

    def url(category: Category | None) -> str:
        # a link to an empty category page would lead a customer away from any product
        return category.get_absolute_url() if category and category.pk in stocked else ""

    classes = []
    for label in labels:
        category = own.get(label.index)
        entry = {
            "index": label.index,
            "name": category.name if category else in_language(label.name_es, label.name_en),
            "url": url(category),
            # the store would file a confident answer (a category exists for the class; for
            # the static copy, the card names one)
            "filed": category is not None if with_links else bool(label.slug),
        }
        filed_as = filing.get(label.index)
        if filed_as is not None and filed_as != category:
            entry["filedAs"] = {"name": filed_as.name, "url": url(filed_as)}
        classes.append(entry)
    return classes


def page_messages() -> dict[str, str]:
    """The page's own sentences and the photo refusals (``%(name)s`` placeholders kept)."""
    messages = {code: _(text) for code, text in MESSAGES.items()}
    messages.update(
        {
            "loading": _("Loading the model…"),
            "ready": _("Ready: choose, drop or paste a photo of a garment."),
            # on a touch screen, where there is nothing to drop or paste with
            "ready_touch": _("Ready: choose a photo of a garment or take one."),
            "working": _("Looking at the photo…"),
            "done": _("Done in %(ms)s ms, on this device: the photo did not leave it."),
            "timing": _("Converting the photo: %(convert)s ms · the model: %(model)s ms"),
            "confident": _("The store would file it under %(name)s."),
            # %(percent)s comes formatted, its sign included, in the page's language ("40,7 %")
            "unsure": _(
                "Not sure enough (%(percent)s): the store would hold it for a person to review."
            ),
            "not_sold": _("The store has no category for %(name)s: a person would review it."),
            "see_category": _("See %(name)s in the store"),
            "failed": _("The classifier could not start: %(detail)s. Reload the page to retry."),
            "unreadable": _("Could not read that photo: %(detail)s"),
            "no_photo": _("What you dropped or pasted is not a file; drop a photo of a garment."),
        }
    )
    return messages


def page_config(static_base: str | None = None, store: bool = True) -> dict:
    """The JSON the page reads from ``#classifier-config``.

    ``static_base`` is where the scripts, the vendored runtimes and ``model/`` are (default: the
    store's ``STATIC_URL``); ``store`` is off for the publishable copy, which links to no category
    and files as the model card says. In the store the threshold is the store's own setting
    when an operator set one (null: the card's), so the page says what the store would do.
    """
    static_base = settings.STATIC_URL if static_base is None else static_base
    return {
        "staticBase": static_base,
        "modelUrl": static_base + "model/",
        "threshold": settings.PERCHA["CONFIDENCE_THRESHOLD"] if store else None,
        "classes": _class_names(with_links=store),
        "messages": page_messages(),
    }
