"""System checks of the catalog's setup, run by ``manage.py check`` and at every start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks

from classifier.predictor import read_model_card

LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@checks.register(checks.Tags.caches)
def cache_shared_with_the_worker(**kwargs: Any) -> list[checks.CheckMessage]:
    """A real worker files products in its own process: with a per-process cache the web app
    would not hear of it and would show the old pages until they expire (catalog/cache.py)."""
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.CELERY_TASK_ALWAYS_EAGER or backend not in LOCAL_CACHES:
        return []
    return [
        checks.Warning(
            f"CELERY_BROKER_URL is set but the cache is per process ({backend.rsplit('.', 1)[1]}):"
            " products the worker classifies will show in the storefront only when the cached"
            " pages expire (CATALOG_CACHE_SECONDS).",
            hint="Set CACHE_URL to a Redis database shared by the web app and the worker, "
            "e.g. redis://127.0.0.1:6379/1.",
            id="catalog.W001",
        )
    ]


@checks.register()
def model_is_in_place(**kwargs: Any) -> list[checks.CheckMessage]:
    """Without its model file the store takes uploads that stay pending: say so at every start
    and in ``manage.py check``, not only in the worker's log. Cheap on purpose (the file and
    its card are looked at, not loaded): every command runs the checks."""
    path = Path(settings.PERCHA["MODEL_PATH"])
    if not path.is_file():
        problem = f"The classifier's model file {path} does not exist"
    else:
        try:
            read_model_card(path)
            return []
        except (OSError, ValueError) as exc:
            problem = f"The model card beside {path} cannot be read ({exc})"
    return [
        checks.Warning(
            f"{problem}: uploads are taken but stay pending until a model is in place, and "
            "/api/classify/ answers 503.",
            hint="Set CLASSIFIER_MODEL_PATH to a model.tflite exported by "
            "`python -m ml_training.export RUN` (the committed one is "
            "classifier/artifacts/model.tflite).",
            id="catalog.W002",
        )
    ]
