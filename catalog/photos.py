"""Uploaded photos: validation with a reason, safe file names, the thumbnail made once."""

from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.static import serve
from PIL import Image, ImageOps

import classifier
from classifier.preprocess import MESSAGES, UnreadableImage

THUMBNAIL_SIDE = 480
DISPLAY_SIDE = 1200  # the product page: sharp on a phone's screen, a fraction of the original
# libwebp's effort, 0-6. Measured on 40 real photos at 480 px, quality 80 (AMD EPYC, one core):
# its default 4 takes 23 ms and 20.5 kB, 2 takes 10.8 ms and 21.1 kB. Half an upload's and an
# import's encoding time for 3% more bytes; 0 and 1 save less time and cost 15-21% more bytes.
THUMBNAIL_WEBP_METHOD = 2
EXIF_ORIENTATION = 0x0112  # 5-8: the pixels are stored a quarter turn from upright
EXTENSIONS = {
    "JPEG": "jpg",
    "PNG": "png",
    "WEBP": "webp",
    "GIF": "gif",
    "BMP": "bmp",
    "TIFF": "tif",
}
# What the media view serves, and as what: the extension is ours (see validated_photo), so the
# content type never comes from the client, and nothing else under MEDIA_ROOT is served.
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "tif": "image/tiff",
}
MEDIA_HEADERS = {
    "X-Content-Type-Options": "nosniff",  # browsers must not guess HTML or script from bytes
    "Content-Security-Policy": "default-src 'none'; sandbox",  # opened directly: inert
    "Content-Disposition": "inline",
    "Cache-Control": "public, max-age=31536000, immutable",  # names are random, never reused
}


def photo_error_message(exc: UnreadableImage) -> str:
    """The reason a photo was refused, in the language of the request."""
    template = MESSAGES.get(exc.code)
    if template is None:
        return str(exc)
    params = dict(exc.params)
    if "max_pixels" in params:  # 40 000 000 in Spanish, 40,000,000 in English
        params["max_pixels"] = number_format(params["max_pixels"], force_grouping=True)
    return _(template) % params


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
    data = upload.read(limit + 1)  # a size the client did not declare is not trusted either
    upload.seek(0)
    if len(data) > limit:
        raise ValidationError(
            _("The file is over %(limit).1f MB, the limit. Upload a smaller photo.")
            % {"limit": limit / 1e6},
            code="too_large",
        )
    return data


def validated_photo(upload: UploadedFile) -> ContentFile:
    """A checked copy of the upload, renamed ``<uuid>.<ext>`` from its real format.

    The stored name never comes from the client, so no upload can be served as HTML or script.
    """
    data = read_upload(upload)
    try:
        image_format = classifier.check_photo(data, settings.PERCHA["MAX_IMAGE_PIXELS"])
    except UnreadableImage as exc:
        raise ValidationError(photo_error_message(exc), code=exc.code) from None
    return ContentFile(data, name=f"{uuid.uuid4().hex}.{EXTENSIONS[image_format]}")


def photo_digest(data: bytes) -> str:
    """The photo's identity, whatever its name: the same file imported twice has one digest."""
    return hashlib.sha256(data).hexdigest()


def upload_digest(upload: UploadedFile) -> str:
    """An upload's ``photo_digest``, read before it is saved (is it a copy?), and left at its
    start for the save. Read only up to the size limit: a larger file is refused by the save."""
    upload.seek(0)
    data = upload.read(settings.PERCHA["MAX_UPLOAD_BYTES"] + 1)
    upload.seek(0)
    return photo_digest(data)


def make_thumbnail(data: bytes) -> ContentFile:
    """A WebP of at most THUMBNAIL_SIDE pixels a side, upright, for the storefront and admin."""
    return _webp(data, THUMBNAIL_SIDE)


def make_display(data: bytes) -> ContentFile | None:
    """The product page's photo: a WebP of at most DISPLAY_SIDE pixels a side, upright, for a
    photo larger than that (a 12 MP phone photo weighs 2-5 MB; a customer on a phone would
    download all of it). None for a photo already that small: the page shows it as it is."""
    with Image.open(io.BytesIO(data)) as image:
        if max(image.size) <= DISPLAY_SIDE:
            return None
    return _webp(data, DISPLAY_SIDE)


def upright_size(data: bytes) -> tuple[int, int]:
    """A photo's width and height as a browser shows it, its EXIF rotation applied (a phone
    stores a portrait photo landscape and says so in EXIF): what the product page's
    ``<img width height>`` need to keep its place while it loads. Reads only the header."""
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        turned = image.getexif().get(EXIF_ORIENTATION, 1) in (5, 6, 7, 8)
    return (height, width) if turned else (width, height)


def _webp(data: bytes, side: int) -> ContentFile:
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (side, side))  # a JPEG decoded at a reduced scale: a fraction of the work
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB")
    image.thumbnail((side, side))
    out = io.BytesIO()
    image.save(out, "WEBP", quality=80, method=THUMBNAIL_WEBP_METHOD)
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.webp")


def serve_media(request: HttpRequest, path: str) -> HttpResponse:
    """Serve a stored photo or thumbnail from MEDIA_ROOT, as an image and nothing else.

    Only names with one of our image extensions are served, with the content type that
    extension stands for and headers that keep a browser from running anything in it.
    """
    extension = PurePosixPath(path).suffix.lower().lstrip(".")
    content_type = CONTENT_TYPES.get(extension)
    if content_type is None:
        raise Http404("not a photo")
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Content-Type"] = content_type
    for header, value in MEDIA_HEADERS.items():
        response[header] = value
    response.language_free = True  # shop.middleware: one copy for every language
    return response
