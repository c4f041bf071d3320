"""Uploaded photos: validation with a reason, safe file names, the thumbnail made once."""

from __future__ import annotations

import io
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

import classifier

THUMBNAIL_SIDE = 480
EXTENSIONS = {
    "JPEG": "jpg",
    "PNG": "png",
    "WEBP": "webp",
    "GIF": "gif",
    "BMP": "bmp",
    "TIFF": "tif",
}


def read_upload(upload: UploadedFile) -> bytes:
    """The upload's bytes, refusing files over the size limit before reading them whole."""
    limit = settings.PERCHA["MAX_UPLOAD_BYTES"]
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            _("The file is %(size).1f MB; the limit is %(limit).1f MB. Upload a smaller photo.")
            % {"size": upload.size / 1e6, "limit": limit / 1e6},
            code="too_large",
        )
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def validated_photo(upload: UploadedFile) -> ContentFile:
    """A checked copy of the upload, renamed ``<uuid>.<ext>`` from its real format.

    The stored name never comes from the client, so no upload can be served as HTML or script.
    """
    data = read_upload(upload)
    try:
        image_format = classifier.check_photo(data, settings.PERCHA["MAX_IMAGE_PIXELS"])
    except classifier.UnreadableImage as exc:
        raise ValidationError(str(exc), code="invalid_image") from None
    return ContentFile(data, name=f"{uuid.uuid4().hex}.{EXTENSIONS[image_format]}")


def make_thumbnail(data: bytes) -> ContentFile:
    """A WebP of at most THUMBNAIL_SIDE pixels a side, upright, for the storefront and admin."""
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB")
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    out = io.BytesIO()
    image.save(out, "WEBP", quality=80)
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.webp")
