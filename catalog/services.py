"""Every write to the catalog. Views, the admin, the API, commands and tasks call these.

The rules, in one place:
- A product is saved first (status pending) and classified after the transaction commits; if the
  broker is down the product stays pending and ``classify_pending`` queues it later.
- Confidence at or above the threshold files the product under the predicted category; below
  it the suggestion is kept and the product waits for review (no category, so it is not shown).
- A category set by a person is never overwritten by the model.
- Every write here ends with ``catalog_changed()``: the cached pages and lists of the storefront
  and the API (catalog/cache.py) are stale from then on. A new write service must call it too.
- The model's classes come from its card: ``categories_sync_with_model`` makes the categories
  follow a promoted model, and ``products_queue_for_new_model`` lets it re-file what the old
  model filed (never a person's choice).
"""

from __future__ import annotations

import dataclasses
import logging
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.text import slugify

from catalog import selectors
from catalog.cache import catalog_changed
from catalog.models import Category, Product
from catalog.names import is_camera_file_name
from catalog.photos import (
    make_display,
    make_thumbnail,
    photo_digest,
    upright_size,
    validated_photo,
)
from classifier import predictor
from classifier.labels import Label

logger = logging.getLogger(__name__)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:200] or "producto"
    slug, n = base, 2
    while Product.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _save_with_a_free_slug(product: Product, attempts: int = 5) -> None:
    """Insert the product; should another upload of the same name take the slug between the
    check and the insert (concurrent uploads), try a random suffix rather than fail the upload."""
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                product.save()
            return
        except IntegrityError:
            if attempt == attempts - 1 or not Product.objects.filter(slug=product.slug).exists():
                raise
            product.slug = f"{product.slug[:200]}-{get_random_string(6, 'abcdefghjkmnpqrstuvwxyz')}"


def shop_text(text: str) -> str:
    """Text as the store keeps it: composed Unicode (NFC). A name made from a macOS file name
    spells "ó" as "o" plus a combining accent, which neither a search for "pantalón" nor one for
    "pantalon" found."""
    return unicodedata.normalize("NFC", text)


def product_create(
    *,
    name: str,
    image: UploadedFile,
    price: Decimal | None = None,
    description: str = "",
    category: Category | None = None,
    is_published: bool = True,
    classify: bool = True,
) -> Product:
    """Validate the photo, save the product as pending and queue its classification.

    A ``category`` given here is a person's choice: the model's prediction is still recorded,
    but never replaces it. Without a price (a bulk upload or import that gave none, or 0) the
    product is created hidden: no customer should see it at 0,00 € before someone prices it.
    Raises ValidationError (nothing saved) for a bad photo.
    """
    if not price:  # none given, or 0: created hidden until someone prices it
        price, is_published = Decimal("0"), False
    photo = validated_photo(image)
    data = photo.read()
    thumbnail = make_thumbnail(data)
    photo.seek(0)
    product = Product(
        name=shop_text(name).strip(),
        slug=_unique_slug(name),
        description=shop_text(description),
        price=price,
        category=category,
        category_source=Product.CategorySource.PERSON if category else "",
        is_published=is_published,
        photo_sha256=photo_digest(data),
    )
    product.image.save(photo.name, photo, save=False)
    product.thumbnail.save(thumbnail.name, thumbnail, save=False)
    display = make_display(data)
    product.photo_width, product.photo_height = upright_size(display.read() if display else data)
    if display is not None:
        product.display.save(display.name, display, save=False)
    product.full_clean()
    _save_with_a_free_slug(product)
    catalog_changed()
    if classify:
        products_queue_classification(product_ids=[product.pk])
    return product


PRODUCT_EDITABLE_FIELDS = ("name", "description", "price", "is_published")


def product_update(*, product: Product, data: Mapping[str, Any]) -> Product:
    """A person edits the shop fields; the photo, the category and the model's fields have their
    own services. The slug stays as it is, so links already shared keep working, except for a
    hidden product whose slug came from a camera's file name ("img-2041"): it was kept hidden
    until someone named it, and is now addressed by that name."""
    unknown = set(data) - set(PRODUCT_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"product_update cannot change {sorted(unknown)}")
    # as stored, not as the object says: the admin's form has already set its new values on it
    stored = Product.objects.filter(pk=product.pk).values("name", "is_published").first() or {
        "name": product.name,
        "is_published": product.is_published,
    }
    was_hidden, old_name = not stored["is_published"], stored["name"]
    for field, value in data.items():
        if field in ("name", "description"):
            value = shop_text(value).strip() if field == "name" else shop_text(value)
        setattr(product, field, value)
    fields = [*data, "updated_at"]
    if was_hidden and product.name != old_name and is_camera_file_name(product.slug):
        product.slug = _unique_slug(product.name)
        fields.append("slug")
    product.full_clean()
    product.save(update_fields=fields)
    catalog_changed()
    return product


def products_queue_classification(*, product_ids: Sequence[int]) -> None:
    """Queue classification in batches, once the current transaction has committed."""
    ids = list(product_ids)
    if ids:
        transaction.on_commit(lambda: _send_classification_tasks(ids))


def _send_classification_tasks(ids: list[int]) -> None:
    from classifier.tasks import classify_products

    size = settings.PERCHA["CLASSIFY_BATCH_SIZE"]
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        try:
            classify_products.delay(chunk)
        except Exception as exc:  # broker down: the products stay pending for classify_pending
            logger.warning(
                "could not queue classification of products %s (%s); left pending", chunk, exc
            )
            return


def confidence_threshold() -> float:
    """The setting when an operator set one, else the calibrated one of the served model."""
    configured = settings.PERCHA["CONFIDENCE_THRESHOLD"]
    if configured is not None:
        return configured
    return predictor.load(str(settings.PERCHA["MODEL_PATH"])).threshold


def product_apply_prediction(
    *,
    product: Product,
    label: int,
    confidence: float,
    probabilities: list[float],
    model_version: str,
    threshold: float | None = None,
) -> Product:
    """One product's answer, by the batch's rules (``products_apply_predictions``): file it,
    hold it for review, or leave a person's category; a product no longer pending is left."""
    answer = _Answer(label, confidence, probabilities, model_version)
    products_apply_predictions(predictions={product.pk: answer}, threshold=threshold)
    product.refresh_from_db()
    return product


class Prediction(Protocol):
    """What the services need of a model's answer (``classifier.Classification`` has it)."""

    label: int
    confidence: float
    probabilities: list[float]
    model_version: str


@dataclasses.dataclass(frozen=True)
class _Answer:
    label: int
    confidence: float
    probabilities: list[float]
    model_version: str


PREDICTION_FIELDS = [
    "predicted_label",
    "confidence",
    "probabilities",
    "model_version",
    "classified_at",
    "classification_error",
    "classification_status",
    "category",
    "category_source",
    "updated_at",
]


def products_apply_predictions(
    *, predictions: Mapping[int, Prediction], threshold: float | None = None
) -> int:
    """A worker's batch (product id → the model's answer), written in one transaction.

    The rows are locked together and the categories looked up once: a batch of 64 costs two
    SELECTs and 64 UPDATEs in one transaction, not a transaction, a lock, a category lookup and
    an UPDATE for each (measured: 62 ms against 290 ms). Only products still pending are
    written: one deleted meanwhile, or done by another delivery of the same task, is left alone.
    Returns how many were written.
    """
    if not predictions:
        return 0
    if threshold is None:
        threshold = confidence_threshold()
    categories = selectors.filing_categories({p.label for p in predictions.values()})
    with transaction.atomic():
        pending = list(
            Product.objects.select_for_update()
            .filter(pk__in=list(predictions), classification_status=Product.Status.PENDING)
            .order_by("pk")  # one lock order for every worker: no deadlock between batches
        )
        for product in pending:
            answer = predictions[product.pk]
            _record_prediction(product, answer, threshold, categories.get(answer.label))
            # one UPDATE a row: bulk_update's CASE expressions cost more in Python than the
            # round trips they save (measured: 200 ms for 64 rows against 62)
            product.save(update_fields=PREDICTION_FIELDS)
        if pending:
            catalog_changed()
    return len(pending)


def _record_prediction(
    product: Product, answer: Prediction, threshold: float, category: Category | None
) -> None:
    """Set the answer's fields and the decision on ``product`` (not saved): a person's category
    stays; a confident answer with a category files the product; anything else waits for review."""
    product.predicted_label = answer.label
    product.confidence = answer.confidence
    product.probabilities = answer.probabilities
    product.model_version = answer.model_version
    product.classified_at = timezone.now()
    product.classification_error = ""
    if product.category_source == Product.CategorySource.PERSON:
        product.classification_status = Product.Status.CLASSIFIED
    elif answer.confidence >= threshold and category is not None:
        product.category = category
        product.category_source = Product.CategorySource.MODEL
        product.classification_status = Product.Status.CLASSIFIED
    else:
        product.category = None
        product.category_source = ""
        product.classification_status = Product.Status.NEEDS_REVIEW


def product_mark_failed(*, product: Product, error: str) -> Product:
    """The photo cannot be classified (unreadable, missing): keep the product, say why. An
    earlier answer is dropped: the review queue showed it as the suggestion of a photo that
    is gone, and *Accept suggestion* would have filed by it."""
    product.classification_status = Product.Status.FAILED
    product.classification_error = error
    product.predicted_label = product.confidence = product.probabilities = None
    fields = ["classification_status", "classification_error", "predicted_label", "confidence"]
    product.save(update_fields=[*fields, "probabilities", "updated_at"])
    catalog_changed()  # the API lists the status
    return product


def products_note_waiting(*, product_ids: Sequence[int], reason: str) -> int:
    """The model cannot be loaded: the products stay pending (the task retries, and the
    periodic re-queue after it) and say why, so that the staff polling their status or
    reading the product list are not left with "pending" and nothing else. The prediction
    clears the reason."""
    waiting = Product.objects.filter(
        pk__in=product_ids, classification_status=Product.Status.PENDING
    )
    noted = waiting.update(classification_error=reason, updated_at=timezone.now())
    catalog_changed()  # the API lists the status
    return noted


def product_set_category(*, product: Product, category: Category | None) -> Product:
    """A person files the product, or clears its category: then it waits in the review queue
    (a classified product without a category is in no listing and no queue: it would be lost)."""
    product.category = category
    product.category_source = Product.CategorySource.PERSON if category else ""
    if category is not None and product.classification_status == Product.Status.NEEDS_REVIEW:
        product.classification_status = Product.Status.CLASSIFIED
    elif category is None and product.classification_status == Product.Status.CLASSIFIED:
        product.classification_status = Product.Status.NEEDS_REVIEW
    product.save()
    catalog_changed()
    return product


def product_accept_suggestion(*, product: Product) -> Product:
    """A person confirms the model's suggestion; returns the product unchanged if it has none.

    The suggestion is filed where the model would file it: a sandal under Calzado, since the
    photos never taught the model which footwear it is (``selectors.filing_categories``); a
    person who knows files it under Sandalias by hand, and that is a label worth training on.
    """
    if product.predicted_label is None:
        return product
    suggested = selectors.filing_categories({product.predicted_label}).get(product.predicted_label)
    if suggested is None:
        return product
    return product_set_category(product=product, category=suggested)


def products_reclassify(*, products: Iterable[Product]) -> int:
    """Run the model again (e.g. after a new model); a person's category stays as it is.

    ``updated_at`` moves too: the periodic ``products_queue_pending`` leaves recently changed
    products alone, so it does not queue these a second time while their task is on its way.
    """
    ids = [p.pk for p in products]
    Product.objects.filter(pk__in=ids).update(
        classification_status=Product.Status.PENDING,
        classification_error="",
        updated_at=timezone.now(),
    )
    catalog_changed()
    products_queue_classification(product_ids=ids)
    return len(ids)


def products_queue_pending(
    *, include_failed: bool = True, older_than: timedelta | None = None
) -> int:
    """Queue every product left pending (broker was down, worker died) and, optionally, failed.

    ``older_than`` leaves alone products changed more recently, whose task may still be on its
    way: the periodic run must not queue a fresh upload twice.
    """
    statuses = [Product.Status.PENDING] + ([Product.Status.FAILED] if include_failed else [])
    products = Product.objects.filter(classification_status__in=statuses)
    if older_than is not None:
        products = products.filter(updated_at__lt=timezone.now() - older_than)
    ids = list(products.values_list("pk", flat=True))
    if include_failed:
        Product.objects.filter(pk__in=ids).update(classification_status=Product.Status.PENDING)
        catalog_changed()
    products_queue_classification(product_ids=ids)
    return len(ids)


def products_queue_for_new_model(*, include_failed: bool = True) -> int:
    """Run the served model again over every product a person did not file (after a promotion).

    That is the products the model filed, those it left for review, and those still pending
    (and failed ones, unless ``include_failed`` is off). They go back to pending and keep their
    current category until the new model's answer replaces it, so the storefront does not empty
    meanwhile. A category a person set (``category_source`` person) is left as it is: its
    product is not even re-run.
    """
    products = Product.objects.exclude(category_source=Product.CategorySource.PERSON)
    if not include_failed:
        products = products.exclude(classification_status=Product.Status.FAILED)
    return products_reclassify(products=products.only("pk"))


@dataclasses.dataclass
class CategorySync:
    """What ``categories_sync_with_model`` did, class by class, for the command to report."""

    kept: list[tuple[Label, Category]] = dataclasses.field(default_factory=list)
    linked: list[tuple[Label, Category]] = dataclasses.field(default_factory=list)
    created: list[tuple[Label, Category]] = dataclasses.field(default_factory=list)
    review: list[Label] = dataclasses.field(default_factory=list)  # no slug: products go to review
    conflicts: list[tuple[Label, Category]] = dataclasses.field(default_factory=list)
    unlinked: list[tuple[int, Category]] = dataclasses.field(default_factory=list)


@transaction.atomic
def categories_sync_with_model(*, labels: Sequence[Label] | None = None) -> CategorySync:
    """Make the categories follow the served model's classes (the store's half of a promotion).

    For each class of the card (``labels``; by default the served model's):
    - a category already filed under the class keeps it (whatever its slug: an admin may have
      renamed it, or linked a class the card gives no category);
    - else, if the class names a category slug: the category with that slug is linked to the
      class, or created (names from the card, else ``classifier.labels.KNOWN``);
    - a class without a slug gets no category: the products it would file go to review.
    A category linked to a class the card no longer has is unlinked first, so that its index is
    free for a class that needs it. A category already linked to another class that is still in
    the card is left alone and reported as a conflict. Running it twice changes nothing.
    """
    labels = list(selectors.served_labels() if labels is None else labels)
    result = CategorySync()
    indices = {label.index for label in labels}
    for category in Category.objects.filter(classifier_label__isnull=False).exclude(
        classifier_label__in=indices
    ):
        result.unlinked.append((category.classifier_label, category))
        category.classifier_label = None
        category.save(update_fields=["classifier_label"])
    by_label = {
        c.classifier_label: c for c in Category.objects.filter(classifier_label__isnull=False)
    }
    for label in labels:
        if (category := by_label.get(label.index)) is not None:
            result.kept.append((label, category))
        elif not label.slug:
            result.review.append(label)
        elif (category := Category.objects.filter(slug=label.slug).first()) is None:
            position = Category.objects.aggregate(last=Max("position"))["last"]
            category = Category(
                slug=label.slug,
                name_es=label.name_es,
                name_en=label.name_en,
                classifier_label=label.index,
                position=0 if position is None else position + 1,
            )
            category.full_clean()
            category.save()
            result.created.append((label, category))
        elif category.classifier_label is not None:
            result.conflicts.append((label, category))  # it files another class of the card
        else:
            category.classifier_label = label.index
            category.save(update_fields=["classifier_label"])
            result.linked.append((label, category))
    catalog_changed()
    return result


def products_delete(*, products: Iterable[Product]) -> int:
    """Delete products and, once that is committed, their photo files (the original, the
    thumbnail and the product page's copy), which deleting the rows alone left in the storage
    for ever. Returns how many were deleted."""
    targets = Product.objects.filter(pk__in=[product.pk for product in products])
    files = [
        (field.storage, field.name)
        for product in targets.only("image", "thumbnail", "display")
        for field in (product.image, product.thumbnail, product.display)
        if field.name
    ]
    deleted, _ = targets.delete()
    transaction.on_commit(lambda: _delete_files(files))
    catalog_changed()
    return deleted


def _delete_files(files: list[tuple[Any, str]]) -> None:
    for storage, name in files:
        try:
            storage.delete(name)
        except OSError:  # already gone, or the storage is unreachable: the rows are what count
            logger.warning("could not delete the photo file %s", name, exc_info=True)


def products_set_price(*, products: Iterable[Product], price: Decimal) -> int:
    """One price for many products (one UPDATE); returns how many. Publishing is its own
    step (``products_set_published``), with its own rule."""
    if not price > 0:
        raise ValueError(f"a price above 0, not {price}")
    ids = [product.pk for product in products]
    changed = Product.objects.filter(pk__in=ids).update(price=price, updated_at=timezone.now())
    catalog_changed()
    return changed


def products_set_published(*, products: Iterable[Product], published: bool) -> int:
    """Show or hide products in the storefront in one query; returns how many changed.

    Only the flag and ``updated_at`` are written, so a classification finishing at the same
    moment is not overwritten by a stale copy of the row. A product without a price is never
    published (``Product.clean``), nor one still named after its camera's file ("DSC01234",
    ``names.is_camera_file_name``): it stays hidden until someone names it, and is not counted.
    """
    ids = [p.pk for p in products]
    targets = Product.objects.filter(pk__in=ids).exclude(is_published=published)
    if published:
        targets = targets.filter(price__gt=0)
        camera_named = [
            pk for pk, name in targets.values_list("pk", "name") if is_camera_file_name(name)
        ]
        targets = targets.exclude(pk__in=camera_named)
    changed = targets.update(is_published=published, updated_at=timezone.now())
    catalog_changed()
    return changed
