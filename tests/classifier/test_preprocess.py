"""Photo → 28x28 input, on images the tests draw themselves."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from classifier import preprocess
from classifier.preprocess import UnreadableImage, to_model_input
from tests.conftest import render_as_photo


def encode(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def shirt(size=(300, 400), garment=(30, 30, 120), background=(255, 255, 255), mode="RGB"):
    """A T-shaped garment, off-centre, on a plain background."""
    image = Image.new(mode, size, background)
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 80, 200, 330), fill=garment)  # body
    draw.rectangle((20, 80, 240, 140), fill=garment)  # sleeves
    return image


def test_dark_garment_on_white_becomes_bright_on_black_fitted_and_centred():
    result = to_model_input(encode(shirt()))
    image = result.image
    assert image.shape == (28, 28) and image.dtype == np.float32 and result.inverted
    assert image.max() > 0.6 and image[0, 0] == 0 and image[27, 27] == 0
    rows, cols = np.flatnonzero(image.max(1) > 0.1), np.flatnonzero(image.max(0) > 0.1)
    assert rows[-1] - rows[0] + 1 >= 26  # the longest side (height) fills the frame
    assert abs((cols[0] + cols[-1]) / 2 - 13.5) <= 1  # centred horizontally


def test_bright_garment_on_black_is_kept_as_it_is():
    result = to_model_input(encode(shirt(garment=(230, 230, 230), background=(0, 0, 0))))
    assert not result.inverted and result.image.max() > 0.8 and result.image[0, 0] == 0


def test_white_shirt_on_grey_floor_still_gives_a_visible_garment():
    result = to_model_input(encode(shirt(garment=(250, 250, 250), background=(120, 120, 120))))
    assert result.image.max() > 0.5
    assert result.mask.mean() < 0.9  # the floor is not part of the garment


def test_transparent_png_is_flattened_on_white():
    rgba = shirt(garment=(20, 20, 20, 255), background=(0, 0, 0, 0), mode="RGBA")
    result = to_model_input(encode(rgba))
    assert result.inverted  # the transparent background counts as white
    opaque = to_model_input(encode(shirt(garment=(20, 20, 20))))
    np.testing.assert_allclose(result.image, opaque.image, atol=0.02)


def test_exif_rotated_phone_photo_is_turned_upright():
    upright = shirt(size=(300, 400))
    sideways = upright.transpose(Image.Transpose.ROTATE_90)  # stored sideways by the camera
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    rotated = to_model_input(encode(sideways, "JPEG", exif=exif, quality=95))
    reference = to_model_input(encode(upright, "JPEG", quality=95))
    assert np.abs(rotated.image - reference.image).mean() < 0.03


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "I;16", "LA", "1"])
def test_any_mode_gives_the_same_kind_of_input(mode):
    base = shirt(garment=(40, 40, 40))
    if mode == "I;16":
        array = (np.asarray(base.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
        image = Image.fromarray(array)  # 16-bit grayscale
        assert image.mode == "I;16"
    else:
        image = base.convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    result = to_model_input(encode(image, fmt))
    assert result.image.shape == (28, 28) and result.image.max() > 0.5


def test_large_photo_is_decoded_at_reduced_size():
    big = shirt(size=(4000, 3000))
    assert preprocess.open_photo(encode(big, "JPEG")).size[0] < 1000  # JPEG draft mode


def test_rendered_fashion_mnist_image_comes_back_close_to_the_original(fashion_test_set):
    images, _ = fashion_test_set
    diffs = []
    for original in images[:50]:
        recovered = to_model_input(render_as_photo(original)).image
        diffs.append(np.abs(recovered - original / 255.0).mean())
    assert np.median(diffs) < 0.06


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"just some text, not a photo", "not an image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "not an image"),
    ],
)
def test_non_images_are_refused_with_a_reason(data, reason):
    with pytest.raises(UnreadableImage, match=reason):
        to_model_input(data)


def test_truncated_jpeg_is_refused():
    data = encode(shirt(), "JPEG")
    with pytest.raises(UnreadableImage, match="damaged or truncated"):
        to_model_input(data[: len(data) // 2])


def test_tiny_and_huge_images_are_refused():
    with pytest.raises(UnreadableImage, match="only 1x1 pixels"):
        to_model_input(encode(Image.new("L", (1, 1))))
    with pytest.raises(UnreadableImage, match="more than the 1,000,000 allowed"):
        to_model_input(encode(Image.new("L", (2000, 1000))), max_pixels=1_000_000)


def test_a_blank_photo_does_not_crash():
    assert to_model_input(encode(Image.new("RGB", (50, 50), "white"))).image.shape == (28, 28)
