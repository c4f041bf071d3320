"""Categories and products. Rules about writing them live in ``catalog.services``."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """A store category; ``classifier_label`` is the model class (0-9) it stands for, if any."""

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
        help_text=_("The model's class (0-9) filed into this category; empty if none."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

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
        """The name in the active language (English only when English is active)."""
        return self.name_en if (get_language() or "es").startswith("en") else self.name_es


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

    @property
    def predicted_category(self) -> Category | None:
        """The category the model suggests (whether or not it was assigned)."""
        if self.predicted_label is None:
            return None
        return Category.objects.filter(classifier_label=self.predicted_label).first()


class ProductReview(Product):
    """The review queue in the admin: the same rows, a separate list of those awaiting a person."""

    class Meta:
        proxy = True
        verbose_name = _("product to review")
        verbose_name_plural = _("products to review")
