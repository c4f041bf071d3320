"""The bench's arithmetic count: the ceiling it prints for batch inference rests on it."""

from __future__ import annotations

import keras

from benchmarks.serving import multiply_adds
from ml_training import architectures


def tiny_network() -> keras.Model:
    inputs = keras.Input(architectures.INPUT_SHAPE)
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(10)(x))


def test_multiply_adds_counts_convolutions_and_dense_layers() -> None:
    convolution = 28 * 28 * 4 * 3 * 3 * 1  # every output pixel, filter and kernel tap
    dense = 14 * 14 * 4 * 10
    assert multiply_adds(tiny_network()) == convolution + dense


def test_a_flip_averaged_model_costs_two_views() -> None:
    network = tiny_network()
    assert multiply_adds(architectures.with_flip_averaging(network)) == 2 * multiply_adds(network)
    shifted = architectures.with_flip_averaging(network, architectures.SHIFTS)
    assert multiply_adds(shifted) == 10 * multiply_adds(network)  # and ten with the shifts


def test_the_production_network_costs_what_the_bench_quotes() -> None:
    per_view = multiply_adds(architectures.production(num_classes=13))
    assert per_view == 46_733_056  # 47 M a view, as benchmarks/README.md says
