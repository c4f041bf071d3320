"""Admin forms: they collect and check input; saving is left to ``catalog.services``.

The photo is checked here with the same function the service uses, so a bad file comes back as
an error on the photo field (with the reason) instead of a server error after the form passed.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.templatetags.static import static
from django.utils.formats import get_format, number_format
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.classifier_page import page_config
from catalog.models import Category, Product
from catalog.names import CAMERA_FILE_NAMES
from catalog.photos import validated_photo

PHOTO_ACCEPT = "image/jpeg,image/png,image/webp,image/gif"


class PhotoWithPreviewInput(forms.ClearableFileInput):
    """The photo field, with the browser's guess at the category as soon as a photo is chosen.

    The guess comes from the same model and conversion in the browser (static/js/classifier/);
    the worker still decides. The runtimes (~9 MB) load only once a photo is chosen.
    """

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__({"accept": PHOTO_ACCEPT, **(attrs or {})})

    @property
    def media(self) -> forms.Media:
        return forms.Media(
            css={"all": ["css/admin_preview.css"]},
            js=[forms.Script("js/classifier/admin_preview.js", type="module")],
        )

    def render(self, name, value, attrs=None, renderer=None) -> str:
        field = super().render(name, value, attrs, renderer)
        config = {
            **page_config(),
            "vendor": [
                static("vendor/tf.min.js"),
                static("vendor/tf-backend-wasm.min.js"),
                static("vendor/opencv.js"),
            ],
            "guess": gettext("The model will most likely file it under %(name)s (%(percent)s)."),
            "guessUnsure": gettext(
                "The model is not sure (%(name)s, %(percent)s): the product will wait for review."
            ),
            "guessNoCategory": gettext(
                "The model sees %(name)s (%(percent)s), but the store has no category for it: "
                "the product will wait for review. Choose a category below, or create one."
            ),
            # an empty name is filled from the photo's file name, as a bulk upload names it,
            # unless a camera named the file (catalog.names: the same expressions)
            "cameraFileNames": [pattern.pattern for pattern in CAMERA_FILE_NAMES],
        }
        return format_html(
            '{}<div class="photo-preview" data-photo-preview data-for="{}" data-config="{}" '
            'aria-live="polite" hidden><canvas width="28" height="28"></canvas>'
            "<p></p></div>",
            field,
            (attrs or {}).get("id", f"id_{name}"),
            json.dumps(config),
        )


class CategoryChoiceField(forms.ModelChoiceField):
    """Categories named with their parent ("Calzado › Sandalias"): a flat list hid the tree."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs["queryset"] = Category.objects.select_related("parent")
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Category) -> str:
        return f"{obj.parent.name} › {obj.name}" if obj.parent_id else obj.name


def price_pattern() -> str:
    """What the localized DecimalField accepts in the active language: up to 8 digits, then the
    language's decimal separator (or a point) and at most two decimals. The server still
    checks everything; this only keeps the browser from refusing less or more than it."""
    separators = re.escape("".join(sorted({".", get_format("DECIMAL_SEPARATOR")})))
    return rf"\s*[0-9]{{1,8}}([{separators}][0-9]{{0,2}})?\s*"


def price_hint() -> str:
    return gettext("A price in figures, such as %(example)s, with at most two decimals.") % {
        "example": number_format(Decimal("12.50"), decimal_pos=2)
    }


class PriceInput(forms.TextInput):
    """A price in the admin's language ("10,50" in Spanish), typed as text: a browser's number
    input drops a decimal comma it does not expect, and "10,50" became 1050 €. ``inputmode``
    brings a phone's keyboard with digits and the separator.

    The pattern lets the browser refuse "10 €" or "diez" before sending: a form the server
    refuses comes back without the photos chosen in it (no page may fill a file input), and a
    bulk upload's dozens had to be chosen again. The admin's forms say ``novalidate``, so
    ``js/form_checks.js`` asks for the check itself."""

    class Media:
        js = ["js/form_checks.js"]

    def __init__(self) -> None:
        super().__init__(
            attrs={
                "inputmode": "decimal",
                "autocomplete": "off",
                # both in the language of the page
                "pattern": lazy(price_pattern, str)(),
                "title": lazy(price_hint, str)(),
            }
        )


PRICE_INPUT = PriceInput()


class ProductAddForm(forms.ModelForm):
    """Adding a product: a photo plus what only a person knows (name, price, …)."""

    image = forms.FileField(
        label=capfirst(_("photo")),
        allow_empty_file=True,  # refused by clean_image, with the same words as everywhere else
        widget=PhotoWithPreviewInput(),
        help_text=_("A JPEG, PNG or WebP photo of one garment; the model files it by category."),
    )

    class Meta:
        model = Product
        fields = ["image", "name", "price", "description", "category", "is_published"]
        localized_fields = ["price"]
        widgets = {"price": PRICE_INPUT}
        field_classes = {"category": CategoryChoiceField}
        help_texts = {
            "category": _("Leave empty to let the model choose; a category set here is kept."),
        }

    def clean_image(self) -> UploadedFile:
        """Refuse a file the service would refuse, with the service's own reason."""
        upload = self.cleaned_data["image"]
        validated_photo(upload)  # raises ValidationError("the file is not an image …")
        return upload

    def clean(self) -> dict:
        """A price of 0 with "published" ticked saves the product hidden, as a bulk upload does,
        rather than refusing the form: a refused form comes back without its photo. The admin
        says so (``hidden_without_price``)."""
        data = super().clean()
        self.hidden_without_price = data.get("price") == 0 and bool(data.get("is_published"))
        if self.hidden_without_price:
            data["is_published"] = False
        return data


class ProductChangeForm(forms.ModelForm):
    """Editing a product: the photo and the model's outputs are shown, not edited."""

    class Meta:
        model = Product
        fields = ["name", "price", "description", "category", "is_published"]
        localized_fields = ["price"]
        widgets = {"price": PRICE_INPUT}
        field_classes = {"category": CategoryChoiceField}
        help_texts = {
            "category": _(
                "A category chosen here is a person's choice: the model never changes it."
            ),
        }


class MultipleFileInput(forms.ClearableFileInput):
    """``<input type="file" multiple>`` (Django 5.2 needs the flag set explicitly) that says how
    many files the server takes: more are refused before Django's form sees them, with a bare
    "Bad Request", so ``js/form_checks.js`` stops them in the browser, photos kept."""

    allow_multiple_selected = True

    class Media:
        js = ["js/form_checks.js"]

    def get_context(self, name: str, value, attrs: dict | None) -> dict:
        attrs = {
            **(attrs or {}),
            "data-max-files": settings.DATA_UPLOAD_MAX_NUMBER_FILES,
            "data-max-files-message": gettext(
                "Choose at most %(count)d photos at a time; upload the rest afterwards."
            ),
        }
        return super().get_context(name, value, attrs)


class MultipleFileField(forms.FileField):
    """A list of uploaded files. Each file is checked later, one by one, so one bad photo does
    not refuse the whole batch."""

    widget = MultipleFileInput

    def clean(self, data, initial=None) -> list[UploadedFile]:
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if not files and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        return files


class BulkUploadForm(forms.Form):
    """Many photos at once; each becomes a product named after its file."""

    photos = MultipleFileField(
        label=capfirst(_("photos")),
        widget=MultipleFileInput(attrs={"accept": PHOTO_ACCEPT}),
    )
    price = forms.DecimalField(
        label=capfirst(_("price")),
        required=False,
        min_value=Decimal("0"),
        max_digits=10,
        decimal_places=2,
        localize=True,
        widget=PRICE_INPUT,
        help_text=_(
            "The same price for every product (“Set price…” in the product list changes it for "
            "a selection afterwards). Without a price they are created hidden from the store."
        ),
    )
    is_published = forms.BooleanField(
        label=capfirst(_("published")),
        required=False,
        initial=True,
        help_text=_("Shown in the store as soon as the model files them."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Built per form, so it is translated into the language of the request.
        self.fields["photos"].help_text = _(
            "Select up to %(count)d photos. Each becomes a product named after its file "
            "(camiseta_roja.jpg → “Camiseta roja”) and is filed by the model."
        ) % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FILES}


class SetCategoryForm(forms.Form):
    """The intermediate page of the "Set category" action."""

    # no category chosen in advance: "Camisetas y tops", preselected, was one click from filing
    # a whole selection there by mistake
    category = CategoryChoiceField(label=capfirst(_("category")))


class SetPriceForm(forms.Form):
    """The intermediate page of the "Set price" action: photos uploaded or imported without a
    price are created hidden, and were priced one edit page at a time."""

    price = forms.DecimalField(
        label=capfirst(_("price")),
        min_value=Decimal("0.01"),
        max_digits=10,
        decimal_places=2,
        localize=True,
        widget=PRICE_INPUT,
    )
    publish = forms.BooleanField(
        label=_("Publish them too"),
        required=False,
        help_text=_(
            "Those without a category are shown once they are filed. Rename those named after "
            "their camera file (IMG 2041) first."
        ),
    )
