"""The Celery app; configuration comes from Django settings (CELERY_* names).

At start a worker checks what it cannot work without: a real broker (never the in-process
``memory://`` the web app uses without ``CELERY_BROKER_URL``) and the classifier model, whose
absence it reports loudly while it keeps running, so that products wait as pending.
"""

import os

from celery import Celery
from celery.signals import celeryd_after_setup, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["classifier"])


class BrokerNotConfigured(SystemExit):
    """A worker without CELERY_BROKER_URL would wait on a queue no web process writes to."""


@celeryd_after_setup.connect
def _check_at_start(sender=None, instance=None, **kwargs) -> None:
    from classifier.tasks import check_model_at_start

    if app.conf.broker_url.startswith("memory://"):
        raise BrokerNotConfigured(
            "CELERY_BROKER_URL is not set: the web app runs tasks in-process and no worker is "
            "needed; set it (e.g. redis://127.0.0.1:6379/0) for the web app and the worker alike"
        )
    check_model_at_start()


@worker_process_init.connect
def _load_model(**kwargs) -> None:
    from classifier.tasks import load_model_in_worker

    load_model_in_worker(**kwargs)
