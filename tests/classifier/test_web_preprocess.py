"""The browser's preprocessing (static/js/classifier/preprocess.js) against classifier.preprocess.

The classifier page turns a photo into the model's 28x28 input in the browser; it must be what
the server makes of the same photo, or the page would show (and classify) something else. The
JS mirrors the Python function by function with OpenCV.js; here both run on the same photos:
Fashion-MNIST images drawn as shop photos and real photos, in a real headless Chromium, and the
top class of the browser's model on the browser's input is compared with the server's answer.
"""

from __future__ import annotations

import base64
import re
import statistics

import numpy as np
import pytest

from classifier import garment_mask, predictor, preprocess
from classifier.evaluate_photos import FOLDER_CLASSES, PHOTO_SUFFIXES
from tests.conftest import CLOTHING_PHOTOS_DIR, ROOT, render_as_photo

PREPROCESS_JS = ROOT / "static" / "js" / "classifier" / "preprocess.js"
PARAMETER_MODULES = {
    **dict.fromkeys(
        ["SIDE", "WORKING_SIDE", "MASK_SIDE", "BRIGHT_LEVEL", "MIN_CONTRAST", "GARMENT_FLOOR"]
        + ["MIN_SIDE", "DEFAULT_MAX_PIXELS"],
        preprocess,
    ),
    **dict.fromkeys(
        ["BORDER", "ITERATIONS", "SEED_DISTANCE", "MIN_SHARE", "MAX_SKIN_SHARE"], garment_mask
    ),
}
FASHION_PER_CLASS = 5
PHOTOS_PER_FOLDER = 2
FASHION_MEAN_DIFFERENCE = 2 / 255  # the figures
PHOTOS_MEAN_DIFFERENCE = 8 / 255
PHOTOS_SAME_TOP = 18


def test_js_parameters_are_the_python_constants():
    """The two pipelines cannot drift apart silently: same names, same values."""
    block = re.search(r"PARAMETERS = Object\.freeze\(\{(.*?)\}\)", PREPROCESS_JS.read_text(), re.S)
    assert block, f"no `PARAMETERS = Object.freeze({{...}})` in {PREPROCESS_JS}"
    js = {name: float(value) for name, value in re.findall(r"(\w+): ([\d._]+),", block.group(1))}
    python = {name: float(getattr(module, name)) for name, module in PARAMETER_MODULES.items()}
    assert js == python


RUN_IN_BROWSER = """
const [base, photos, done] = arguments;
(async () => {
  const p = await import(base + "js/classifier/preprocess.js");
  const m = await import(base + "js/classifier/model.js");
  const classifier = await m.loadClassifier(base + "model/", { wasmPath: base + "vendor/" });
  const images = [];
  const ms = [];
  for (const encoded of photos) {
    const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
    const started = performance.now();
    const input = p.toModelInput(await p.decodePhoto(new Blob([bytes])));
    ms.push(performance.now() - started);
    images.push(input.image);
  }
  const batch = new Float32Array(images.length * 784);
  images.forEach((image, i) => batch.set(image, i * 784));
  const probabilities = classifier.predict(batch);
  done({
    images: images.map((image) => Array.from(image)),
    ms,
    top: probabilities.map((row) => row.indexOf(Math.max(...row))),
  });
})().catch((error) => done({ error: String((error && error.stack) || error) }));
"""


def _in_browser(chromium, live_server, photos: list[bytes]) -> dict:
    from tests.browser import browser_errors, load_runtime

    chromium.get(live_server.url + "/")
    load_runtime(chromium, live_server.url + "/static/")
    encoded = [base64.b64encode(photo).decode("ascii") for photo in photos]
    result = chromium.execute_async_script(RUN_IN_BROWSER, live_server.url + "/static/", encoded)
    assert "error" not in result, f"{result['error']}; console: {browser_errors(chromium)}"
    return result


def _compare(name: str, photos: list[bytes], result: dict) -> tuple[np.ndarray, int]:
    """Per-photo mean absolute pixel differences, and how many top classes agree (printed)."""
    expected = np.stack([preprocess.to_model_input(photo).image for photo in photos])
    got = np.array(result["images"], dtype=np.float32).reshape(expected.shape)
    differences = np.abs(got - expected).reshape(len(photos), -1)
    means = differences.mean(axis=1)
    server_top = predictor.load().predict(expected).argmax(axis=1)
    same_top = int((np.array(result["top"]) == server_top).sum())
    print(
        f"\n{name}: browser vs Python on {len(photos)} photos: mean pixel difference "
        f"{means.mean() * 255:.3f}/255 (worst photo {means.max() * 255:.2f}/255, worst pixel "
        f"{differences.max() * 255:.1f}/255), {int((means > 0).sum())} photos not identical, "
        f"same top class {same_top}/{len(photos)}, browser preprocessing "
        f"{statistics.median(result['ms']):.0f} ms per photo (median)"
    )
    return means, same_top


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # live_server flushes
@pytest.mark.slow
@pytest.mark.browser
def test_fashion_mnist_photos_give_the_servers_input(chromium, live_server, fashion_test_set):
    images, labels = fashion_test_set
    indices = [i for c in range(10) for i in np.flatnonzero(labels == c)[:FASHION_PER_CLASS]]
    photos = [render_as_photo(images[i]) for i in indices]
    means, same_top = _compare("Fashion-MNIST", photos, _in_browser(chromium, live_server, photos))
    assert means.mean() <= FASHION_MEAN_DIFFERENCE
    assert same_top == len(photos)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # live_server flushes
@pytest.mark.slow
@pytest.mark.browser
def test_real_photos_give_the_servers_input(chromium, live_server):
    directory = CLOTHING_PHOTOS_DIR / "validation"
    paths = [
        path
        for folder in sorted(FOLDER_CLASSES)
        for path in sorted(
            p for p in (directory / folder).glob("*") if p.suffix.lower() in PHOTO_SUFFIXES
        )[:PHOTOS_PER_FOLDER]
    ]
    assert len(paths) == PHOTOS_PER_FOLDER * len(FOLDER_CLASSES)
    photos = [path.read_bytes() for path in paths]
    means, same_top = _compare("real photos", photos, _in_browser(chromium, live_server, photos))
    # The JS picks the border colours in a stable lightness order; numpy's default argsort
    # breaks ties by CPU (AVX-512, AVX2, none), which is what differs when this fails.
    assert means.mean() <= PHOTOS_MEAN_DIFFERENCE, "see garment_mask._distance_from_border"
    assert same_top >= PHOTOS_SAME_TOP


REJECTIONS = """
const [base, cases, done] = arguments;
(async () => {
  const p = await import(base + "js/classifier/preprocess.js");
  const codes = {};
  for (const [name, encoded] of Object.entries(cases)) {
    const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
    try {
      await p.decodePhoto(new File([bytes], name));
      codes[name] = "decoded";
    } catch (error) {
      codes[name] = error.code || "no code: " + error;
    }
  }
  done(codes);
})().catch((error) => done({ error: String((error && error.stack) || error) }));
"""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # live_server flushes
@pytest.mark.slow
@pytest.mark.browser
def test_unreadable_files_reject_with_pythons_codes(chromium, live_server, photo_bytes):
    import io

    from PIL import Image

    from tests.browser import load_runtime

    tiny = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(tiny, "PNG")
    cases = {
        "notes.jpg": b"these are my notes, not a photo\n" * 4,
        "tiny.png": tiny.getvalue(),
        "empty.jpg": b"",
        "drawing.jpg": b'<svg xmlns="http://www.w3.org/2000/svg"></svg>',
        "photo.jpg": photo_bytes,
    }
    expected = {name: "decoded" for name in cases}
    for name, data in cases.items():
        try:
            preprocess.open_photo(data)
        except preprocess.UnreadableImage as error:
            expected[name] = error.code
    assert expected["notes.jpg"] == "not_image" and expected["tiny.png"] == "too_small"

    chromium.get(live_server.url + "/")
    load_runtime(chromium, live_server.url + "/static/")
    encoded = {name: base64.b64encode(data).decode("ascii") for name, data in cases.items()}
    codes = chromium.execute_async_script(REJECTIONS, live_server.url + "/static/", encoded)
    assert codes == expected
