"""``manage.py classify_pending``: queue products the worker never classified.

Products stay pending when the broker was down as they were saved, or a worker died; Celery beat
runs the same service every few minutes, and this command does it now (e.g. after an outage).

``--all`` is for after a promotion (``manage.py sync_model_classes``): the new model also
re-files every product the old one filed or left for review. A category a person set is never
touched.
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
        parser.add_argument(
            "--all",
            dest="everything",
            action="store_true",
            help=_(
                "also re-run the model over every product it filed or left for review (after "
                "promoting a new model); products filed by a person are left alone"
            ),
        )

    def handle(self, *args, include_failed: bool, everything: bool, **options) -> None:
        if everything:
            count = services.products_queue_for_new_model(include_failed=include_failed)
        else:
            count = services.products_queue_pending(include_failed=include_failed)
        self.stdout.write(
            ngettext(
                "Queued %(count)d product for classification.",
                "Queued %(count)d products for classification.",
                count,
            )
            % {"count": count}
        )
