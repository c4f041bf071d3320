"""What the API shows and what it accepts. No rules here: writes go through catalog.services."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch, reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from catalog import cache as catalog_cache
from catalog import selectors
from catalog.api.permissions import is_staff
from catalog.models import Category, Product
from classifier.labels import find_label

UNKNOWN_CATEGORY = _(
    "There is no category with the slug '{value}'; GET /api/categories/ lists them."
)
NO_PRODUCT = _("There is no product {value}, or it is not published.")
FORM_KEYS_TO_IGNORE = {"csrfmiddlewaretoken"}  # sent by the browsable API's HTML forms


def _absolute(request: Any, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


def _products_url(request: Any, category: Category) -> str:
    base = getattr(request, "_percha_product_list_url", None)
    if base is None:
        base = _absolute(request, reverse("api:product-list"))
        if request is not None:
            request._percha_product_list_url = base  # once per request, not once per product
    return f"{base}?{urlencode({'category': category.slug})}"


# Stand-ins reversed once per request in place of a real pk or slug (see LinkField).
_PLACEHOLDERS = ("999999999999", "percha-link-placeholder")


class LinkField(serializers.HyperlinkedIdentityField):
    """A hyperlink to the object, reversed once per request and view rather than per object.

    ``reverse()`` and ``build_absolute_uri()`` (which checks the host each time) cost about 4 ms
    on a 24-product page; the links differ only in the pk or slug, so they are filled into a
    template. The URLs are the same as HyperlinkedIdentityField's.
    """

    def get_url(self, obj, view_name, request, format):
        lookup = getattr(obj, self.lookup_field, None)
        if lookup in (None, "") or format:
            return super().get_url(obj, view_name, request, format)
        templates = self.context.setdefault("_link_templates", {})
        key = (view_name, self.lookup_url_kwarg)
        if key not in templates:
            templates[key] = self._template(view_name, request)
        url, placeholder = templates[key]
        return url.replace(placeholder, quote(str(lookup), safe=""))

    def _template(self, view_name, request) -> tuple[str, str]:
        for placeholder in _PLACEHOLDERS:
            try:
                kwargs = {self.lookup_url_kwarg: placeholder}
                return self.reverse(view_name, kwargs=kwargs, request=request), placeholder
            except NoReverseMatch:
                continue
        raise ImproperlyConfigured(f"cannot reverse {view_name} with a placeholder")


def label_name(label: int | None) -> str | None:
    """The model's English class name ("Trouser") for a label, or None when there is none.

    The served model's card names its classes; a label it lacks (given by an earlier model)
    is named from the table of known classes, or not at all.
    """
    found = None if label is None else find_label(selectors.served_labels(), label)
    return found.name if found else None


def category_slug_field(**kwargs: Any) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Category.objects.all(),
        error_messages={"does_not_exist": UNKNOWN_CATEGORY},
        **kwargs,
    )


class RejectUnknownFieldsMixin:
    """A misspelt or read-only field would otherwise be ignored without a word; say so instead."""

    def validate(self, attrs: dict) -> dict:
        unknown = set(getattr(self, "initial_data", {})) - set(self.fields) - FORM_KEYS_TO_IGNORE
        if unknown:
            accepted = ", ".join(self.fields)
            raise serializers.ValidationError(
                {
                    field: [
                        gettext(
                            "'%(field)s' cannot be set here; this endpoint accepts %(accepted)s."
                        )
                        % {"field": field, "accepted": accepted}
                    ]
                    for field in sorted(unknown)
                }
            )
        return super().validate(attrs)


# The model's workings on a product, shown to staff only: every class's probability, which model
# answered and why a classification failed are the shop's business, not its customers'.
STAFF_ONLY_FIELDS = ("probabilities", "model_version", "classification_error")


class StaffOnlyFieldsMixin:
    """Leaves ``STAFF_ONLY_FIELDS`` out of the answer for callers who are not staff.

    The schema (catalog.api.schema) lists them as optional and says who gets them."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        request = self.context.get("request")
        describing = getattr(self.context.get("view"), "swagger_fake_view", False)  # the schema
        if request is not None and not describing and not is_staff(request):
            for name in STAFF_ONLY_FIELDS:
                fields.pop(name, None)
        return fields


class CategoryBriefSerializer(serializers.Serializer):
    """A category as other resources link to it."""

    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(read_only=True, help_text="The name in the active language.")
    url = LinkField(view_name="api:category-detail", lookup_field="slug")
    products_url = serializers.SerializerMethodField(help_text="Its products, sub-categories too.")

    def get_products_url(self, category: Category) -> str:
        return _products_url(self.context.get("request"), category)


class CategorySerializer(CategoryBriefSerializer):
    """A category with its sub-categories and how many published products it holds.

    Serializes the nodes of ``selectors.category_tree()``, which carry the counts and children.
    """

    name_es = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)
    classifier_label = serializers.IntegerField(read_only=True, allow_null=True)
    product_count = serializers.IntegerField(
        read_only=True, help_text="Published products here and in its sub-categories."
    )

    class Meta:
        fields = (
            "slug",
            "name_es",
            "name_en",
            "name",
            "classifier_label",
            "product_count",
            "url",
            "products_url",
            "children",
        )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["children"] = CategorySerializer(many=True, read_only=True, source="subcategories")
        return {name: fields[name] for name in self.Meta.fields}


class ProductStatusSerializer(StaffOnlyFieldsMixin, serializers.Serializer):
    """What a client polls for after an upload, until it is no longer pending."""

    id = serializers.IntegerField(read_only=True)
    classification_status = serializers.ChoiceField(choices=Product.Status.choices, read_only=True)
    category = CategoryBriefSerializer(read_only=True, allow_null=True)
    confidence = serializers.FloatField(read_only=True, allow_null=True)
    predicted_label = serializers.IntegerField(read_only=True, allow_null=True)
    predicted_label_name = serializers.SerializerMethodField()
    classification_error = serializers.CharField(read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="api:product-detail")

    def get_predicted_label_name(self, product: Product) -> str | None:
        return label_name(product.predicted_label)


class ProductSerializer(StaffOnlyFieldsMixin, serializers.ModelSerializer):
    """A product with the model's verdict on its photo."""

    image = serializers.ImageField(read_only=True, help_text="URL of the original photo.")
    thumbnail = serializers.ImageField(
        read_only=True, allow_null=True, help_text="URL of a WebP at most 480 px a side."
    )
    display = serializers.ImageField(
        read_only=True,
        allow_null=True,
        help_text="URL of a WebP at most 1200 px a side, for a product page; null where the "
        "original photo is no larger (show image).",
    )
    category = CategoryBriefSerializer(read_only=True, allow_null=True)
    category_source = serializers.ChoiceField(
        choices=Product.CategorySource.choices,
        allow_blank=True,  # "" until someone (the model or a person) files it
        read_only=True,
    )
    predicted_label_name = serializers.SerializerMethodField()
    probabilities = serializers.ListField(
        child=serializers.FloatField(), read_only=True, allow_null=True
    )
    url = LinkField(view_name="api:product-detail")
    status_url = LinkField(view_name="api:product-status")

    class Meta:
        model = Product
        fields = (
            "id",
            "name",
            "slug",
            "description",
            "price",
            "image",
            "thumbnail",
            "display",
            "category",
            "category_source",
            "predicted_label",
            "predicted_label_name",
            "confidence",
            "probabilities",
            "classification_status",
            "classification_error",
            "model_version",
            "classified_at",
            "is_published",
            "created_at",
            "url",
            "status_url",
        )
        read_only_fields = fields

    def get_predicted_label_name(self, product: Product) -> str | None:
        return label_name(product.predicted_label)


class ProductListParamsSerializer(serializers.Serializer):
    """The query string of ``GET /api/products/``."""

    category = serializers.CharField(
        required=False,
        allow_blank=True,  # ?category= is no filter
        max_length=100,
        help_text="A category slug; its sub-categories are included.",
    )
    status = serializers.ChoiceField(
        choices=Product.Status.choices,
        required=False,
        allow_blank=True,  # ?status= is no filter, as a form's empty select sends it
        help_text="Classification status (only staff see unfiled products).",
    )
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Words, each found in the name, the description or the category's names; "
        "accents, case and plurals aside",
    )
    ordering = serializers.ChoiceField(
        choices=list(selectors.SORTS),
        required=False,
        allow_blank=True,  # ?ordering= is the default order
        default="newest",
        error_messages={
            "invalid_choice": format_lazy(
                _("'{{input}}' is not a sort order; use one of {choices}."),
                choices=", ".join(selectors.SORTS),
            )
        },
    )

    def validate_category(self, slug: str) -> Category | None:
        if not slug:
            return None
        # the node of the cached tree: its sub-categories come with it, no query for them
        category = selectors.tree_node(catalog_cache.category_tree(), slug)
        if category is None:
            raise serializers.ValidationError(UNKNOWN_CATEGORY.format(value=slug))
        return category


# "12,50" as the admin takes it in Spanish is no number to JSON or a form field of an API
PRICE_FORMAT = _("Send the price as a number with a dot for decimals, such as 12.50.")


class ProductCreateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A new product and its photo; the keys are ``services.product_create``'s arguments."""

    name = serializers.CharField(max_length=200)
    price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=0,
        error_messages={"invalid": PRICE_FORMAT},
        help_text="0 creates the product hidden (is_published false) until it has a price.",
    )
    description = serializers.CharField(required=False, allow_blank=True, default="")
    # The photo is checked by the service (catalog.photos), which explains what is wrong with it;
    # empty files are let through so that the service's message is the one answered.
    image = serializers.FileField(
        allow_empty_file=True,
        error_messages={"required": _("Send the product photo as the multipart field 'image'.")},
    )
    category = category_slug_field(
        required=False,
        allow_null=True,
        help_text="File it here yourself; the model's prediction will not replace it.",
    )
    is_published = serializers.BooleanField(default=True)
    duplicate = serializers.BooleanField(
        default=False,
        help_text="Create it even if a product of the store has the same photo (the same "
        "bytes). Without it that is a 409 naming the product: a retried upload must not put "
        "the garment on sale twice.",
    )


class ProductUpdateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """The fields ``services.product_update`` edits; the category has its own endpoint."""

    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=0,
        required=False,
        error_messages={"invalid": PRICE_FORMAT},
    )
    is_published = serializers.BooleanField(required=False)


class ProductCategorySerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    category = category_slug_field(
        allow_null=True,
        help_text="A category slug; or null: the product leaves the shop and waits in the "
        "review queue (reclassifying it, or a new model, may file it again).",
    )


class PhotoSerializer(serializers.Serializer):
    image = serializers.FileField(
        allow_empty_file=True,
        error_messages={"required": _("Send the photo as the multipart field 'image'.")},
    )


class ClassificationSerializer(serializers.Serializer):
    """The model's answer for a photo that is not stored."""

    label = serializers.IntegerField()
    label_name = serializers.CharField()
    confidence = serializers.FloatField()
    probabilities = serializers.ListField(child=serializers.FloatField())
    model_version = serializers.CharField()
    category = CategoryBriefSerializer(
        read_only=True, allow_null=True, help_text="Where the store files this label, if anywhere."
    )
    would_file = serializers.BooleanField(
        help_text="Whether the store would file a product with this photo on its own: the "
        "confidence reaches the store's threshold and the label has a category. If not, the "
        "product would wait in the review queue for a person."
    )


class DuplicatePhotoSerializer(serializers.Serializer):
    """For the schema: the 409 of an upload whose photo a product already has."""

    detail = serializers.CharField()
    code = serializers.CharField(help_text="duplicate_photo")
    product = serializers.IntegerField(help_text="The id of the product that has the photo.")
    product_url = serializers.URLField()
