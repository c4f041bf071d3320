"""A product photo → the 28x28 input the model was trained on, the way Fashion-MNIST was made.

Fashion-MNIST's pipeline: trim the edges that match the corner colour (within 5%), fit the
longest side to 28, centre on a 28x28 canvas, negate so the garment is bright on black, 8-bit
grayscale. This module does the same to a shop's photo, after the steps a real upload needs:
decoding at reduced size, EXIF orientation, transparency flattened on white, any mode or depth.
A shop's background is a bed, a floor or a person rather than plain white, so "trim the corner
colour" becomes a garment mask (``garment_mask``: GrabCut seeded from the border, skin taken
out), and "negate" is followed by lifting a light garment, which Fashion-MNIST left out, so that
every garment comes out bright on black. The same function converts the photos the model is
fine-tuned on (``ml_training.photos``), so training and serving see identical inputs.

No Django here: bytes or a path in, arrays out.
"""

from __future__ import annotations

import io
import logging
import os
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps

from classifier.garment_mask import garment_mask

logger = logging.getLogger(__name__)

SIDE = 28
WORKING_SIDE = 256  # JPEGs are decoded at the smallest scale (1/2, 1/4, 1/8) at least this big
MASK_SIDE = 96  # longest side of the copy the mask and the crop work on: 28 pixels need little
BRIGHT_LEVEL = 0.6  # a garment dimmer than this once negated (a light one) is lifted to it
MIN_CONTRAST = 0.04  # ... by at most BRIGHT_LEVEL / MIN_CONTRAST times (noise grows with it)
GARMENT_FLOOR = 0.1  # the dimmest a garment pixel gets, so a white garment keeps its shape
MIN_SIDE = 8  # smaller than this is not a product photo
DEFAULT_MAX_PIXELS = 40_000_000  # 40 MP: larger than any phone photo, far below a bomb
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")


def english_params(params: dict) -> dict:
    """A message's parameters as the English text writes them: pixel counts grouped (40,000,000);
    a caller with translations groups them its own way (40 000 000 in Spanish)."""
    return {k: f"{v:,}" if k == "max_pixels" else v for k, v in params.items()}


class UnreadableImage(ValueError):
    """The bytes are not a photo we can use; the message says why and what to do.

    ``code`` and ``params`` name the reason, so that a caller with translations (the store) can
    say the same thing in the user's language: ``MESSAGES[code] % params`` is the message.
    """

    def __init__(self, code: str, **params: object) -> None:
        if code not in MESSAGES:  # a message of its own (or an unpickled one): no translation
            code, params, message = "other", {}, code
        else:
            message = MESSAGES[code] % english_params(params)
        self.code = code
        self.params = params
        super().__init__(message)


def gettext_noop(message: str) -> str:
    """Marks a message for ``makemessages`` without importing Django; the store translates it."""
    return message


# The English messages, one per reason (catalog.photos shows them in the user's language).
MESSAGES = {
    "empty": gettext_noop("the file is empty; upload a JPEG, PNG or WebP photo"),
    "not_image": gettext_noop(
        "the file is not an image we can read; upload a JPEG, PNG or WebP photo"
    ),
    "markup": gettext_noop(
        "the file is SVG or HTML text, not an image we can read; upload a JPEG, PNG or WebP photo"
    ),
    "heic": gettext_noop(
        "HEIC/HEIF photos (the iPhone's default) are not supported; export the photo as JPEG, "
        "or choose Settings > Camera > Formats > Most Compatible on the iPhone"
    ),
    "format": gettext_noop("%(format)s images are not supported; upload a JPEG, PNG or WebP photo"),
    "bomb": gettext_noop(
        "the image has too many pixels (more than %(max_pixels)s); upload a smaller photo"
    ),
    "too_many_pixels": gettext_noop(
        "the image is %(width)dx%(height)d pixels, more than the %(max_pixels)s allowed; "
        "upload a smaller photo"
    ),
    "too_small": gettext_noop(
        "the image is only %(width)dx%(height)d pixels; upload a photo at least %(min)dx%(min)d"
    ),
    "damaged": gettext_noop("the image is damaged or truncated; export it again and re-upload"),
}
# ISO base media files (HEIC, HEIF, AVIF) start with an "ftyp" box naming these brands.
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


@dataclass(frozen=True)
class ModelInput:
    """What the model sees (28x28 float32, garment bright on black) and the garment mask."""

    image: np.ndarray  # (28, 28) float32 in [0, 1]
    mask: np.ndarray  # (h, w) bool on the small copy (MASK_SIDE): True where the garment is
    gain: float  # how much the negated garment was brightened (1 = a dark garment, as is)


def _sniff(data: bytes) -> None:
    """Name what Pillow would only call "not an image": HEIC from a phone, SVG or HTML text."""
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        raise UnreadableImage("heic")
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<"):  # no image format starts with "<"; SVG, HTML and XML do
        raise UnreadableImage("markup")


def open_photo(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decode and check a photo without trusting its name or declared type.

    Refuses empty files, non-images (text, SVG, HTML, HEIC), formats other than
    ``ALLOWED_FORMATS``, images with more than ``max_pixels`` pixels (decompression bombs) before
    decoding them, truncated or corrupt files, and images smaller than ``MIN_SIDE``. Whatever a
    decoder raises on hostile bytes comes out as UnreadableImage, never as another exception.
    """
    if not data:
        raise UnreadableImage("empty")
    _sniff(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnreadableImage("bomb", max_pixels=max_pixels) from None
    except Exception:  # UnidentifiedImageError, or a plugin tripping over hostile bytes
        raise UnreadableImage("not_image") from None
    if image.format not in ALLOWED_FORMATS:
        raise UnreadableImage("format", format=image.format or "?")
    width, height = image.size
    if width * height > max_pixels:
        raise UnreadableImage("too_many_pixels", width=width, height=height, max_pixels=max_pixels)
    if min(width, height) < MIN_SIDE:
        raise UnreadableImage("too_small", width=width, height=height, min=MIN_SIDE)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if image.format == "JPEG":
                image.draft("RGB", (WORKING_SIDE, WORKING_SIDE))  # decode at 1/2, 1/4 or 1/8
            image.load()
            image.getexif()  # a corrupt EXIF block fails here, not when the photo is turned
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnreadableImage("bomb", max_pixels=max_pixels) from None
    except Exception as exc:  # OSError, SyntaxError, EOFError, struct.error, … from a decoder
        # the decoder's words are English and mean nothing to a shop: logged, not shown
        logger.info("photo refused as damaged: %s", str(exc) or type(exc).__name__)
        raise UnreadableImage("damaged") from None
    return image


def to_rgb(image: Image.Image) -> np.ndarray:
    """Upright, flattened on white, uint8 RGB, from any mode or bit depth."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        raw = np.asarray(image, dtype=np.float64)
        top = 1.0 if image.mode == "F" else 65535.0 if raw.max() > 255 else 255.0
        gray = np.clip(raw / top * 255, 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _small_copy(rgb: np.ndarray, side: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    scale = side / max(height, width)
    if scale >= 1:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _fit_and_centre(garment: np.ndarray) -> np.ndarray:
    """Longest side to 28, then centred by its mass on a black 28x28 canvas."""
    height, width = garment.shape
    scale = SIDE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = np.clip(cv2.resize(garment, size, interpolation=interpolation), 0, 1)
    canvas = np.zeros((SIDE, SIDE), dtype=np.float32)
    total = float(small.sum())
    if total > 0:  # the centre of mass to the canvas centre, without cutting the garment off
        rows, cols = np.indices(small.shape)
        top = round(SIDE / 2 - float((rows * small).sum()) / total - 0.5)
        left = round(SIDE / 2 - float((cols * small).sum()) / total - 0.5)
    else:
        top, left = (SIDE - size[1]) // 2, (SIDE - size[0]) // 2
    top = min(max(top, 0), SIDE - size[1])
    left = min(max(left, 0), SIDE - size[0])
    canvas[top : top + size[1], left : left + size[0]] = small
    return canvas


def _brightness(gray: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, float]:
    """Negate (a dark garment becomes bright, as in Fashion-MNIST), then lift dim garments.

    A white garment negated is nearly black; Fashion-MNIST left white garments out, so the
    model never saw one. A garment whose brighter pixels (90th percentile, away from its edge)
    stay below ``BRIGHT_LEVEL`` is scaled up to it; a dark garment is left as Fashion-MNIST
    would have it. A floor inside the mask keeps a white garment's silhouette whole.
    """
    negative = 1.0 - gray
    inner = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    core = negative[inner] if inner.any() else negative[mask]
    level = float(np.percentile(core, 90)) if core.size else 1.0
    gain = max(1.0, BRIGHT_LEVEL / max(level, MIN_CONTRAST))
    bright = np.clip(negative * gain, 0, 1)
    bright = np.where(mask, np.maximum(bright, GARMENT_FLOOR), 0.0).astype(np.float32)
    return bright, gain


def rgb_to_model_input(rgb: np.ndarray, remove_skin: bool = True) -> ModelInput:
    """Mask, crop, brightness, fit and centre: Fashion-MNIST's recipe for a real photo."""
    small = _small_copy(rgb, MASK_SIDE)
    mask = garment_mask(small, remove_skin=remove_skin)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    crop = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    bright, gain = _brightness(gray[crop], mask[crop])
    image = _fit_and_centre(bright).astype(np.float32)
    return ModelInput(image=image, mask=mask, gain=gain)


def read_bytes(photo: bytes | str | os.PathLike) -> bytes:
    if isinstance(photo, (bytes, bytearray, memoryview)):
        return bytes(photo)
    with open(photo, "rb") as fh:
        return fh.read()


def to_model_input(
    photo: bytes | str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS
) -> ModelInput:
    """Photo bytes (or a path) → the model's 28x28 input; raises UnreadableImage with a reason."""
    image = open_photo(read_bytes(photo), max_pixels=max_pixels)
    return rgb_to_model_input(to_rgb(image))
