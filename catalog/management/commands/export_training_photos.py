"""``manage.py export_training_photos DIR``: the store's labelled photos, as training data.

Every product whose category a person set or confirmed (the model's own answers are not labels)
is written as ``DIR/<category-slug>/<product-id>.jpg``: upright, transparency on white, as the
store decodes it. ``DIR/manifest.csv`` lists them. The layout is that of ``clothing-photos`` (one
folder per class); the folders are named by the store's category slugs. The work is
``catalog.training.training_photos_export``, which the admin's Retrain button uses too.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from catalog import training


class Command(BaseCommand):
    help = _("Write the photos of every product a person filed, one folder per category.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help=_("where to write (created if needed)"))

    def handle(self, *args, directory: Path, **options) -> None:
        export = training.training_photos_export(directory=directory)
        for pk, reason in export.skipped:
            self.stderr.write(
                _("skipped product %(id)s: %(reason)s") % {"id": pk, "reason": reason}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("Exported %(count)d labelled photos to %(dir)s.")
                % {"count": export.written, "dir": directory}
            )
        )
