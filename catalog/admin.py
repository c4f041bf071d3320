"""The shop admin: a thin adapter around ``catalog.services`` (writes) and ``selectors`` (reads).

Every product write goes through a service, so the admin follows the same rules as the API and
the commands: a photo is validated and classified after commit, and a category chosen here is a
person's choice the model never overwrites. The review queue is a proxy model so that it gets its
own entry, permissions and list in the admin index without a second table. The training runs'
entry is the Model page: the served model, the store's labelled examples and the Retrain button.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_list import _boolean_icon
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, CharField, Count, Max, QuerySet, Value, When
from django.forms import Form, ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.timezone import localtime
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from catalog import selectors, services, training
from catalog.cache import catalog_changed
from catalog.forms import (
    BulkUploadForm,
    ProductAddForm,
    ProductChangeForm,
    SetCategoryForm,
    SetPriceForm,
)
from catalog.models import Category, Product, ProductReview, TrainingRun, in_language
from catalog.names import is_camera_file_name, product_name_from_filename
from catalog.photos import upload_digest
from catalog.templatetags.store import money
from classifier import predictor
from classifier.labels import label_for

admin.site.site_header = _("Percha administration")
admin.site.site_title = _("Percha admin")
admin.site.index_title = _("Store catalog")
# The side menu repeats the index page and takes 230 px from every list: on a 1280 px laptop
# the product list and the review queue lost their last columns behind it.
admin.site.enable_nav_sidebar = False

MAX_NAMED_COPIES = 5  # copies or camera names in an upload of dozens: the first few, then a count

HIDDEN_WITHOUT_PRICE = _(
    "Without a price above 0, a product is hidden from the store: select them in the product "
    "list and use “Set price…”, which can publish them too."
)


def _by_id(queryset: QuerySet[Product]) -> QuerySet[Product]:
    """The selected products themselves, not the list's filter that picked them ("without a
    price", "hidden"): it matches none of them once an action has priced or published them."""
    return Product.objects.filter(pk__in=list(queryset.values_list("pk", flat=True)))


def quoted(name: str) -> str:
    """A name in the quotation marks of the admin's language: “Falda” in English, «Falda» in
    Spanish (the messages' own text uses them)."""
    return gettext("“%(name)s”") % {"name": name}


def _first_names(names: list[str]) -> str:
    """ "a, b, c, d, e and 3 more": a message about dozens of photos names the first few."""
    shown = ", ".join(names[:MAX_NAMED_COPIES])
    if len(names) > MAX_NAMED_COPIES:
        more = len(names) - MAX_NAMED_COPIES
        shown += " " + ngettext("and %(count)d more", "and %(count)d more", more) % {"count": more}
    return shown


STATUS_COLOURS = {
    Product.Status.PENDING: "#6c757d",
    Product.Status.CLASSIFIED: "#198754",
    Product.Status.NEEDS_REVIEW: "#b35c00",
    Product.Status.FAILED: "#c62828",
}


def _percent(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:.{digits}%}"


class PricedFilter(admin.SimpleListFilter):
    """Products a shop must still price before it can publish them (bulk uploads and imports
    without a price are created hidden at 0)."""

    title = _("price")
    parameter_name = "priced"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", _("With a price")), ("no", _("Without a price"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        if self.value() == "yes":
            return queryset.filter(price__gt=0)
        if self.value() == "no":
            return queryset.filter(price__lte=0)
        return queryset


class FiledByTheModelFilter(admin.SimpleListFilter):
    """What the model filed on its own lately: those products go on sale without a person's
    look, and the model is wrong on some photos of every kind. A shop checks them here."""

    title = _("filed by the model")
    parameter_name = "filed_by_model"
    SINCE = {"today": timedelta(0), "week": timedelta(days=6)}

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("today", _("Today")), ("week", _("In the last 7 days"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        if self.value() not in self.SINCE:
            return queryset
        midnight = localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        return queryset.filter(
            category_source=Product.CategorySource.MODEL,
            classified_at__gte=midnight - self.SINCE[self.value()],
        )


class ReviewReasonFilter(admin.SimpleListFilter):
    """Why a product waits in the review queue: only the two statuses found there (the field's
    own filter offered "pending" and "classified", which never match anything in it)."""

    title = _("classification status")
    parameter_name = "classification_status__exact"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [(s.value, s.label) for s in (Product.Status.NEEDS_REVIEW, Product.Status.FAILED)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        return queryset.filter(classification_status=self.value()) if self.value() else queryset


def _with_suggestion_names(queryset: QuerySet) -> QuerySet:
    """Annotate the names of the category each product's suggestion files it under, as
    *Accept suggestion* would (``selectors.filing_categories``: Calzado for a sandal, whose
    class the photos never taught apart from other shoes): the same for every row, so read
    once per list, not once per row."""
    labels = {label.index for label in selectors.served_labels()}
    labels |= set(
        Category.objects.exclude(classifier_label=None).values_list("classifier_label", flat=True)
    )
    filing = selectors.filing_categories(labels)

    def name(field: str) -> Case:
        cases = [
            When(predicted_label=label, then=Value(getattr(c, field)))
            for label, c in filing.items()
        ]
        return Case(*cases, default=Value(None), output_field=CharField())

    return queryset.annotate(suggested_name_es=name("name_es"), suggested_name_en=name("name_en"))


class ChangesCatalogOnDelete(admin.ModelAdmin):
    """Deleting a category has no service (no files to remove): the admin deletes the rows and
    says the catalog changed (the cached pages show them)."""

    def delete_model(self, request: HttpRequest, obj) -> None:
        super().delete_model(request, obj)
        catalog_changed()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        super().delete_queryset(request, queryset)
        catalog_changed()


@admin.register(Category)
class CategoryAdmin(ChangesCatalogOnDelete):
    list_display = ["name_es", "name_en", "slug", "parent", "classifier_label", "product_count"]
    list_select_related = ["parent"]
    search_fields = ["name_es", "name_en", "slug", "keywords"]
    prepopulated_fields = {"slug": ["name_es"]}
    ordering = ["position", "name_es"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(_product_count=Count("products"))

    @admin.display(description=_("products"), ordering="_product_count")
    def product_count(self, category: Category) -> int:
        return category._product_count

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        """The model's class chosen by its name ("12 · Faldas (Skirt)"), not typed as a bare
        index looked up on the Model page."""
        if db_field.name != "classifier_label":
            return super().formfield_for_dbfield(db_field, request, **kwargs)
        taken = {
            c.classifier_label: c.name for c in Category.objects.exclude(classifier_label=None)
        }
        choices = []
        for label in selectors.served_labels():
            text = f"{label.index} · {in_language(label.name_es, label.name_en)} ({label.name})"
            if label.index in taken:  # a class files into one category: say which has it
                text += f" → {taken[label.index]}"
            choices.append((label.index, text))
        return forms.TypedChoiceField(
            label=capfirst(db_field.verbose_name),
            choices=[("", "---------"), *choices],
            coerce=int,
            empty_value=None,
            required=False,
            help_text=_(
                "The model's class whose products are filed into this category; empty if none. "
                "A class goes to one category: “→” names the one that has it."
            ),
        )

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        """A new category goes after the others in the menu (position 0 put it first)."""
        last = Category.objects.aggregate(last=Max("position"))["last"]
        return {
            "position": 0 if last is None else last + 1,
            **super().get_changeform_initial_data(request),
        }

    # Categories have no write service (the admin's form is the whole rule), so the admin says
    # itself that the catalog changed: names, tree and counts are in every cached page.
    def save_model(
        self, request: HttpRequest, obj: Category, form: ModelForm, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        catalog_changed()
        if "classifier_label" in form.changed_data and obj.classifier_label is not None:
            self._point_to_waiting_products(request, obj)

    def _point_to_waiting_products(self, request: HttpRequest, category: Category) -> None:
        """Products already waiting with this class as their suggestion are not filed by the
        new link on their own: say where they are and what files them."""
        waiting = selectors.review_queue().filter(predicted_label=category.classifier_label)
        if count := waiting.count():
            message = ngettext(
                "%(count)d product in the review queue is suggested as this category's class: "
                "select it there and use “Accept the model's suggestion” to file it here.",
                "%(count)d products in the review queue are suggested as this category's class: "
                "select them there and use “Accept the model's suggestion” to file them here.",
                count,
            ) % {"count": count}
            link = reverse("admin:catalog_productreview_changelist")
            self.message_user(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    message,
                    link,
                    capfirst(ProductReview._meta.verbose_name_plural),
                ),
                messages.INFO,
            )


class ProductAdminBase(admin.ModelAdmin):
    """What the product list and the review queue share: the forms, saving and deleting through
    the services, the read-only model outputs and the columns that show them."""

    def delete_model(self, request: HttpRequest, obj: Product) -> None:
        services.products_delete(products=[obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        services.products_delete(products=queryset)

    list_select_related = ["category"]
    search_fields = ["name"]
    readonly_output_fields = [
        "photo_preview",
        "slug",
        "category_source",
        "status_badge",
        "prediction",
        "confidence_percent",
        "probabilities_table",
        "classification_error",
        "model_version",
        "classified_at",
        "created_at",
        "updated_at",
    ]

    class Media:
        css = {"all": ["css/admin_lists.css"]}  # long names wrap (the lists' widths)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return _with_suggestion_names(super().get_queryset(request))

    # The forms: a photo on add; on change the photo and the model's outputs are read-only.
    def get_form(
        self, request: HttpRequest, obj: Product | None = None, change: bool = False, **kwargs
    ) -> type[ModelForm]:
        kwargs["form"] = ProductChangeForm if obj is not None else ProductAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Product | None = None) -> list[str]:
        return list(self.readonly_output_fields) if obj is not None else []

    def get_fieldsets(self, request: HttpRequest, obj: Product | None = None) -> list:
        if obj is None:
            return [
                (
                    None,
                    {
                        "fields": [
                            "image",
                            "name",
                            "price",
                            "description",
                            "category",
                            "is_published",
                        ]
                    },
                ),
            ]
        return [
            (
                None,
                {
                    "fields": [
                        "photo_preview",
                        "name",
                        "slug",
                        "price",
                        "description",
                        "is_published",
                    ]
                },
            ),
            (_("Category"), {"fields": ["category", "category_source"]}),
            (
                _("Classification"),
                {
                    "fields": [
                        "status_badge",
                        "prediction",
                        "confidence_percent",
                        "probabilities_table",
                        "classification_error",
                        "model_version",
                        "classified_at",
                    ]
                },
            ),
            (_("History"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
        ]

    def save_model(self, request: HttpRequest, obj: Product, form: ModelForm, change: bool) -> None:
        """Save through the services instead of ``obj.save()``."""
        data = form.cleaned_data
        if not change:
            created = services.product_create(
                name=data["name"],
                image=data["image"],
                price=data["price"],
                description=data.get("description", ""),
                category=data.get("category"),
                is_published=data.get("is_published", True),
            )
            _adopt(obj, created)
            if getattr(form, "hidden_without_price", False):
                self.message_user(request, HIDDEN_WITHOUT_PRICE, messages.WARNING)
            # saved all the same (a person chose this photo), but said: bulk uploads, imports
            # and the API refuse a copy
            if (
                other := selectors.product_with_photo(created.photo_sha256, created.pk)
            ) is not None:
                message = _("%(name)s already has this photo: delete one of them if it is a copy.")
                self.message_user(request, message % {"name": quoted(other.name)}, messages.WARNING)
        else:
            # Only the edited columns: a classification finishing meanwhile is not overwritten.
            edited = {
                field: data[field]
                for field in form.changed_data
                if field in services.PRODUCT_EDITABLE_FIELDS
            }
            if edited:
                services.product_update(product=obj, data=edited)
            if "category" in form.changed_data:  # a person's choice
                services.product_set_category(product=obj, category=data.get("category"))

    # Columns and read-only fields.
    @admin.display(description=_("photo"))
    def thumbnail_tag(self, product: Product) -> str:
        photo = product.thumbnail or product.image
        if not photo:
            return "—"
        return format_html(
            '<img src="{}" alt="" width="48" height="48" loading="lazy" '
            'style="object-fit:cover;border-radius:4px;background:#fff">',
            photo.url,
        )

    @admin.display(description=_("photo"))
    def photo_preview(self, product: Product) -> str:
        if not product.image:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="{}" '
            'style="max-width:320px;max-height:320px;border-radius:4px;background:#fff"></a>',
            product.image.url,
            (product.thumbnail or product.image).url,
            product.name,
        )

    @admin.display(description=_("in the store"), ordering="is_published")
    def in_store(self, product: Product) -> str:
        """Whether customers see it: published *and* filed. A published product waiting for
        its category showed a green tick while no customer could see it."""
        if product.is_published and product.category_id is None:
            return format_html("<small>{}</small>", _("published, waiting for a category"))
        return _boolean_icon(product.is_published)

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, product: Product) -> str:
        """ "05/12/2026 19:57" rather than "5 de diciembre de 2026 a las 19:57": a list column."""
        return date_format(localtime(product.created_at), "SHORT_DATETIME_FORMAT")

    @admin.display(description=_("price"), ordering="price")
    def price_text(self, product: Product) -> str:
        """As the shop shows it ("12,50 €"); an unpriced product says so, as it cannot be sold."""
        text = money(product.price) if product.price else _("no price")
        return format_html('<span style="white-space:nowrap">{}</span>', text)

    @admin.display(description=_("category"), ordering="category__name_es")
    def category_and_source(self, product: Product) -> str:
        if product.category is None:
            return "—"
        return format_html(
            "{} <small>({})</small>", product.category, product.get_category_source_display()
        )

    @admin.display(description=_("classification status"), ordering="classification_status")
    def status_badge(self, product: Product) -> str:
        return format_html(
            '<span class="percha-status percha-status-{}" style="background:{};color:#fff;'
            'padding:2px 8px;border-radius:10px;font-size:11px;white-space:nowrap">{}</span>',
            product.classification_status,
            STATUS_COLOURS.get(product.classification_status, "#6c757d"),
            product.get_classification_status_display(),
        )

    @admin.display(description=_("confidence"), ordering="confidence")
    def confidence_percent(self, product: Product) -> str:
        return _percent(product.confidence)

    @admin.display(description=_("predicted category"))
    def predicted_category_name(self, product: Product) -> str:
        if product.predicted_label is None:
            return "—"
        if hasattr(product, "suggested_name_es"):
            name = in_language(product.suggested_name_es, product.suggested_name_en)
        else:
            label = product.predicted_label
            category = selectors.filing_categories({label}).get(label)
            name = category.name if category else None
        return name or selectors.class_name(product.predicted_label)

    @admin.display(description=_("prediction"))
    def prediction(self, product: Product) -> str:
        if product.predicted_label is None:
            return "—"
        return format_html(
            "{} <small>({} {}, {})</small>",
            self.predicted_category_name(product),
            _("class"),
            product.predicted_label,
            label_for(selectors.served_labels(), product.predicted_label).name,
        )

    @admin.display(description=_("suggestion"))
    def suggestion(self, product: Product) -> str:
        """Where accepting it files the product, and the class the confidence is of: "Calzado ·
        Botines 48%" ("Calzado 48%" read as footwear's own confidence, which it is not)."""
        if product.predicted_label is None:
            return "—"
        filed_as, label = (
            self.predicted_category_name(product),
            selectors.class_name(product.predicted_label),
        )
        if filed_as == label:
            return format_html("<strong>{}</strong> {}", filed_as, _percent(product.confidence))
        return format_html(
            "<strong>{}</strong> · {} {}", filed_as, label, _percent(product.confidence)
        )

    @admin.display(description=_("top 3"))
    def top_three(self, product: Product) -> str:
        return _probabilities_html(product.probabilities, limit=3)

    @admin.display(description=_("probabilities"))
    def probabilities_table(self, product: Product) -> str:
        return _probabilities_html(product.probabilities, limit=None)

    # Actions.
    @admin.action(description=_("Reclassify with the model"), permissions=["change"])
    def reclassify(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        count = services.products_reclassify(products=queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d product queued for classification.",
                "%(count)d products queued for classification.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Accept the model's suggestion"), permissions=["change"])
    def accept_suggestion(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        known_labels = set(
            Category.objects.filter(classifier_label__isnull=False).values_list(
                "classifier_label", flat=True
            )
        )
        accepted = without = 0
        no_category: dict[str, int] = {}  # suggested class (its name) → products
        labels = selectors.served_labels()
        for product in queryset:
            if product.predicted_label in known_labels:
                services.product_accept_suggestion(product=product)
                accepted += 1
            elif product.predicted_label is None:
                without += 1
            else:
                label = label_for(labels, product.predicted_label)
                name = in_language(label.name_es, label.name_en)
                no_category[name] = no_category.get(name, 0) + 1
        if accepted:
            self.message_user(
                request,
                ngettext(
                    "%(count)d product filed under the model's suggestion.",
                    "%(count)d products filed under the model's suggestion.",
                    accepted,
                )
                % {"count": accepted},
                messages.SUCCESS,
            )
        if without:
            self.message_user(
                request,
                ngettext(
                    "%(count)d product has no suggestion yet; reclassify it or set its category.",
                    "%(count)d products have no suggestion yet; reclassify them or set their "
                    "category.",
                    without,
                )
                % {"count": without},
                messages.WARNING,
            )
        for name, count in sorted(no_category.items()):
            self.message_user(
                request,
                ngettext(
                    "%(count)d product is suggested as %(class)s, which has no category in the "
                    "store; set its category, or create a category for that class (Categories).",
                    "%(count)d products are suggested as %(class)s, which has no category in the "
                    "store; set their category, or create a category for that class (Categories).",
                    count,
                )
                % {"count": count, "class": name},
                messages.WARNING,
            )

    @admin.action(description=_("Set category…"), permissions=["change"])
    def set_category(
        self, request: HttpRequest, queryset: QuerySet[Product]
    ) -> HttpResponse | None:
        """An intermediate page asks for the category, then files every selected product."""
        if "apply" in request.POST:
            form = SetCategoryForm(request.POST)
            if form.is_valid():
                category = form.cleaned_data["category"]
                count = 0
                for product in queryset:
                    services.product_set_category(product=product, category=category)
                    count += 1
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d product filed under %(category)s.",
                        "%(count)d products filed under %(category)s.",
                        count,
                    )
                    % {"count": count, "category": category},
                    messages.SUCCESS,
                )
                return None  # back to the list
        else:
            form = SetCategoryForm()
        intro = _("A category set here is a person's choice: the model will not change it.")
        return self._action_form_page(
            request, queryset, form, "set_category", _("Set the category"), intro, _("Set category")
        )

    def _action_form_page(
        self,
        request: HttpRequest,
        queryset: QuerySet[Product],
        form: Form,
        action: str,
        title: str,
        intro: str,
        submit_label: str,
    ) -> TemplateResponse:
        """An action's intermediate page: what it does, the selected products, its form."""
        context = {
            **self._form_page_context(request, form, title),
            "intro": intro,
            "submit_label": submit_label,
            "products": queryset,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action_name": action,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/catalog/action_form.html", context)

    def _form_page_context(self, request: HttpRequest, form: Form, title: str) -> dict:
        """What a custom admin page with one form needs to look like the admin's own."""
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "form": form,
            "adminform": _admin_form(form),
        }

    @admin.action(description=_("Set price…"), permissions=["change"])
    def set_price(self, request: HttpRequest, queryset: QuerySet[Product]) -> HttpResponse | None:
        """An intermediate page asks for the price (and whether to publish), then prices every
        selected product: a bulk upload without a price left each to its own edit page."""
        if "apply" in request.POST:
            form = SetPriceForm(request.POST)
            if form.is_valid():
                queryset = _by_id(queryset)
                price = form.cleaned_data["price"]
                count = services.products_set_price(products=queryset, price=price)
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d product now costs %(price)s.",
                        "%(count)d products now cost %(price)s.",
                        count,
                    )
                    % {"count": count, "price": money(price)},
                    messages.SUCCESS,
                )
                if form.cleaned_data["publish"]:
                    self.publish(request, queryset)  # its messages say what stays hidden
                return None  # back to the list
        else:
            form = SetPriceForm()
        intro = _("The same price for every selected product.")
        return self._action_form_page(
            request, queryset, form, "set_price", _("Set the price"), intro, _("Set price")
        )

    @admin.action(description=_("Publish"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        """Publish, and say why a selected product is still not in the store: it already was,
        it has no price, it is still named after its camera file, or it waits for a category
        (a product shows once it is filed)."""
        queryset = _by_id(queryset)
        already = queryset.filter(is_published=True).count()
        count = services.products_set_published(products=queryset, published=True)
        self.message_user(
            request,
            ngettext("%(count)d product published.", "%(count)d products published.", count)
            % {"count": count},
            messages.SUCCESS if count else messages.INFO,
        )
        if already:
            self.message_user(
                request,
                ngettext(
                    "%(count)d product was already published.",
                    "%(count)d products were already published.",
                    already,
                )
                % {"count": already},
                messages.INFO,
            )
        unfiled = queryset.filter(is_published=True, category__isnull=True).count()
        if unfiled:
            self.message_user(
                request,
                ngettext(
                    "%(count)d published product has no category yet, so customers do not see "
                    "it: file it (Products to review).",
                    "%(count)d published products have no category yet, so customers do not "
                    "see them: file them (Products to review).",
                    unfiled,
                )
                % {"count": unfiled},
                messages.WARNING,
            )
        unpriced = queryset.filter(price__lte=0).count()
        if unpriced:
            self.message_user(
                request,
                ngettext(
                    "%(count)d product has no price and stays hidden; give it a price first.",
                    "%(count)d products have no price and stay hidden; give them a price first.",
                    unpriced,
                )
                % {"count": unpriced},
                messages.WARNING,
            )
        unnamed = [
            quoted(name)
            for name in queryset.filter(is_published=False, price__gt=0).values_list(
                "name", flat=True
            )
            if is_camera_file_name(name)
        ]
        if unnamed:
            self.message_user(
                request,
                ngettext(
                    "%(count)d product is still named after its camera file (%(names)s) and "
                    "stays hidden: give it a name first.",
                    "%(count)d products are still named after their camera files (%(names)s) "
                    "and stay hidden: give them names first.",
                    len(unnamed),
                )
                % {"count": len(unnamed), "names": _first_names(unnamed)},
                messages.WARNING,
            )

    @admin.action(description=_("Unpublish"), permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        count = services.products_set_published(products=queryset, published=False)
        self.message_user(
            request,
            ngettext("%(count)d product unpublished.", "%(count)d products unpublished.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Product)
class ProductAdmin(ProductAdminBase):
    # Eight columns fit a 1280 px screen: who filed a product rides with its category, and the
    # model's class with its confidence, as the review queue shows them.
    list_display = [
        "thumbnail_tag",
        "name",
        "price_text",
        "category_and_source",
        "status_badge",
        "suggestion",
        "in_store",
        "created",
    ]
    list_display_links = ["thumbnail_tag", "name"]
    list_filter = [
        "classification_status",
        "category",
        "category_source",
        FiledByTheModelFilter,
        "is_published",
        PricedFilter,
    ]
    date_hierarchy = "created_at"
    actions = [
        "reclassify",
        "accept_suggestion",
        "set_category",
        "set_price",
        "publish",
        "unpublish",
    ]

    def get_urls(self) -> list:
        urls = [
            path(
                "bulk-upload/",
                self.admin_site.admin_view(self.bulk_upload_view),
                name=f"{self.opts.app_label}_{self.opts.model_name}_bulk_upload",
            ),
        ]
        return urls + super().get_urls()  # before "<path:object_id>/", which would match it

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        extra_context = {
            "title": capfirst(self.opts.verbose_name_plural),  # not "Select product to change"
            **(extra_context or {}),
            "review_count": selectors.review_queue().count(),
        }
        return super().changelist_view(request, extra_context)

    def bulk_upload_view(self, request: HttpRequest) -> HttpResponse:
        """Many photos → many products; the bad ones are reported by name, the rest created."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = BulkUploadForm(request.POST, request.FILES)
            if form.is_valid():
                self._create_from_photos(request, form.cleaned_data)
                return HttpResponseRedirect(
                    reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
                )
        else:
            form = BulkUploadForm()
        context = {
            **self._form_page_context(request, form, _("Upload many photos")),
            "has_view_permission": self.has_view_permission(request),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/catalog/product/bulk_upload.html", context)

    def _create_from_photos(self, request: HttpRequest, data: dict) -> None:
        """Create each product without classifying, then queue them all in one call, so the
        worker classifies them in batches (one model call per batch, not per photo). A photo
        already in the store is skipped, as ``import_products`` skips it: a retried upload must
        not put every garment on sale twice."""
        created: list[Product] = []
        copies: list[str] = []  # "IMG_1.jpg (“Falda plisada”)": one message for them all
        publish = bool(data.get("is_published"))
        camera_named: list[str] = []  # “IMG 2041”: kept hidden, publish or not
        digests = {upload: upload_digest(upload) for upload in data["photos"]}
        owners = selectors.products_by_photo(digests.values())
        with transaction.atomic():
            for upload in data["photos"]:
                if (owner := owners.get(digests[upload])) is not None:
                    copies.append(f"{upload.name} ({quoted(owner)})")
                    continue
                camera = is_camera_file_name(upload.name)  # no customer sees "IMG 2041"
                try:
                    product = services.product_create(
                        name=product_name_from_filename(upload.name),
                        image=upload,
                        price=data.get("price"),  # None: created hidden until priced
                        is_published=publish and not camera,
                        classify=False,
                    )
                except ValidationError as exc:
                    self.message_user(
                        request,
                        _("Skipped %(file)s: %(reason)s")
                        % {"file": upload.name, "reason": " ".join(exc.messages)},
                        messages.WARNING,
                    )
                    continue
                created.append(product)
                if camera:
                    camera_named.append(quoted(product.name))
                # the same photo twice in one upload: the second names the first's product
                owners[digests[upload]] = _("%(name)s, from this upload") % {"name": product.name}
                self.log_addition(request, product, [{"added": {}}])
            services.products_queue_classification(product_ids=[p.pk for p in created])
        if copies:
            self.message_user(
                request,
                ngettext(
                    "Skipped %(count)d photo already in the store: %(files)s.",
                    "Skipped %(count)d photos already in the store: %(files)s.",
                    len(copies),
                )
                % {"count": len(copies), "files": _first_names(copies)},
                messages.WARNING,
            )
        if created:
            self.message_user(
                request,
                ngettext("Created %(count)d product.", "Created %(count)d products.", len(created))
                % {"count": len(created)}
                + " "
                + selectors.classification_summary([p.pk for p in created]),
                messages.SUCCESS,
            )
            if not data.get("price") and publish:  # none, or 0
                self.message_user(request, HIDDEN_WITHOUT_PRICE, messages.WARNING)
        if camera_named and publish:  # unasked, they were hidden anyway
            self.message_user(
                request,
                ngettext(
                    "%(count)d product was named after its camera file name (%(names)s) and "
                    "stays hidden: give it a name and publish it.",
                    "%(count)d products were named after their camera file names (%(names)s) "
                    "and stay hidden: give them names and publish them.",
                    len(camera_named),
                )
                % {"count": len(camera_named), "names": _first_names(camera_named)},
                messages.WARNING,
            )


@admin.register(ProductReview)
class ProductReviewAdmin(ProductAdminBase):
    """Products waiting for a person (low-confidence suggestions and failures), oldest first."""

    list_display = [
        "large_thumbnail",
        "name",
        "status_and_error",  # a failure's reason under its badge: one column fewer at 1280 px
        "suggestion",
        "top_three",
        "created",
    ]
    list_display_links = ["large_thumbnail", "name"]
    list_filter = [ReviewReasonFilter]
    ordering = ["created_at", "id"]
    actions = ["accept_suggestion", "set_category", "reclassify"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProductReview]:
        # The selector says which products need review; the proxy keeps the admin's URLs,
        # permissions and history on the review queue.
        queue = selectors.review_queue().values("pk")
        return _with_suggestion_names(
            ProductReview.objects.filter(pk__in=queue).select_related("category")
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # products are added in the product list; they come here by themselves

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        # "Products to review", not Django's "Select product to review to change"
        title = capfirst(self.opts.verbose_name_plural)
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    @admin.display(description=_("classification status"), ordering="classification_status")
    def status_and_error(self, product: Product) -> str:
        if not product.classification_error:
            return self.status_badge(product)
        return format_html(
            '{}<div style="max-width:24em;margin-top:4px">{}</div>',
            self.status_badge(product),
            product.classification_error,
        )

    @admin.display(description=_("photo"))
    def large_thumbnail(self, product: Product) -> str:
        photo = product.thumbnail or product.image
        if not photo:
            return "—"
        return format_html(
            '<img src="{}" alt="" width="120" height="120" loading="lazy" '
            'style="object-fit:contain;border-radius:4px;background:#fff">',
            photo.url,
        )


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    """The Model page (this model's list): what is served, what the store could learn, and the
    retrainings. Runs are made by the Retrain button and read-only; promotion is a command."""

    readonly_fields = [
        "status",
        "progress_bar",
        "message",
        "examples",
        "run_dir",
        "promotion",
        "log",
        "metrics_json",
        "created_by",
        "created_at",
        "updated_at",
        "finished_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the Retrain button makes them

    def has_change_permission(self, request: HttpRequest, obj: TrainingRun | None = None) -> bool:
        return False  # the task writes them; a person reads them

    def get_urls(self) -> list:
        urls = [
            path(
                "retrain/",
                self.admin_site.admin_view(require_POST(self.retrain_view)),
                name=f"{self.opts.app_label}_{self.opts.model_name}_retrain",
            ),
        ]
        return urls + super().get_urls()

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        """The Model page, in place of a plain list of runs."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        training.stalled_runs_failed()  # "running" for ever, else, when a worker was lost
        runs = list(TrainingRun.objects.select_related("created_by")[:10])
        for run in runs:
            run.summary = _run_summary(run.metrics)
            run.commands = training.promotion_commands(run) if run.run_dir else []
        categories = selectors.labelled_counts()
        examples = sum(category.labelled for category in categories)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Model and retraining"),
            "opts": self.opts,
            "model": _served_model(),
            "categories": categories,
            "min_examples": settings.PERCHA["NEW_CLASS_MIN_EXAMPLES"],
            "runs": runs,
            "refresh": any(run.active for run in runs),
            "in_process": training.runs_in_process(),
            "can_retrain": request.user.has_perm("catalog.start_training"),
            "examples": examples,
            "too_few_examples": training.too_few_examples(examples),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/catalog/trainingrun/model.html", context)

    def retrain_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("catalog.start_training"):
            raise PermissionDenied
        changelist = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        # the page says so too; a form sent from a page older than the last change lands here
        if too_few := training.too_few_examples(selectors.labelled_products().count()):
            self.message_user(request, too_few, messages.ERROR)
            return HttpResponseRedirect(changelist)
        run = training.training_run_start(created_by=request.user)
        if training.runs_in_process():
            message = _(
                "Retraining #%(id)d started on %(count)d labelled photos, in the store's own "
                "process (no task broker is set up); this page follows it."
            )
        else:
            message = _(
                "Retraining #%(id)d queued on %(count)d labelled photos. It runs on a worker of "
                "the training queue; this page follows it."
            )
        self.message_user(
            request, message % {"id": run.pk, "count": run.examples}, messages.SUCCESS
        )
        return HttpResponseRedirect(changelist)

    @admin.display(description=_("progress"))
    def progress_bar(self, run: TrainingRun) -> str:
        return format_html('<progress value="{0}" max="100">{0}%</progress> {0}%', run.progress)

    @admin.display(description=_("to promote it"))
    def promotion(self, run: TrainingRun) -> str:
        if not run.run_dir:
            return "—"
        return format_html_join(
            "", "<pre>{}</pre>", ((c,) for c in training.promotion_commands(run))
        )

    @admin.display(description=_("last lines of the output"))
    def log(self, run: TrainingRun) -> str:
        return format_html('<pre style="white-space:pre-wrap">{}</pre>', run.log_tail or "—")

    @admin.display(description=_("metrics"))
    def metrics_json(self, run: TrainingRun) -> str:
        if not run.metrics:
            return "—"
        shown = {k: v for k, v in run.metrics.items() if k != "confusion_matrix"}
        return format_html("<pre>{}</pre>", json.dumps(shown, indent=2, ensure_ascii=False))


def _model_version(described: str) -> str:
    """ "<path> (<version>)", as a card names its base model, → the version: the path is the
    training machine's, meaningless to the shop."""
    match = re.search(r"\(([^()]+)\)$", described)
    return match.group(1) if match else Path(described).parent.name if described else ""


def _served_model() -> dict:
    """What the Model page says of the served model, from its card (no model is loaded), and
    the category each class files into."""
    model_path = Path(settings.PERCHA["MODEL_PATH"])
    card = predictor.read_model_card(model_path)
    metrics = card.get("metrics", {})
    held = metrics.get("held_out_photos") or {}
    held = held.get("new", held)  # a run's metrics hold the base's figures beside the new
    configured = settings.PERCHA["CONFIDENCE_THRESHOLD"]
    labels = selectors.served_labels()
    # where a confident answer goes: Calzado for the footwear group, as the worker files it
    filing = selectors.filing_categories(label.index for label in labels)
    classes = [
        {
            "index": label.index,
            "name": label.name,
            "local_name": in_language(label.name_es, label.name_en),
            "category": filing.get(label.index),
            "slug": label.slug,
        }
        for label in labels
    ]
    return {
        "path": model_path,
        "card_found": bool(card),
        "version": card.get("version", ""),
        # a date, shown in the admin's language (the card's is ISO 8601)
        "exported_at": parse_datetime(card.get("exported_at", "")),
        "code_version": card.get("code_version", ""),
        "base_model": _model_version(card.get("base_model", "")),
        "test_accuracy": metrics.get("test_accuracy"),
        "held_out": held,
        "temperature": predictor.card_temperature(card),
        # the threshold in use: an operator's setting, else the card's calibrated one
        "threshold": configured if configured is not None else predictor.card_threshold(card),
        "threshold_from_setting": configured is not None,
        "classes": classes,
        # a group (footwear) whose categories share no parent: filed by a guessed class
        "scattered_groups": [
            ", ".join(entry["local_name"] for entry in classes if entry["index"] in group)
            for group in predictor.card_groups(card)
            if len({filing.get(index) for index in group}) > 1
        ],
    }


def _run_summary(metrics: dict | None) -> str:
    """A finished run's figures beside its base model's, in one line."""
    if not metrics:
        return ""
    parts = []
    if (test := metrics.get("test_accuracy")) is not None:
        base = metrics.get("base_test_accuracy")
        parts.append(
            _("Fashion-MNIST test %(new)s (base %(base)s)")
            % {"new": _percent(test, 1), "base": _percent(base, 1)}
        )
    held = metrics.get("held_out_photos") or {}
    if "new" in held:
        parts.append(
            _("held-out photos %(new)s (base %(base)s)")
            % {
                "new": _percent(held["new"].get("accuracy"), 1),
                "base": _percent((held.get("base") or {}).get("accuracy"), 1),
            }
        )
    if classes := metrics.get("classes"):
        parts.append(_("%(count)d classes") % {"count": len(classes)})
    return "; ".join(parts)


def _probabilities_html(probabilities: list[float] | None, limit: int | None) -> str:
    """The most likely classes, most likely first, as "name 45 %" lines."""
    if not probabilities:
        return "—"
    ranked = sorted(enumerate(probabilities), key=lambda item: item[1], reverse=True)[:limit]
    return format_html_join(
        "",
        '<div class="percha-prob" style="white-space:nowrap">{} '
        '<span style="color:var(--body-quiet-color)">{}</span></div>',
        ((selectors.class_name(label), _percent(p)) for label, p in ranked),
    )


def _admin_form(form: Form) -> helpers.AdminForm:
    """A plain form laid out like the admin's own (labels, help, errors) on a custom page."""
    return helpers.AdminForm(form, [(None, {"fields": list(form.fields)})], {})


def _adopt(target: Product, source: Product) -> None:
    """Make the admin's unsaved form instance the product the service created.

    The admin keeps using the instance it built from the form (for the history entry and the
    redirect to the new product), so it must carry the saved row's id and values.
    """
    for field in Product._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False
    target._state.db = source._state.db
