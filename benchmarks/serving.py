"""Measurements 1-3: one photo, a batch and preprocessing, in this process.

The store's path (``classifier.classify_image``: decode, preprocess, LiteRT) is timed against the
same work done with Keras' ``model.predict``, the slow path the store avoids. TensorFlow is
imported here only, for the comparison; the store itself never imports it.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

import classifier
from benchmarks.measure import Results, ms, p50, p95, time_interleaved
from classifier import predictor
from classifier.preprocess import to_model_input

if TYPE_CHECKING:  # TensorFlow is imported only when the comparison runs
    import keras

ROOT = Path(__file__).resolve().parent.parent
KERAS_MODEL_PATH = ROOT / "classifier" / "artifacts" / "model.keras"
SHARED = ROOT.parent / "shared" / "datasets"
PHOTOS_DIR = Path(os.environ.get("CLOTHING_PHOTOS_DIR", SHARED / "clothing-photos"))
FASHION_MNIST_DIR = Path(os.environ.get("FASHION_MNIST_DIR") or SHARED / "fashion-mnist")
PHOTO_SIZE = (400, 533)  # width x height of most of the real photos
BIG_SIZE = (4000, 3000)  # a 12 MP phone photo
KERAS_BATCH = 256  # faster for Keras here than the store's 64: the comparison favours Keras


@dataclass(frozen=True)
class Sizes:
    """How many repetitions each measurement takes (the quick run uses fewer)."""

    single: int
    batch: int
    preprocess: int


FULL = Sizes(single=200, batch=5, preprocess=100)
QUICK = Sizes(single=30, batch=2, preprocess=20)


def real_photos(count: int, size: tuple[int, int] = PHOTO_SIZE) -> list[Path]:
    """The first ``count`` photos of exactly ``size`` pixels, in a fixed order."""
    if not PHOTOS_DIR.is_dir():
        raise SystemExit(f"photos not found in {PHOTOS_DIR}; set CLOTHING_PHOTOS_DIR")
    found = []
    for path in sorted(PHOTOS_DIR.glob("*/*/*.jpg")):
        with Image.open(path) as image:
            if image.size == size:
                found.append(path)
        if len(found) == count:
            return found
    raise SystemExit(f"fewer than {count} photos of {size[0]}x{size[1]} in {PHOTOS_DIR}")


def big_photo() -> bytes:
    """A 4000x3000 JPEG made here from a real landscape photo (the data set has none that big).

    Upscaling alone gives a smooth 0.7 MB file that decodes faster than a real one; mild sensor
    noise brings it to the 2-3 MB of a 12 MP phone photo.
    """
    source = real_photos(1, size=(PHOTO_SIZE[1], PHOTO_SIZE[0]))[0]
    with Image.open(source) as image:
        big = np.asarray(image.convert("RGB").resize(BIG_SIZE, Image.Resampling.BICUBIC))
    noise = np.random.default_rng(0).normal(0, 6, big.shape)
    noisy = np.clip(big + noise, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(noisy).save(out, "JPEG", quality=90)
    return out.getvalue()


def fashion_mnist_test_images() -> np.ndarray:
    """The 10,000 test images as the model's float32 input, read from the local IDX file."""
    from ml_training.data import IMAGES_MAGIC, read_idx

    images = read_idx(_fashion_mnist_file("t10k-images-idx3-ubyte.gz"), IMAGES_MAGIC)
    return (images.astype(np.float32) / 255.0).reshape(-1, 28, 28, 1)


def fashion_mnist_test_labels() -> np.ndarray:
    from ml_training.data import LABELS_MAGIC, read_idx

    return read_idx(_fashion_mnist_file("t10k-labels-idx1-ubyte.gz"), LABELS_MAGIC)


def _fashion_mnist_file(name: str) -> Path:
    path = FASHION_MNIST_DIR / name
    if not path.is_file():
        raise SystemExit(f"Fashion-MNIST not found in {FASHION_MNIST_DIR}; set FASHION_MNIST_DIR")
    return path


def load_keras_model() -> keras.Model:
    """The same network as model.tflite, in Keras, for the ``model.predict`` comparison."""
    import keras

    import ml_training.architectures  # noqa: F401 - registers the HorizontalFlip layer

    return keras.models.load_model(KERAS_MODEL_PATH, compile=False)


def compiled(model: keras.Model) -> Callable[[np.ndarray], np.ndarray]:
    """The model as a traced ``tf.function``: what "a compiled function" costs per call."""
    import tensorflow as tf

    spec = tf.TensorSpec([None, 28, 28, 1], tf.float32)
    function = tf.function(lambda x: model(x, training=False), input_signature=[spec])
    return lambda x: function(tf.constant(x)).numpy()


def litert_threads(
    threads: int, model_bytes: bytes | None = None
) -> Callable[[np.ndarray], np.ndarray]:
    """A LiteRT interpreter like the store's batch one, with more threads or another flatbuffer
    of the served model (references; default: the served file)."""
    from ai_edge_litert.interpreter import Interpreter

    size = predictor.BATCH_SIZE
    model_bytes = predictor.DEFAULT_MODEL_PATH.read_bytes() if model_bytes is None else model_bytes
    interpreter = Interpreter(model_content=model_bytes, num_threads=threads)
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, [size, 28, 28, 1], strict=False)
    interpreter.allocate_tensors()
    out = interpreter.get_output_details()[0]["index"]

    def run(batch: np.ndarray) -> np.ndarray:
        parts = []
        for start in range(0, len(batch), size):
            chunk = np.zeros((size, 28, 28, 1), dtype=np.float32)
            part = batch[start : start + size]
            chunk[: len(part)] = part
            interpreter.set_tensor(index, chunk)
            interpreter.invoke()
            parts.append(interpreter.get_tensor(out)[: len(part)].copy())
        return np.concatenate(parts)

    return run


def multiply_adds(model: keras.Model) -> int:
    """Multiply-adds the model spends on one image: its convolutions and dense layers, once per
    view of a view-averaged model (2 flip-averaged, 10 with the shifts). The arithmetic bounds a
    batch's speed on a given core."""
    import keras

    from ml_training.architectures import unwrapped, view_shifts

    network = unwrapped(model)
    total = 0
    for layer in network.layers:
        if isinstance(layer, keras.layers.Conv2D):
            height, width, filters = layer.output.shape[1:]
            rows, columns = layer.kernel_size
            total += height * width * filters * rows * columns * layer.input.shape[-1]
        elif isinstance(layer, keras.layers.Dense):
            total += layer.input.shape[-1] * layer.units
    if network is model:
        return total
    return total * 2 * len(view_shifts(model))


def dense_layer(size: int = 1024, batch: int = 256) -> tuple[Callable[[], None], int]:
    """LiteRT on one thread running a large dense layer, its best case (one big matrix product),
    and the multiply-adds of one call: the rate any model on the same runtime and core can
    approach, so a batch rate near it is bound by the model's arithmetic, not by the runtime."""
    import keras
    from ai_edge_litert.interpreter import Interpreter

    from ml_training.export import to_tflite

    layer = keras.Sequential([keras.Input((size,)), keras.layers.Dense(size, use_bias=False)])
    interpreter = Interpreter(model_content=to_tflite(layer), num_threads=1)
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, [batch, size], strict=False)
    interpreter.allocate_tensors()
    interpreter.set_tensor(index, np.random.default_rng(0).random((batch, size), np.float32))
    return interpreter.invoke, batch * size * size


def run(results: Results, sizes: Sizes, sections: set[str]) -> None:
    """Measurements 1 (one photo, inference alone), 2 (batch) and 3 (preprocessing)."""
    store_model = predictor.load(str(predictor.DEFAULT_MODEL_PATH))
    keras_model = load_keras_model()
    photos = [path.read_bytes() for path in real_photos(20)]
    ready = to_model_input(photos[0]).image.reshape(1, 28, 28, 1)
    if "single" in sections:
        _single_photo(results, sizes, photos, ready, keras_model)
        _inference_alone(results, sizes, ready, store_model, keras_model)
    if "batch" in sections:
        _batch(results, sizes, store_model, keras_model)
    if "preprocess" in sections:
        _preprocess(results, sizes, photos)


def _single_photo(results: Results, sizes: Sizes, photos: list[bytes], ready, keras_model) -> None:
    def with_predict(i: int) -> None:
        image = to_model_input(photos[i % len(photos)]).image
        keras_model.predict(image.reshape(1, 28, 28, 1), verbose=0)

    samples = time_interleaved(
        {
            "store": lambda i: classifier.classify_image(photos[i % len(photos)]),
            "with_predict": with_predict,
            "bare_predict": lambda i: keras_model.predict(ready, verbose=0),
        },
        sizes.single,
    )
    store, slow, bare = samples["store"], samples["with_predict"], samples["bare_predict"]
    results.add(
        "1a",
        f"one {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} JPEG, decode + preprocess + infer (store: LiteRT)",
        f"p50 {ms(p50(store))}, p95 {ms(p95(store))}",
        "p50 ≤ 20 ms",
        p50(store) <= 0.020,
    )
    results.add(
        "1b",
        "the same with `model.predict`",
        f"p50 {ms(p50(slow))}, p95 {ms(p95(slow))}",
    )
    results.add("1c", "bare `model.predict` on a ready 28x28 input", f"p50 {ms(p50(bare))}")
    ratio = p50(bare) / p50(store)
    results.add(
        "1d",
        "store's whole photo path vs bare `model.predict` (1c / 1a)",
        f"{ratio:.1f}x faster",
        "≥ 2.5x",
        ratio >= 2.5,
    )
    results.add(
        "1e",
        "store vs the same path with `model.predict` (1b / 1a)",
        f"{p50(slow) / p50(store):.1f}x",
    )


def _inference_alone(results: Results, sizes: Sizes, ready, store_model, keras_model) -> None:
    function = compiled(keras_model)
    samples = time_interleaved(
        {
            "litert": lambda i: store_model.predict(ready),
            "tf_function": lambda i: function(ready),
            "predict": lambda i: keras_model.predict(ready, verbose=0),
        },
        sizes.single,
    )
    lite, traced, slow = samples["litert"], samples["tf_function"], samples["predict"]
    results.add("1f", "inference alone, one image: LiteRT (the store)", f"p50 {ms(p50(lite))}")
    results.add("1g", "inference alone: compiled `tf.function`", f"p50 {ms(p50(traced))}")
    results.add("1h", "inference alone: `model.predict`", f"p50 {ms(p50(slow))}")
    ratio = p50(slow) / p50(lite)
    results.add(
        "1i",
        "inference alone, LiteRT vs `model.predict` (1h / 1f)",
        f"{ratio:.0f}x faster",
        "≥ 20x",
        ratio >= 20,
    )


def _batch(results: Results, sizes: Sizes, store_model, keras_model) -> None:
    from ml_training.export import to_tflite

    images = fashion_mnist_test_images()
    function = compiled(keras_model)
    two_threads = litert_threads(2)
    int8 = litert_threads(1, to_tflite(keras_model, int8_weights=True))
    dense, dense_multiply_adds = dense_layer()
    dense_calls = 20  # a few tenths of a second a round, in the same rounds as 2a
    answers = {}  # the last timed round's, for 2g: not one more pass over the images

    def kept(name: str, predict):
        def run(_: int) -> None:
            answers[name] = predict(images)

        return run

    def traced(_: int) -> None:
        for start in range(0, len(images), 1000):
            function(images[start : start + 1000])

    def dense_runs(_: int) -> None:
        for _call in range(dense_calls):
            dense()

    samples = time_interleaved(
        {
            "litert": kept("litert", store_model.predict),
            "litert2": lambda i: two_threads(images),
            "int8": kept("int8", int8),
            "predict": lambda i: keras_model.predict(images, batch_size=KERAS_BATCH, verbose=0),
            "tf_function": traced,
            "dense": dense_runs,
        },
        sizes.batch,
        warmup=1,
    )
    rate = {name: len(images) / p50(times) for name, times in samples.items()}
    dense_rate = dense_calls * dense_multiply_adds / p50(samples["dense"])
    results.add(
        "2a",
        f"batch, {len(images):,} Fashion-MNIST test images: LiteRT, 1 thread (the store)",
        f"{rate['litert']:,.0f} images/s",
        "≥ 5,000 images/s",
        rate["litert"] >= 5000,
    )
    results.add("2b", "batch: LiteRT, 2 threads (both cores)", f"{rate['litert2']:,.0f} images/s")
    results.add(
        "2c", f"batch: `model.predict`, batch {KERAS_BATCH}", f"{rate['predict']:,.0f} images/s"
    )
    results.add(
        "2d", "batch: compiled `tf.function`, batch 1000", f"{rate['tf_function']:,.0f} images/s"
    )
    _arithmetic_ceiling(results, multiply_adds(keras_model), dense_rate, rate["litert"])
    _int8_reference(results, rate, answers["litert"].argmax(1), answers["int8"].argmax(1))


def _int8_reference(
    results: Results, rate: dict[str, float], served: np.ndarray, int8: np.ndarray
) -> None:
    """2g: the served model with int8 weights, timed with 2a. On a CPU with int8 dot products
    (AVX-512 VNNI, AVX-VNNI) it is several times the float32 rate; this row is what a switch
    would buy here, and what it would cost in answers."""
    labels = fashion_mnist_test_labels()
    results.add(
        "2g",
        "batch: the served model with int8 weights (dynamic range), LiteRT, 1 thread; not served",
        f"{rate['int8']:,.0f} images/s ({rate['int8'] / rate['litert']:.1f}x 2a); Fashion-MNIST "
        f"test {np.mean(int8 == labels):.2%} against {np.mean(served == labels):.2%}, the same "
        f"top class on {np.mean(int8 == served):.2%}",
    )


def _arithmetic_ceiling(results: Results, per_image: int, peak: float, store_rate: float) -> None:
    """2e-2f: how close 2a is to what this core can do for this model, and what 5,000 images/s
    would ask of the model; a missed 2a says whether the runtime or the arithmetic is to blame."""
    ceiling = peak / per_image
    results.add(
        "2e",
        "multiply-adds an image (every view of the view-averaged model)",
        f"{per_image / 1e6:.0f} M",
    )
    results.add(
        "2f",
        "LiteRT on one core, a 1024x1024 dense layer (timed with 2a), and the rate it allows 2a",
        f"{peak / 1e9:.1f} G multiply-adds/s → {ceiling:,.0f} images/s of this model; 2a runs at "
        f"{store_rate / ceiling:.0%} of that; 5,000 images/s would need ≤ {peak / 5000 / 1e6:.1f} "
        "M multiply-adds an image",
    )


def _preprocess(results: Results, sizes: Sizes, photos: list[bytes]) -> None:
    big = big_photo()
    samples = time_interleaved(
        {
            "photo": lambda i: to_model_input(photos[i % len(photos)]),
            "big": lambda i: to_model_input(big),
        },
        sizes.preprocess,
    )
    results.add(
        "3a",
        f"decode + preprocess, {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} JPEG",
        f"p50 {ms(p50(samples['photo']))}",
    )
    results.add(
        "3b",
        f"decode + preprocess, {BIG_SIZE[0]}x{BIG_SIZE[1]} JPEG ({len(big) / 1e6:.1f} MB)",
        f"p50 {ms(p50(samples['big']))}",
        "≤ 60 ms",
        p50(samples["big"]) <= 0.060,
    )
