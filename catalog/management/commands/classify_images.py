"""``manage.py classify_images PATH...``: what the model says about photos, touching nothing.

For trying the model (or a new export) on a handful of photos before trusting it with the
catalog. Every photo is decoded once and the model runs once on the whole batch.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

import classifier
from classifier.predictor import ModelUnavailable
from classifier.preprocess import ModelInput, to_model_input


class Command(BaseCommand):
    help = _("Classify photos with the store's model without touching the database.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, help=_("photo files"))
        parser.add_argument(
            "--json", action="store_true", help=_("one JSON object per line and photo")
        )

    def handle(self, *args, paths: list[Path], **options) -> None:
        percha = settings.PERCHA
        inputs: dict[int, ModelInput] = {}
        errors: dict[int, str] = {}
        for index, path in enumerate(paths):
            try:
                inputs[index] = to_model_input(path, percha["MAX_IMAGE_PIXELS"])
            except classifier.UnreadableImage as exc:
                errors[index] = str(exc)
            except OSError as exc:
                errors[index] = exc.strerror or str(exc)
        try:
            results = classifier.classify_inputs(list(inputs.values()), percha["MODEL_PATH"])
        except ModelUnavailable as exc:
            raise CommandError(str(exc)) from exc
        by_index = dict(zip(inputs, results, strict=True))

        rows = []
        for index, path in enumerate(paths):
            if index in errors:
                rows.append({"path": str(path), "error": errors[index]})
            else:
                result = by_index[index]
                rows.append(
                    {
                        "path": str(path),
                        "label": result.label,
                        "label_name": result.label_name,
                        "confidence": result.confidence,
                        "probabilities": result.probabilities,
                    }
                )
        if options["json"]:
            for row in rows:
                self.stdout.write(json.dumps(row, ensure_ascii=False))
        else:
            self._table(rows)
        if errors:
            raise CommandError(
                _("%(bad)d of %(total)d photos could not be read")
                % {"bad": len(errors), "total": len(paths)},
                returncode=1,
            )

    def _table(self, rows: list[dict]) -> None:
        headers = (_("path"), _("label"), _("confidence"))
        width = max(len(headers[0]), *(len(row["path"]) for row in rows))
        label_width = max(len(headers[1]), *(len(r.get("label_name", "")) for r in rows))
        self.stdout.write(f"{headers[0]:<{width}}  {headers[1]:<{label_width}}  {headers[2]:>10}")
        for row in rows:
            if "error" in row:
                line = f"{row['path']:<{width}}  " + _("error: %(reason)s") % {
                    "reason": row["error"]
                }
                self.stdout.write(self.style.ERROR(line))
            else:
                confidence = f"{row['confidence']:.1%}"
                self.stdout.write(
                    f"{row['path']:<{width}}  {row['label_name']:<{label_width}}  {confidence:>10}"
                )
