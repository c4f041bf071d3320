"""One short real training run shared by the training and export tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory, fashion_mnist_dir):
    """A CNN trained for 2 epochs on 3,000 real Fashion-MNIST images: a real run folder."""
    from ml_training import data, train

    dataset = data.load(fashion_mnist_dir, limit=3000)
    runs_dir = tmp_path_factory.mktemp("runs")
    return train.train(
        "cnn", augmented=True, dataset=dataset, runs_dir=runs_dir, epochs=2, verbose=0
    )
