"""A product photo → the 28x28 input the model was trained on, the way Fashion-MNIST was made.

Fashion-MNIST's pipeline: trim the edges that match the corner colour (within 5%), fit the
longest side to 28, centre on a 28x28 canvas, negate so the garment is bright on black, 8-bit
grayscale. This module does the same to a shop's photo, after the steps a real upload needs:
decoding at reduced size, EXIF orientation, transparency flattened on white, any mode or depth.

No Django here: bytes or a path in, arrays out.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

SIDE = 28
WORKING_SIDE = 256  # longest side of the copy the trimming works on
TRIM_TOLERANCE = 0.05  # the paper's "within 5%" of the corner colour
MIN_SIDE = 8  # smaller than this is not a product photo
DEFAULT_MAX_PIXELS = 40_000_000  # 40 MP: larger than any phone photo, far below a bomb
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")


class UnreadableImage(ValueError):
    """The bytes are not a photo we can use; the message says why and what to do."""


@dataclass(frozen=True)
class ModelInput:
    """What the model sees (28x28 float32, garment bright on black) and the garment mask."""

    image: np.ndarray  # (28, 28) float32 in [0, 1]
    mask: np.ndarray  # (h, w) bool on the working copy: True where the garment is
    inverted: bool  # True when the photo had a light background and was negated


def open_photo(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decode and check a photo without trusting its name or declared type.

    Refuses empty files, non-images (text, SVG, HTML), formats other than ``ALLOWED_FORMATS``,
    images with more than ``max_pixels`` pixels (decompression bombs) before decoding them,
    truncated or corrupt files, and images smaller than ``MIN_SIDE``.
    """
    if not data:
        raise UnreadableImage("the file is empty; upload a JPEG, PNG or WebP photo")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise UnreadableImage(
            "the file is not an image we can read; upload a JPEG, PNG or WebP photo"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnreadableImage(
            f"the image has too many pixels (more than {max_pixels:,}); upload a smaller photo"
        ) from None
    if image.format not in ALLOWED_FORMATS:
        raise UnreadableImage(
            f"{image.format} images are not supported; upload a JPEG, PNG or WebP photo"
        )
    width, height = image.size
    if width * height > max_pixels:
        raise UnreadableImage(
            f"the image is {width}x{height} pixels, more than the {max_pixels:,} allowed; "
            "upload a smaller photo"
        )
    if min(width, height) < MIN_SIDE:
        raise UnreadableImage(
            f"the image is only {width}x{height} pixels; upload a photo at least "
            f"{MIN_SIDE}x{MIN_SIDE}"
        )
    try:
        if image.format == "JPEG":
            image.draft("RGB", (WORKING_SIDE, WORKING_SIDE))  # decode at 1/2, 1/4 or 1/8 size
        image.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise UnreadableImage(
            f"the image is damaged or truncated ({exc}); export it again and re-upload"
        ) from None
    return image


def to_grayscale(image: Image.Image) -> np.ndarray:
    """Upright, flattened on white, grayscale float32 in [0, 1], any mode or bit depth."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        raw = np.asarray(image, dtype=np.float64)
        top = 65535.0 if raw.max() > 255 else 255.0
        return np.clip(raw / top, 0, 1).astype(np.float32)
    if image.mode == "F":
        return np.clip(np.asarray(image, dtype=np.float32), 0, 1)
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    gray = image.convert("L")
    return np.asarray(gray, dtype=np.float32) / 255.0


def _working_copy(gray: np.ndarray) -> np.ndarray:
    height, width = gray.shape
    scale = WORKING_SIDE / max(height, width)
    if scale >= 1:
        return gray
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(gray).resize(size, Image.Resampling.BOX), dtype=np.float32)


def _background_level(gray: np.ndarray) -> float:
    """The photo's background: the median of its border pixels (the paper uses the corners)."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return float(np.median(border))


def _fit_and_centre(foreground: np.ndarray) -> np.ndarray:
    """Fit the longest side to 28 and centre it on a black 28x28 canvas."""
    height, width = foreground.shape
    scale = SIDE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    small = np.asarray(Image.fromarray(foreground).resize(size, resample), dtype=np.float32)
    canvas = np.zeros((SIDE, SIDE), dtype=np.float32)
    top, left = (SIDE - size[1]) // 2, (SIDE - size[0]) // 2
    canvas[top : top + size[1], left : left + size[0]] = small
    return canvas


def grayscale_to_model_input(gray: np.ndarray) -> ModelInput:
    """Trim, negate if the background is light, fit and centre: Fashion-MNIST's recipe."""
    work = _working_copy(gray)
    background = _background_level(work)
    inverted = background >= 0.5
    if inverted:  # dark garment on a light background: negate, background → black
        foreground = np.clip((background - work) / max(background, 1e-3), 0, 1)
    else:  # already bright on dark
        foreground = np.clip((work - background) / max(1 - background, 1e-3), 0, 1)
    mask = foreground > TRIM_TOLERANCE
    if not mask.any():  # a blank photo: nothing to trim, the model sees the whole frame
        mask = np.ones_like(mask)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    cropped = foreground[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    image = np.clip(_fit_and_centre(cropped), 0, 1).astype(np.float32)
    return ModelInput(image=image, mask=mask, inverted=inverted)


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
    return grayscale_to_model_input(to_grayscale(image))
