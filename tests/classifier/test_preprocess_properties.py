"""Property-based: random bytes, damaged files and random images into the photo checks, the
preprocessing and the upload validation. Whatever comes in, the answer is a usable 28x28 input
or UnreadableImage (ValidationError at the upload) with a reason, never another exception.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import classifier
from catalog.photos import make_thumbnail, validated_photo
from classifier.preprocess import MESSAGES, UnreadableImage, open_photo, to_model_input

# Pillow warns about the damage it reads past; the damage is the point here.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL.*")

FAST = settings(
    max_examples=150,
    deadline=None,  # a loaded CI machine is slow now and then; speed is not the property here
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same examples every run: CI failures can be reproduced
)

MAGIC = [
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff\xe0",
    b"GIF89a",
    b"GIF87a",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"\x00\x00\x00\x18ftypheic",
    b"<svg",
    b"",
]
# mode → formats that can store it
MODES = {
    "1": ["PNG", "GIF", "BMP", "TIFF"],
    "L": ["PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF"],
    "LA": ["PNG", "TIFF"],
    "P": ["PNG", "GIF", "BMP", "TIFF"],
    "RGB": ["PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF"],
    "RGBA": ["PNG", "WEBP", "TIFF", "GIF"],
    "CMYK": ["JPEG", "TIFF"],
    "I;16": ["PNG", "TIFF"],
    "I": ["TIFF"],
    "F": ["TIFF"],
}


def check_model_input(data: bytes) -> None:
    """The property: a usable model input, or UnreadableImage with a known reason."""
    try:
        result = to_model_input(data)
    except UnreadableImage as exc:
        assert exc.code in MESSAGES or exc.code == "other"
        assert str(exc)
        return
    assert result.image.shape == (28, 28)
    assert result.image.dtype == np.float32
    assert np.isfinite(result.image).all()
    assert result.image.min() >= 0 and result.image.max() <= 1


def check_upload(data: bytes) -> None:
    """The upload validation: a stored name and a thumbnail, or ValidationError with a reason."""
    try:
        photo = validated_photo(SimpleUploadedFile("x.jpg", data, content_type="image/jpeg"))
    except ValidationError as exc:
        assert exc.messages and all(exc.messages)
        return
    assert photo.name.rsplit(".", 1)[1] in {"jpg", "png", "gif", "webp", "bmp", "tif"}
    thumbnail = make_thumbnail(photo.read())
    with Image.open(io.BytesIO(thumbnail.read())) as image:
        assert image.format == "WEBP" and max(image.size) <= 480


@st.composite
def images(draw) -> bytes:
    """A random image: any size from tiny to large-ish, mode, format, content and EXIF turn."""
    mode = draw(st.sampled_from(sorted(MODES)))
    fmt = draw(st.sampled_from(MODES[mode]))
    width = draw(st.integers(1, 400))
    height = draw(st.integers(1, 400))
    kind = draw(st.sampled_from(["noise", "flat", "shape"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "noise":
        base = Image.fromarray(rng.integers(0, 256, (height, width, 4), dtype=np.uint8), "RGBA")
    elif kind == "flat":
        base = Image.new("RGBA", (width, height), tuple(int(v) for v in rng.integers(0, 256, 4)))
    else:
        base = Image.new("RGBA", (width, height), (255, 255, 255, 0))
        box = sorted(rng.integers(0, width, 2)) + sorted(rng.integers(0, height, 2))
        base.paste((20, 30, 40, 255), (box[0], box[2], box[1] + 1, box[3] + 1))
    image = base.convert(mode) if mode not in ("I;16", "I", "F") else base.convert("L")
    if mode == "I;16":
        image = Image.fromarray(np.asarray(image, dtype=np.uint16) * 257)
    elif mode in ("I", "F"):
        image = image.convert(mode)
    kwargs = {}
    if fmt in ("JPEG", "WEBP", "PNG", "TIFF") and draw(st.booleans()):
        exif = Image.Exif()
        exif[0x0112] = draw(st.integers(0, 9))  # orientation, 0 and 9 being invalid
        kwargs["exif"] = exif
    out = io.BytesIO()
    image.save(out, fmt, **kwargs)
    return out.getvalue()


@st.composite
def damaged(draw) -> bytes:
    """A real image with bytes flipped, cut off, or inserted: what a bad transfer leaves."""
    data = bytearray(draw(images()))
    for _ in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[at:]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
    return bytes(data)


@FAST
@given(st.binary(max_size=4096))
def test_random_bytes(data):
    check_model_input(data)


@FAST
@given(st.sampled_from(MAGIC), st.binary(max_size=2048))
def test_random_bytes_behind_an_image_signature(magic, tail):
    check_model_input(magic + tail)


@FAST
@given(images())
def test_random_images(data):
    check_model_input(data)


@FAST
@given(damaged())
def test_damaged_images(data):
    check_model_input(data)


@pytest.mark.django_db(databases=[])
@settings(FAST, max_examples=100)
@given(st.one_of(images(), damaged(), st.binary(max_size=2048)))
def test_upload_validation(data):
    check_upload(data)


@FAST
@given(images())
def test_check_photo_and_open_photo_agree(data):
    """The upload check accepts exactly what the worker can preprocess."""
    try:
        image_format = classifier.check_photo(data)
    except UnreadableImage:
        with pytest.raises(UnreadableImage):
            to_model_input(data)
        return
    assert open_photo(data).format == image_format
    to_model_input(data)  # no exception: the worker will manage what the upload accepted
