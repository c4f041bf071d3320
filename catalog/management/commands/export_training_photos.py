"""``manage.py export_training_photos DIR``: the store's labelled photos, as training data.

Every product whose category a person set or confirmed (the model's own answers are not labels)
is written as ``DIR/<category-slug>/<product-id>.jpg``: upright, transparency on white, as the
store decodes it. ``DIR/manifest.csv`` lists them. The layout is that of ``clothing-photos`` (one
folder per class); the folders are named by the store's category slugs.
"""

from __future__ import annotations

import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from catalog import selectors
from classifier import preprocess

MANIFEST_FIELDS = ("path", "product_id", "category", "classifier_label", "source", "exported_at")


class Command(BaseCommand):
    help = _("Write the photos of every product a person filed, one folder per category.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help=_("where to write (created if needed)"))

    def handle(self, *args, directory: Path, **options) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        exported_at = timezone.now().isoformat(timespec="seconds")
        rows, skipped = [], []
        for product in selectors.labelled_products().iterator():
            relative = Path(product.category.slug) / f"{product.pk}.jpg"
            try:
                with product.image.open("rb") as fh:
                    rgb = preprocess.to_rgb(preprocess.open_photo(fh.read()))
            except (OSError, ValueError) as exc:  # a missing file, an unreadable photo
                skipped.append((product.pk, str(exc)))
                continue
            (directory / relative.parent).mkdir(exist_ok=True)
            Image.fromarray(rgb).save(directory / relative, "JPEG", quality=92)
            rows.append(
                {
                    "path": relative.as_posix(),
                    "product_id": product.pk,
                    "category": product.category.slug,
                    "classifier_label": product.category.classifier_label,
                    "source": product.category_source,
                    "exported_at": exported_at,
                }
            )
        with (directory / "manifest.csv").open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS)
            writer.writeheader()
            writer.writerows(rows)
        for pk, reason in skipped:
            self.stderr.write(
                _("skipped product %(id)s: %(reason)s") % {"id": pk, "reason": reason}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("Exported %(count)d labelled photos to %(dir)s.")
                % {"count": len(rows), "dir": directory}
            )
        )
