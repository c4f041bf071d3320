"""Photo → 28x28 input, on images the tests draw themselves."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from classifier import garment_mask, preprocess
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


def textured(size=(300, 400), seed=0) -> Image.Image:
    """A bed cover: a coloured pattern with noise, nothing like a packshot's plain white."""
    rng = np.random.default_rng(seed)
    width, height = size
    rows, cols = np.indices((height, width))
    stripes = ((rows // 12 + cols // 12) % 2)[..., None] * np.array([60, 20, 10])
    noise = rng.normal(0, 12, (height, width, 3))
    return Image.fromarray(np.clip(150 + stripes + noise, 0, 255).astype(np.uint8))


def garment_share(result) -> float:
    return float((result.image > 0.05).mean())


def test_dark_garment_on_white_becomes_bright_on_black_fitted_and_centred():
    result = to_model_input(encode(shirt()))
    image = result.image
    assert image.shape == (28, 28) and image.dtype == np.float32 and result.gain == 1.0
    assert image.max() > 0.6 and image[0, 0] == 0 and image[27, 27] == 0
    rows, cols = np.flatnonzero(image.max(1) > 0.1), np.flatnonzero(image.max(0) > 0.1)
    assert rows[-1] - rows[0] + 1 >= 26  # the longest side (height) fills the frame
    assert abs((cols[0] + cols[-1]) / 2 - 13.5) <= 1  # centred horizontally


def test_white_garment_is_lifted_to_bright_whatever_its_colour():
    result = to_model_input(encode(shirt(garment=(245, 245, 245), background=(0, 0, 0))))
    assert result.gain > 2 and result.image.max() > 0.8 and result.image[0, 0] == 0


def test_white_shirt_on_grey_floor_still_gives_a_visible_garment():
    result = to_model_input(encode(shirt(garment=(250, 250, 250), background=(120, 120, 120))))
    assert result.image.max() > 0.5
    assert result.mask.mean() < 0.9  # the floor is not part of the garment
    reference = to_model_input(encode(shirt()))  # the same T shape, dark on white
    assert np.abs((result.image > 0.05) ^ (reference.image > 0.05)).mean() < 0.08


def test_garment_on_a_textured_bed_is_cut_out_of_it():
    photo = textured()
    ImageDraw.Draw(photo).rectangle((60, 80, 200, 330), fill=(30, 30, 120))
    ImageDraw.Draw(photo).rectangle((20, 80, 240, 140), fill=(30, 30, 120))
    result = to_model_input(encode(photo, "JPEG", quality=90))
    reference = to_model_input(encode(shirt()))
    assert np.abs((result.image > 0.05) ^ (reference.image > 0.05)).mean() < 0.08


def test_skin_is_taken_out_of_the_garment():
    photo = shirt()
    draw = ImageDraw.Draw(photo)
    draw.rectangle((25, 140, 55, 230), fill=(224, 172, 140))  # the model's forearms ...
    draw.rectangle((205, 140, 235, 230), fill=(224, 172, 140))
    draw.rectangle((115, 40, 145, 80), fill=(224, 172, 140))  # ... and neck
    with_skin = garment_mask.garment_mask(np.asarray(photo.resize((72, 96))), remove_skin=False)
    without = garment_mask.garment_mask(np.asarray(photo.resize((72, 96))))
    assert with_skin.sum() > without.sum() * 1.1
    reference = to_model_input(encode(shirt()))
    result = to_model_input(encode(photo))
    assert np.abs((result.image > 0.05) ^ (reference.image > 0.05)).mean() < 0.08


def test_a_beige_garment_is_not_mistaken_for_skin():
    result = to_model_input(encode(shirt(garment=(224, 172, 140))))
    reference = to_model_input(encode(shirt()))
    assert np.abs((result.image > 0.05) ^ (reference.image > 0.05)).mean() < 0.08


def test_garment_is_centred_by_its_mass():
    photo = Image.new("RGB", (400, 400), "white")
    draw = ImageDraw.Draw(photo)
    draw.rectangle((50, 50, 350, 350), fill=(20, 20, 20))  # a heavy square ...
    draw.rectangle((350, 190, 390, 210), fill=(20, 20, 20))  # ... with a thin strap on the right
    image = to_model_input(encode(photo)).image
    cols = np.indices(image.shape)[1]
    assert abs((cols * image).sum() / image.sum() - 13.5) < 0.75


def test_transparent_png_is_flattened_on_white():
    rgba = shirt(garment=(20, 20, 20, 255), background=(0, 0, 0, 0), mode="RGBA")
    result = to_model_input(encode(rgba))
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


def test_the_same_photo_gives_the_same_input():
    photo = encode(textured(seed=3), "JPEG")
    np.testing.assert_array_equal(to_model_input(photo).image, to_model_input(photo).image)


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
    # 0.052 with the plain threshold trim of Fashion-MNIST's packshots; the GrabCut mask on a
    # 96-pixel copy (what makes real photos work, and fast) blurs the edges a little more
    assert np.median(diffs) < 0.075


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
