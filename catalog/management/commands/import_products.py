"""``manage.py import_products DIR``: every photo under a folder becomes a product.

Products are created one by one, each committed on its own, so an interrupted import keeps what
it made; run again, it skips every photo already in the store (the same bytes, whatever the
file's name; ``--duplicates`` imports them anyway). Every ``CLASSIFY_BATCH_SIZE`` new products
are queued as one classification task, so the worker classifies batch after batch while the
import goes on. Were the command to stop before queuing the last ones, they stay pending and the
periodic ``classify_pending`` task picks them up. A photo named by a camera or a phone
(IMG_2041.jpg) makes a hidden product, whatever the options: no customer should see "IMG 2041"
for sale; the summary says how many.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from tqdm import tqdm

from catalog import selectors, services
from catalog.models import Category, Product
from catalog.names import is_camera_file_name, product_name_from_filename
from catalog.photos import photo_digest

# Files with these names are tried; those the store cannot use (HEIC from a phone, SVG) are
# reported in the summary with the reason, rather than passed over without a word.
IMAGE_SUFFIXES = {
    ".jpg", ".jpeg", ".jpe", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff",
    ".heic", ".heif", ".avif", ".svg",
}  # fmt: skip


def _price(value: str) -> Decimal:
    if "," in value and "." not in value:  # "10,50", as the admin takes it in Spanish
        value = value.replace(",", ".")
    try:
        price = Decimal(value)
    except InvalidOperation:
        price = Decimal("NaN")
    if not price.is_finite() or price < 0:
        raise argparse.ArgumentTypeError(
            _("%(value)r is not a price; give a number such as 19.90") % {"value": value}
        )
    return price


class Command(BaseCommand):
    help = _("Create a product from every photo under a folder; the model files them.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help=_("folder searched recursively"))
        parser.add_argument(
            "--price",
            type=_price,
            default=None,
            help=_("price of every product (without one they are created hidden from the store)"),
        )
        parser.add_argument(
            "--unpublished", action="store_true", help=_("create them hidden from the store")
        )
        parser.add_argument(
            "--duplicates",
            action="store_true",
            help=_("import a photo even when a product already has the very same photo"),
        )
        parser.add_argument(
            "--category-from-folder",
            action="store_true",
            help=_(
                "file a photo under the category whose slug is the name of the folder holding "
                "it (the nearest one under DIR that matches), as a person's choice"
            ),
        )

    def handle(self, *args, directory: Path, **options) -> None:
        if not directory.is_dir():
            raise CommandError(_("%(dir)s is not a folder") % {"dir": directory})
        photos = sorted(
            p for p in directory.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not photos:
            self.stdout.write(
                self.style.WARNING(_("No photos found under %(dir)s.") % {"dir": directory})
            )
            return
        categories = (
            {c.slug: c for c in Category.objects.all()} if options["category_from_folder"] else {}
        )
        created_ids: list[int] = []
        waiting: list[int] = []  # created, not yet queued
        batch = settings.PERCHA["CLASSIFY_BATCH_SIZE"]
        skipped: list[tuple[str, str]] = []
        unknown_folders: set[str] = set()
        # the photos already in the store, and those imported by this run
        known = (
            set()
            if options["duplicates"]
            else set(
                Product.objects.exclude(photo_sha256="").values_list("photo_sha256", flat=True)
            )
        )
        already = 0
        publish = not options["unpublished"]
        camera_named: list[str] = []  # "IMG_2041.jpg": kept hidden, publish or not
        progress = tqdm(
            photos,
            desc=_("Importing"),
            unit=_("photo"),
            file=sys.stderr,
            disable=options["verbosity"] == 0,
        )
        for path in progress:
            relative = path.relative_to(directory)
            category = None
            if options["category_from_folder"] and len(relative.parts) > 1:
                folders = relative.parts[:-1]
                category = next((categories[f] for f in reversed(folders) if f in categories), None)
                if category is None:
                    unknown_folders.add(str(relative.parent))
            try:
                with path.open("rb") as fh:
                    if not options["duplicates"]:
                        digest = photo_digest(fh.read())
                        if digest in known:
                            already += 1
                            continue
                        known.add(digest)
                        fh.seek(0)
                    camera = is_camera_file_name(path.name)  # no customer sees "IMG 2041"
                    product = services.product_create(
                        name=product_name_from_filename(path.name),
                        image=File(fh, name=path.name),
                        price=options["price"],
                        category=category,
                        is_published=publish and not camera,
                        classify=False,
                    )
            except (ValidationError, OSError) as exc:
                reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                skipped.append((str(relative), reason))
                continue
            created_ids.append(product.pk)
            if camera and publish:  # unasked, they were hidden anyway
                camera_named.append(str(relative))
            waiting.append(product.pk)
            if len(waiting) >= batch:  # the worker classifies while the import goes on
                services.products_queue_classification(product_ids=waiting)
                waiting = []
        progress.close()
        services.products_queue_classification(product_ids=waiting)
        self._summary(created_ids, skipped, unknown_folders, already, camera_named)
        if created_ids and not options["price"] and publish:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Without a --price above 0, the products are hidden from the store: "
                        "select them in the admin's product list and use “Set price…”, which "
                        "can publish them too."
                    )
                )
            )

    def _summary(
        self,
        created_ids: list[int],
        skipped: list[tuple[str, str]],
        unknown_folders: set[str],
        already: int,
        camera_named: list[str],
    ) -> None:
        for folder in sorted(unknown_folders):
            self.stdout.write(
                _("folder %(folder)s matches no category slug; the model files its photos")
                % {"folder": folder}
            )
        for name, reason in skipped:
            self.stdout.write(
                self.style.WARNING(
                    _("skipped %(file)s: %(reason)s") % {"file": name, "reason": reason}
                )
            )
        if already:
            self.stdout.write(
                ngettext(
                    "%(count)d photo was already in the store (the same file): not imported "
                    "again (--duplicates imports it anyway).",
                    "%(count)d photos were already in the store (the same files): not imported "
                    "again (--duplicates imports them anyway).",
                    already,
                )
                % {"count": already}
            )
        if camera_named:
            self.stdout.write(
                self.style.WARNING(
                    ngettext(
                        "%(count)d product was named after its camera file name (%(file)s) and "
                        "stays hidden from the store: give it a name and publish it in the admin.",
                        "%(count)d products were named after their camera file names (such as "
                        "%(file)s) and stay hidden from the store: give them names and publish "
                        "them in the admin.",
                        len(camera_named),
                    )
                    % {"count": len(camera_named), "file": camera_named[0]}
                )
            )
        counts = {"imported": len(created_ids), "skipped": len(skipped)}
        summary = _("Imported %(imported)d, skipped %(skipped)d.") % counts
        if created_ids:  # where they went, or that the worker is at it
            summary += " " + selectors.classification_summary(created_ids)
        self.stdout.write(self.style.SUCCESS(summary))
