"""Every kind of file a shop gets, made here: phones, scanners, careless exports and attackers.

``BAD_INPUTS`` are refused with a reason; ``ODD_PHOTOS`` are real photos in unusual shapes that
must be accepted and classified like any other. Each maker takes the bytes of an ordinary photo
(a Fashion-MNIST garment rendered as a JPEG) so that the odd ones can be checked for the label.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def another_photo(photo: bytes, quality: int) -> bytes:
    """The same garment saved again: other bytes, so the store does not take it for a copy."""
    return encode(Image.open(io.BytesIO(photo)), "JPEG", quality=quality)


def large_photo(photo: bytes, side: int = 3000) -> bytes:
    """The garment as a phone would photograph it: ``side`` pixels on its long side."""
    image = Image.open(io.BytesIO(photo))
    scale = side / max(image.size)
    resized = image.resize((round(image.width * scale), round(image.height * scale)))
    return encode(resized, "JPEG", quality=90)


def portrait_photo(photo: bytes) -> bytes:
    """The garment cut to 3:4, as most phone photos of clothes are: its sides differ."""
    image = Image.open(io.BytesIO(photo))
    width = image.height * 3 // 4
    left = (image.width - width) // 2
    return encode(image.crop((left, 0, left + width, image.height)), "JPEG", quality=92)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def decompression_bomb(side: int = 30_000) -> bytes:
    """A side x side 1-bit PNG of zeros: about 110 KB on disk, 900 megapixels decoded."""
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit grayscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def corrupt_png_chunk(photo: bytes) -> bytes:
    """The photo as a PNG whose image data chunk is damaged (its CRC no longer matches)."""
    png = encode(Image.open(io.BytesIO(photo)), "PNG")
    start = png.index(b"IDAT") + 4
    middle = start + 20
    return png[:middle] + bytes(b ^ 0xFF for b in png[middle : middle + 40]) + png[middle + 40 :]


def heic(photo: bytes) -> bytes:
    """A real HEIC, as an iPhone writes by default (encoded with libheif, from pillow-heif)."""
    import pillow_heif  # only encodes here; the store has no HEIC decoder and refuses it

    out = io.BytesIO()
    pillow_heif.from_pillow(Image.open(io.BytesIO(photo)).convert("RGB")).save(out, quality=80)
    return out.getvalue()


def avif(photo: bytes) -> bytes:
    return encode(Image.open(io.BytesIO(photo)).convert("RGB"), "AVIF", quality=60)


def sixteen_bit_png(photo: bytes) -> bytes:
    gray = np.asarray(Image.open(io.BytesIO(photo)).convert("L"), dtype=np.uint16) * 257
    image = Image.fromarray(gray.astype(np.uint16))
    assert image.mode == "I;16"
    return encode(image, "PNG")


def cmyk_jpeg(photo: bytes) -> bytes:
    return encode(Image.open(io.BytesIO(photo)).convert("CMYK"), "JPEG", quality=92)


def transparent_png(photo: bytes) -> bytes:
    """The garment opaque, the white background fully transparent (a cut-out product shot)."""
    rgb = Image.open(io.BytesIO(photo)).convert("RGB")
    gray = np.asarray(rgb.convert("L"))
    alpha = Image.fromarray(np.where(gray > 245, 0, 255).astype(np.uint8))
    rgba = rgb.copy()
    rgba.putalpha(alpha)
    # where it is transparent, the colour underneath is black: only the alpha says "background"
    black = Image.new("RGBA", rgba.size, (0, 0, 0, 0))
    return encode(Image.composite(rgba, black, alpha), "PNG")


def animated_gif(photo: bytes) -> bytes:
    """The garment in the first frame, then two frames of noise: the first frame counts."""
    first = Image.open(io.BytesIO(photo)).convert("L")
    rng = np.random.default_rng(0)
    noise = [Image.fromarray(rng.integers(0, 255, first.size[::-1], dtype=np.uint8)) for _ in "ab"]
    return encode(first, "GIF", save_all=True, append_images=noise, duration=200, loop=0)


def exif_rotated_jpeg(photo: bytes) -> bytes:
    """Stored sideways as a phone does, with the EXIF orientation tag saying how to turn it."""
    sideways = Image.open(io.BytesIO(photo)).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    exif[0x010F] = "Percha test phone"  # Make
    return encode(sideways, "JPEG", exif=exif, quality=92)


def webp(photo: bytes) -> bytes:
    return encode(Image.open(io.BytesIO(photo)), "WEBP", quality=85)


def truncated_jpeg(photo: bytes) -> bytes:
    return photo[: len(photo) // 2]


@dataclass(frozen=True)
class BadInput:
    name: str  # the file name it arrives with
    make: Callable[[bytes], bytes]
    reason: str  # words the English message must contain
    code: str  # UnreadableImage.code, or "too_large" for the size check


BAD_INPUTS = [
    BadInput("empty.jpg", lambda p: b"", "the file is empty", "empty"),
    BadInput("notes.jpg", lambda p: b"talla M, 100% algodon\n" * 20, "not an image", "not_image"),
    BadInput("cut.jpg", truncated_jpeg, "damaged or truncated", "damaged"),
    BadInput("broken.png", corrupt_png_chunk, "damaged or truncated", "damaged"),
    BadInput(
        "logo.svg",
        lambda p: (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
            b'onload="alert(1)"><rect width="9" height="9"/></svg>'
        ),
        "SVG or HTML",
        "markup",
    ),
    BadInput(
        "page.jpg",
        lambda p: b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>",
        "SVG or HTML",
        "markup",
    ),
    BadInput("bomb.png", lambda p: decompression_bomb(), "too many pixels", "bomb"),
    BadInput("huge.jpg", lambda p: p + b"\x00" * 2_000_000, "Upload a smaller photo", "too_large"),
    BadInput(
        "pixel.png", lambda p: encode(Image.new("RGB", (1, 1)), "PNG"), "only 1x1", "too_small"
    ),
    BadInput("IMG_0001.HEIC", heic, "HEIC/HEIF photos", "heic"),
    BadInput("photo.avif", avif, "AVIF images are not supported", "format"),
]

ODD_PHOTOS = {
    "16-bit.png": sixteen_bit_png,
    "cmyk.jpg": cmyk_jpeg,
    "alpha.png": transparent_png,
    "animated.gif": animated_gif,
    "phone-rotated.jpg": exif_rotated_jpeg,
    "photo.webp": webp,
}

# The size limit the tests run under: above an ordinary photo, below "huge.jpg".
UPLOAD_LIMIT = 1_000_000
