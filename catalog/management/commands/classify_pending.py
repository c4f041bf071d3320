"""``manage.py classify_pending``: queue products the worker never classified.

Products stay pending when the broker was down as they were saved, or a worker died; Celery beat
runs the same service every few minutes, and this command does it now (e.g. after an outage).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog import services


class Command(BaseCommand):
    help = _("Queue classification of every pending (and, by default, failed) product.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--include-failed",
            dest="include_failed",
            action="store_true",
            default=True,
            help=_("also retry products whose classification failed (the default)"),
        )
        parser.add_argument(
            "--no-failed",
            dest="include_failed",
            action="store_false",
            help=_("only products still pending"),
        )

    def handle(self, *args, include_failed: bool, **options) -> None:
        count = services.products_queue_pending(include_failed=include_failed)
        self.stdout.write(
            ngettext(
                "Queued %(count)d product for classification.",
                "Queued %(count)d products for classification.",
                count,
            )
            % {"count": count}
        )
