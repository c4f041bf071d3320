"""The Celery app; configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["classifier"])


@worker_process_init.connect
def _load_model(**kwargs) -> None:
    from classifier.tasks import load_model_in_worker

    load_model_in_worker(**kwargs)
