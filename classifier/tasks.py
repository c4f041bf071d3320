"""Celery tasks: the Django adapter around ``classifier``. They fetch by id and call services.

Idempotent: only products still pending are classified, and a batch's results are written in
one transaction under its rows' locks, so a task delivered twice (late acknowledgement after a
killed worker) files each product once, and a worker killed mid-batch leaves none written.
Transient failures (database, storage, model not loadable) retry with backoff; an unreadable or
missing photo fails at once with the reason kept on the product.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError
from django.utils import translation
from django.utils.translation import gettext
from kombu.exceptions import ChannelError

import classifier
from classifier.predictor import ModelUnavailable

logger = logging.getLogger(__name__)
TRANSIENT = (DatabaseError, ModelUnavailable, ConnectionError, TimeoutError)


@shared_task(
    bind=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
    acks_late=True,
)
def classify_products(self, product_ids: list[int]) -> dict:
    """Classify a batch of products with one model call; returns counts by outcome."""
    from catalog import services
    from catalog.models import Product

    percha = settings.PERCHA
    pending = list(
        Product.objects.filter(pk__in=product_ids, classification_status=Product.Status.PENDING)
    )
    inputs, ready, outcome = [], [], {"classified": 0, "failed": 0, "skipped": 0}
    for product in pending:
        try:
            with product.image.open("rb") as fh:  # the storage API: local disk or S3 alike
                data = fh.read()
            inputs.append(classifier.preprocess.to_model_input(data, percha["MAX_IMAGE_PIXELS"]))
            ready.append(product)
        except (FileNotFoundError, ValueError) as exc:  # ValueError: UnreadableImage and kin
            services.product_mark_failed(product=product, error=failure_reason(exc))
            outcome["failed"] += 1
    try:
        results = classifier.classify_inputs(inputs, percha["MODEL_PATH"])
    except ModelUnavailable as exc:  # retried (TRANSIENT); meanwhile the products say why
        services.products_note_waiting(
            product_ids=[p.pk for p in ready], reason=waiting_reason(exc)
        )
        raise
    written = services.products_apply_predictions(
        predictions={product.pk: result for product, result in zip(ready, results, strict=True)}
    )
    outcome["classified"] += written
    outcome["skipped"] += len(ready) - written  # deleted, or another delivery got there first
    outcome["skipped"] += len(product_ids) - len(pending)
    return outcome


def failure_reason(exc: Exception) -> str:
    """Why a stored photo cannot be classified, in the shop's language: the admin's review
    queue shows it as it is (it showed the English message in the Spanish admin)."""
    from catalog.photos import photo_error_message

    with translation.override(settings.LANGUAGE_CODE):
        if isinstance(exc, classifier.UnreadableImage):
            return photo_error_message(exc)
        if isinstance(exc, FileNotFoundError):
            return gettext("the photo file is no longer in the storage")
        return gettext("the photo file could not be read (%(error)s)") % {"error": exc}


def waiting_reason(exc: ModelUnavailable) -> str:
    """Why a product is still pending, in the shop's language (the cause stays as the loader
    said it: a path, a file format)."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(
            "Waiting for the model, which could not be loaded (%(error)s); the product is "
            "classified as soon as it can be."
        ) % {"error": exc}


@shared_task
def classify_product(product_id: int) -> dict:
    """One product; the same work as a batch of one."""
    return classify_products(product_ids=[product_id])


@shared_task
def classify_pending(include_failed: bool = True, min_age_s: float = 0) -> int:
    """Queue the products left pending (and failed); Celery beat runs it every few minutes.

    Beat calls it with ``include_failed=False`` (an unreadable photo stays unreadable) and
    ``min_age_s`` (a fresh upload's task is still on its way). While tasks are still waiting in
    the queue nothing is re-queued: the worker is behind, the pending products are not lost.
    """
    from datetime import timedelta

    from catalog import services

    waiting = queued_tasks()
    if waiting:
        logger.info("classify_pending: %d tasks still queued; nothing re-queued", waiting)
        return 0
    return services.products_queue_pending(
        include_failed=include_failed,
        older_than=timedelta(seconds=min_age_s) if min_age_s else None,
    )


@shared_task(acks_late=False)
def retrain(training_run_id: int) -> str:
    """Retrain the model on the store's labelled photos (``catalog.training``); returns the
    run's final status.

    Routed to the ``training`` queue (``CELERY_TASK_ROUTES``): it needs TensorFlow and minutes of
    CPU, which the store's workers have not to spare. Acknowledged on receipt, not at the end:
    a training outlasts the broker's visibility timeout, and a redelivery would start it again
    while it still runs. A worker lost mid-way stops saving the run, and the Model page fails it
    after ``training.STALLED_AFTER`` (``training.stalled_runs_failed``); start another.
    """
    from catalog import training
    from catalog.models import TrainingRun

    run = TrainingRun.objects.filter(pk=training_run_id).first()
    if run is None:
        logger.warning("retrain: training run %s no longer exists", training_run_id)
        return "missing"
    return training.training_run_execute(run=run).status


def queued_tasks(queue: str = "celery") -> int:
    """How many tasks wait in the broker's queue (0 in-process or if it cannot be asked)."""
    app = classify_pending.app
    if app.conf.task_always_eager:
        return 0
    try:
        with app.connection_for_read() as conn:
            return conn.default_channel.queue_declare(queue, passive=True).message_count
    except ChannelError:  # Redis: an empty queue does not exist
        return 0
    except Exception as exc:  # broker down: the queueing itself will say so
        logger.warning("classify_pending: could not read the queue length (%s)", exc)
        return 0


MODEL_UNAVAILABLE_BANNER = (
    "CLASSIFIER MODEL UNAVAILABLE: %s. This worker keeps running, but no product can be "
    "classified: they wait as pending. Put a valid model at CLASSIFIER_MODEL_PATH (python -m "
    "ml_training.export RUN): the waiting tasks retry it, and `manage.py classify_pending` "
    "requeues them at once."
)


def check_model_at_start() -> bool:
    """Open the model once in the worker's main process, before the pool starts, so that a
    missing or corrupt model is said once and plainly at start. The children open their own."""
    try:
        model = classifier.predictor.load(str(settings.PERCHA["MODEL_PATH"]))
    except ModelUnavailable as exc:
        logger.critical(MODEL_UNAVAILABLE_BANNER, exc)
        return False
    finally:
        classifier.predictor.load.cache_clear()  # an interpreter is not shared across a fork
    logger.info("classifier model %s found at %s", model.version, model.path)
    return True


def load_model_in_worker(**_signal_kwargs) -> None:
    """Open the model in each worker process right after the fork, so the first task is fast
    and a missing or corrupt model is reported at start, not product by product."""
    try:
        model = classifier.predictor.load(str(settings.PERCHA["MODEL_PATH"]))
    except ModelUnavailable as exc:
        logger.error("classifier model unavailable: %s; products will wait as pending", exc)
        return
    logger.info("classifier model %s loaded from %s", model.version, model.path)
