"""``manage.py sync_model_classes``: the store's half of promoting a model.

The served model's card (next to ``CLASSIFIER_MODEL_PATH``) lists its classes, each with the
store category it files into. This command makes the categories follow it
(``catalog.services.categories_sync_with_model``): a class with a category keeps it; a class
that names a category slug is linked to that category, which is created if the store has none;
a class without one files nothing (its products go to review); a category whose class the card
no longer has is unlinked. It prints what it did, and running it again changes nothing.

Promoting a model, start to end:

    python -m ml_training.export RUN --flip-averaging   # refuses a model worse than the served
    python manage.py sync_model_classes                   # categories for the new classes
    python manage.py classify_pending --all               # optional: re-file what the model filed

The web app and the workers open the new model file on their next use (``predictor.load``
notices the replaced file), so nothing needs restarting where they share the artifacts folder;
a Docker image carries its model, so there the promotion is a new image.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from catalog import selectors, services


class Command(BaseCommand):
    help = _("Create or link a category for each class of the served model (after a promotion).")

    def handle(self, *args, **options) -> None:
        labels = selectors.served_labels()
        result = services.categories_sync_with_model(labels=labels)
        for label, category in result.created:
            self.stdout.write(
                _("class %(index)d %(name)s: created the category %(slug)s")
                % {"index": label.index, "name": label.name, "slug": category.slug}
            )
        for label, category in result.linked:
            self.stdout.write(
                _("class %(index)d %(name)s: now files into the existing category %(slug)s")
                % {"index": label.index, "name": label.name, "slug": category.slug}
            )
        for index, category in result.unlinked:
            self.stdout.write(
                _("category %(slug)s: unlinked from class %(index)d, which the model no longer has")
                % {"index": index, "slug": category.slug}
            )
        for label, category in result.conflicts:
            self.stderr.write(
                _(
                    "class %(index)d %(name)s: the category %(slug)s files class %(other)d "
                    "already; left as it is (change it in the admin)"
                )
                % {
                    "index": label.index,
                    "name": label.name,
                    "slug": category.slug,
                    "other": category.classifier_label,
                }
            )
        for label in result.review:
            self.stdout.write(
                _("class %(index)d %(name)s: no store category; its products go to review")
                % {"index": label.index, "name": label.name}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "%(classes)d classes: %(kept)d unchanged, %(created)d created, %(linked)d "
                    "linked, %(unlinked)d unlinked, %(review)d without a category."
                )
                % {
                    "classes": len(labels),
                    "kept": len(result.kept),
                    "created": len(result.created),
                    "linked": len(result.linked),
                    "unlinked": len(result.unlinked),
                    "review": len(result.review),
                }
            )
        )
