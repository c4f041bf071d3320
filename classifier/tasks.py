"""Celery tasks: the Django adapter around ``classifier``. They fetch by id and call services.

Idempotent: only products still pending are classified, and the result is written under a row
lock, so a task delivered twice (late acknowledgement after a killed worker) files once.
Transient failures (database, storage, model not loadable) retry with backoff; an unreadable or
missing photo fails at once with the reason kept on the product.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, transaction

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
            reason = (
                str(exc)
                if isinstance(exc, classifier.UnreadableImage)
                else (f"the photo file could not be read ({exc})")
            )
            services.product_mark_failed(product=product, error=reason)
            outcome["failed"] += 1
    results = classifier.classify_inputs(inputs, percha["MODEL_PATH"])
    for product, result in zip(ready, results, strict=True):
        with transaction.atomic():
            locked = Product.objects.select_for_update().filter(pk=product.pk).first()
            if locked is None or locked.classification_status != Product.Status.PENDING:
                outcome["skipped"] += 1  # deleted, or another delivery got there first
                continue
            services.product_apply_prediction(
                product=locked,
                label=result.label,
                confidence=result.confidence,
                probabilities=result.probabilities,
                model_version=result.model_version,
            )
            outcome["classified"] += 1
    outcome["skipped"] += len(product_ids) - len(pending)
    return outcome


@shared_task
def classify_product(product_id: int) -> dict:
    """One product; the same work as a batch of one."""
    return classify_products(product_ids=[product_id])


@shared_task
def classify_pending() -> int:
    """Queue every product left pending or failed (run periodically by Celery beat)."""
    from catalog import services

    return services.products_queue_pending()


def load_model_in_worker(**_signal_kwargs) -> None:
    """Open the model in each worker process right after the fork, so the first task is fast
    and a missing or corrupt model is reported at start, not product by product."""
    try:
        model = classifier.predictor.load(str(settings.PERCHA["MODEL_PATH"]))
    except ModelUnavailable as exc:
        logger.error("classifier model unavailable: %s; products will wait as pending", exc)
        return
    logger.info("classifier model %s loaded from %s", model.version, model.path)
