"""Categories and products. Rules about writing them live in ``catalog.services``."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def in_language(spanish: str, english: str) -> str:
    """The text for the active language: English only when English is active, else Spanish
    (the store's language). For the pairs of names of categories and model classes."""
    return english if (get_language() or "es").startswith("en") else spanish


class Category(models.Model):
    """A store category; ``classifier_label`` is the model class it stands for, if any (the
    class's index in the served model card; ``manage.py sync_model_classes`` keeps them in step)."""

    slug = models.SlugField(_("slug"), unique=True, max_length=80)
    name_es = models.CharField(_("name (Spanish)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    classifier_label = models.PositiveSmallIntegerField(
        _("classifier label"),
        null=True,
        blank=True,
        unique=True,
        help_text=_(
            "The model's class (its index in the model card) filed into this category; "
            "empty if none."
        ),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    # the words customers type that are not the category's names: "zapatos" for Calzado
    keywords = models.CharField(
        _("other search words"),
        max_length=500,
        blank=True,
        help_text=_(
            "Words customers may search for that are not in the names, in either language, "
            "separated by commas: e.g. zapatos, shoes. The store's search finds the category's "
            "products by them."
        ),
    )

    class Meta:
        ordering = ["position", "name_es"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:category", kwargs={"slug": self.slug})

    @property
    def name(self) -> str:
        return in_language(self.name_es, self.name_en)


UNPRICED = _("A product in the shop needs a price above 0: set one, or leave it unpublished.")


class Product(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        CLASSIFIED = "classified", _("classified")
        NEEDS_REVIEW = "needs_review", _("needs review")
        FAILED = "failed", _("failed")

    class CategorySource(models.TextChoices):
        MODEL = "model", _("model")
        PERSON = "person", _("person")

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), unique=True, max_length=220)
    description = models.TextField(_("description"), blank=True)
    price = models.DecimalField(
        _("price"), max_digits=10, decimal_places=2, validators=[MinValueValidator(0)]
    )
    image = models.ImageField(_("photo"), upload_to="products/%Y/%m/")
    thumbnail = models.ImageField(_("thumbnail"), upload_to="thumbnails/%Y/%m/", blank=True)
    # blank where the original is small enough to show as it is (catalog.photos.make_display)
    display = models.ImageField(
        _("photo for the product page"), upload_to="display/%Y/%m/", blank=True
    )
    # of the photo the product page shows (display, else image), upright: the page keeps its
    # place for it while it loads; null where the file could not be read
    photo_width = models.PositiveIntegerField(
        _("photo width"), null=True, blank=True, editable=False
    )
    photo_height = models.PositiveIntegerField(
        _("photo height"), null=True, blank=True, editable=False
    )
    # SHA-256 of the photo's bytes: an import run again skips the photos it already made
    photo_sha256 = models.CharField(
        _("photo digest"), max_length=64, blank=True, db_index=True, editable=False
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
    )
    category_source = models.CharField(
        _("category set by"), max_length=10, choices=CategorySource.choices, blank=True
    )
    predicted_label = models.PositiveSmallIntegerField(_("predicted label"), null=True, blank=True)
    confidence = models.FloatField(_("confidence"), null=True, blank=True)
    probabilities = models.JSONField(_("probabilities"), null=True, blank=True)
    classification_status = models.CharField(
        _("classification status"),
        max_length=16,
        choices=Status.choices,
        default=Status.PENDING,
        db_index=True,
    )
    classification_error = models.TextField(_("classification error"), blank=True)
    model_version = models.CharField(_("model version"), max_length=64, blank=True)
    classified_at = models.DateTimeField(_("classified at"), null=True, blank=True)
    is_published = models.BooleanField(_("published"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [models.Index(fields=["is_published", "category", "-created_at"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:product", kwargs={"slug": self.slug})

    def clean(self) -> None:
        """A product on sale has a price: nobody should see it at 0,00 €."""
        super().clean()
        if self.is_published and self.price is not None and self.price <= 0:
            raise ValidationError({"price": UNPRICED})


class ProductReview(Product):
    """The review queue in the admin: the same rows, a separate list of those awaiting a person."""

    class Meta:
        proxy = True
        verbose_name = _("product to review")
        verbose_name_plural = _("products to review")


class TrainingRun(models.Model):
    """One retraining of the model on the store's labelled photos, started from the admin.

    The ``classifier.tasks.retrain`` task fills it in as it goes (progress per epoch, the last
    lines of the training's output); the run folder it leaves is promoted by hand.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(
        _("progress (%)"), default=0, validators=[MaxValueValidator(100)]
    )
    message = models.CharField(_("message"), max_length=500, blank=True)
    log_tail = models.TextField(_("last lines of the output"), blank=True)
    run_dir = models.CharField(_("run folder"), max_length=500, blank=True)
    examples = models.PositiveIntegerField(_("labelled photos"), default=0)
    metrics = models.JSONField(_("metrics"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("training run")
        # the admin index's entry: the page shows the served model and the runs
        verbose_name_plural = _("model and retraining")
        permissions = [("start_training", _("Can start a retraining of the model"))]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"

    @property
    def active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
