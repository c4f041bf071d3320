"""``manage.py build_classifier_page DIR``: the classifier page as a folder any static host serves.

"Publicar la página": the page, its CSS, scripts, the vendored runtimes and the model, with
relative paths only, so the folder works from GitHub Pages, a USB stick behind
``python -m http.server``, or a phone on the shop's Wi-Fi. ``index.html`` is Spanish and
``en.html`` English. The store is not needed: the page links to no category.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from catalog.classifier_page import page_config

STATIC = Path(settings.BASE_DIR) / "static"
WEB_MODEL = Path(settings.BASE_DIR) / "classifier" / "artifacts" / "web"
PAGES = (("es", "index.html"), ("en", "en.html"))
# what the page loads, from static/ (the admin's preview script stays out)
FILES = (
    "css/store.css",
    "images/favicon.svg",
    "images/hanger.svg",
    "js/classifier/page.js",
    "js/classifier/runtime.js",
    "js/classifier/preprocess.js",
    "js/classifier/model.js",
    "vendor/tf.min.js",
    "vendor/tf-backend-wasm.min.js",
    "vendor/tfjs-backend-wasm.wasm",
    "vendor/tfjs-backend-wasm-simd.wasm",
    "vendor/tfjs-backend-wasm-threaded-simd.wasm",
    "vendor/opencv.js",
)


def build(directory: Path) -> list[Path]:
    """Write the folder (replacing an earlier build) and return the files written."""
    missing = [name for name in FILES if not (STATIC / name).is_file()]
    if missing:
        raise CommandError(
            _("%(files)s missing: run `make vendor` first") % {"files": ", ".join(missing)}
        )
    if not (WEB_MODEL / "model.json").is_file():
        raise CommandError(
            _("no web model in %(dir)s: run `make export-web` first") % {"dir": WEB_MODEL}
        )
    if directory.exists():
        shutil.rmtree(directory)
    written = []
    for name in FILES:
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        written.append(Path(shutil.copy2(STATIC / name, target)))
    shutil.copytree(WEB_MODEL, directory / "model")
    written += sorted((directory / "model").iterdir())
    for language, filename in PAGES:
        with translation.override(language):
            html = render_to_string(
                "classifier/standalone.html",
                {
                    "static_base": "",
                    "language_links": PAGES,
                    "classifier_config": page_config(static_base="", store=False),
                },
            )
        (directory / filename).write_text(html, encoding="utf-8")
        written.append(directory / filename)
    return written


class Command(BaseCommand):
    help = _("Write the classifier page as a self-contained static folder, ready to publish.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "directory", type=Path, help=_("where to write (replaced if it exists)")
        )

    def handle(self, *args, directory: Path, **options) -> None:
        written = build(directory)
        size = sum(path.stat().st_size for path in written) / 1e6
        self.stdout.write(
            _("%(count)d files, %(size).1f MB, in %(dir)s; try: python -m http.server -d %(dir)s")
            % {"count": len(written), "size": size, "dir": directory}
        )
