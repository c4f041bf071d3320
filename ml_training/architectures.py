"""The three course networks and the production network, as plain functions returning Keras models.

All take a (28, 28, 1) float input in [0, 1] and end in a 10-way softmax, so every exported
format shares one input spec.
"""

from __future__ import annotations

import keras
from keras import layers

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


def dense(num_classes: int = NUM_CLASSES) -> keras.Model:
    """The course's dense network: 784 inputs → two hidden ReLU layers → softmax."""
    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            layers.Flatten(),
            layers.Dense(256, activation="relu"),
            layers.Dense(128, activation="relu"),
            layers.Dense(num_classes, activation="softmax"),
        ],
        name="dense",
    )


def _course_cnn(name: str, dropout: bool, num_classes: int) -> keras.Model:
    def maybe_dropout(rate: float) -> list[layers.Layer]:
        return [layers.Dropout(rate)] if dropout else []

    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            *maybe_dropout(0.25),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            *maybe_dropout(0.25),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            *maybe_dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ],
        name=name,
    )


def cnn(num_classes: int = NUM_CLASSES) -> keras.Model:
    """The course's CNN: two convolution + max-pooling blocks, then a dense head."""
    return _course_cnn("cnn", dropout=False, num_classes=num_classes)


def cnn_dropout(num_classes: int = NUM_CLASSES) -> keras.Model:
    """The course's CNN with dropout after each block and before the classifier."""
    return _course_cnn("cnn_dropout", dropout=True, num_classes=num_classes)


def _conv_bn(x, filters: int):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def production(num_classes: int = NUM_CLASSES) -> keras.Model:
    """The store's network: VGG-style blocks with batch normalization and a dense head.

    Sized for a 2-core CPU: one narrow convolution at full 28x28 resolution (measured: a second
    one there costs 2.7x the training time in float32), the wide ones at 14x14 (96 filters) and
    7x7 (192). The head flattens a 3x3 map rather than averaging it away: where a detail sits
    (a collar, a sleeve's end) is what tells a shirt from a T-shirt or a pullover. The output
    layer computes in float32 when the rest is trained in bfloat16 (``train.Recipe.precision``):
    the softmax and the loss need its range.
    """
    inputs = keras.Input(INPUT_SHAPE)
    x = _conv_bn(inputs, 32)
    x = layers.MaxPooling2D()(x)
    x = _conv_bn(x, 96)
    x = _conv_bn(x, 96)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(0.1)(x)
    x = _conv_bn(x, 192)
    x = _conv_bn(x, 192)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(256, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="production")


@keras.saving.register_keras_serializable(package="percha")
class HorizontalFlip(layers.Layer):
    """Mirror images left to right, at inference too (unlike RandomFlip); the flip averaging of
    models exported before ``Views`` (their files still load)."""

    def call(self, inputs):
        return keras.ops.flip(inputs, axis=2)


def shifted(images, dy: int, dx: int):
    """Images moved by whole pixels (down by ``dy``, right by ``dx``), black coming in."""
    if (dy, dx) == (0, 0):
        return images
    padded = keras.ops.pad(
        images, [[0, 0], [max(dy, 0), max(-dy, 0)], [max(dx, 0), max(-dx, 0)], [0, 0]]
    )
    height, width = images.shape[1], images.shape[2]
    top, left = max(-dy, 0), max(-dx, 0)
    return padded[:, top : top + height, left : left + width, :]


@keras.saving.register_keras_serializable(package="percha")
class Views(layers.Layer):
    """Every view of a batch, stacked in the batch: for each shift, the images moved by it and
    their mirror images (view-major: all images of the first view, then the second, ...)."""

    def __init__(self, shifts: tuple[tuple[int, int], ...], **kwargs):
        super().__init__(**kwargs)
        self.shifts = tuple((int(dy), int(dx)) for dy, dx in shifts)

    def call(self, inputs):
        views = []
        for dy, dx in self.shifts:
            moved = shifted(inputs, dy, dx)
            views += [moved, keras.ops.flip(moved, axis=2)]
        return keras.ops.concatenate(views, axis=0)

    def compute_output_shape(self, input_shape):
        return (None, *input_shape[1:])

    def get_config(self) -> dict:
        return {**super().get_config(), "shifts": [list(s) for s in self.shifts]}


@keras.saving.register_keras_serializable(package="percha")
class MeanOverViews(layers.Layer):
    """The mean of a network's answers over the views ``Views`` stacked in the batch."""

    def __init__(self, views: int, **kwargs):
        super().__init__(**kwargs)
        self.views = int(views)

    def call(self, answers):
        per_view = keras.ops.reshape(answers, (self.views, -1, answers.shape[-1]))
        return keras.ops.mean(per_view, axis=0)

    def compute_output_shape(self, input_shape):
        return (None, input_shape[-1])

    def get_config(self) -> dict:
        return {**super().get_config(), "views": self.views}


NO_SHIFT = ((0, 0),)
# The image and its copies one pixel up, down, left and right: where a photo's garment lands
# in the 28x28 frame is less certain than in Fashion-MNIST's. Measured on the served
# fine-tuned model, flip-averaged, against these ten views: held-out train photos, all ten
# classes 74.1% → 75.7%; validation photos 72.4% → 73.9%; Fashion-MNIST test 94.57% → 94.75%.
SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))


def with_flip_averaging(
    model: keras.Model, shifts: tuple[tuple[int, int], ...] = NO_SHIFT
) -> keras.Model:
    """The model's answer averaged over the image and its mirror image (test-time augmentation),
    each also moved by each of ``shifts`` (``SHIFTS``: ten views in all).

    Fashion-MNIST's classes are left-right symmetric, and the production model was trained on
    mirrored and shifted images, so the views are equally valid and their mean is a steadier
    answer. The views are in the graph, stacked in the batch so that the network runs once on
    them (a single photo's ten views cost 26% less than ten calls, measured with LiteRT): the
    server's LiteRT file and the browser's copy average them alike.
    """
    if not shifts or tuple(shifts[0]) != (0, 0):
        raise ValueError(f"the first view is the image itself, (0, 0); got {shifts}")
    inputs = keras.Input(INPUT_SHAPE)
    # Named, not numbered by Keras's global counter: the browser's copy is traced from this graph
    # and must not depend on what else the process built.
    answers = model(Views(shifts, name="views")(inputs))
    outputs = MeanOverViews(2 * len(shifts), name="mean_over_views")(answers)
    suffix = "flip_averaged" if tuple(shifts) == NO_SHIFT else "view_averaged"
    return keras.Model(inputs, outputs, name=f"{model.name}_{suffix}")


def view_shifts(model: keras.Model) -> tuple[tuple[int, int], ...]:
    """The shifts a ``with_flip_averaging`` model averages over, the image itself first (an
    older flip-averaged model, two calls of its network, has only that one)."""
    stacks = [layer for layer in model.layers if isinstance(layer, Views)]
    return stacks[0].shifts if stacks else NO_SHIFT


def unwrapped(model: keras.Model) -> keras.Model:
    """The network inside a ``with_flip_averaging`` model (either form), or the model itself."""
    inner = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    wrapped = any(isinstance(layer, (HorizontalFlip, Views)) for layer in model.layers)
    return inner[0] if wrapped and len(inner) == 1 else model


BUILDERS = {
    "dense": dense,
    "cnn": cnn,
    "cnn_dropout": cnn_dropout,
    "production": production,
}
COURSE_MODELS = ("dense", "cnn", "cnn_dropout")


def build(name: str, num_classes: int = NUM_CLASSES) -> keras.Model:
    """Build a model by name; an unknown name lists the known ones."""
    try:
        builder = BUILDERS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(BUILDERS)}") from None
    return builder(num_classes)
