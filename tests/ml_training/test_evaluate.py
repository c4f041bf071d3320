"""The figures written to every run and model card."""

from __future__ import annotations

import numpy as np

from ml_training.evaluate import classification_metrics


def test_a_class_the_test_set_lacks_gets_no_per_class_figure():
    """A fine-tuned model has classes Fashion-MNIST's test set has no image of (hat, shorts,
    skirt): their accuracy is unknown, not 0%."""
    labels = np.array([0, 0, 1, 9])
    probabilities = np.full((4, 13), 0.01, np.float32)
    probabilities[np.arange(4), [0, 10, 1, 9]] = 0.9  # one T-shirt called a hat
    metrics = classification_metrics(probabilities, labels)
    assert metrics["per_class_accuracy"] == {"T-shirt/top": 0.5, "Trouser": 1.0, "Ankle boot": 1.0}
    assert metrics["accuracy"] == 0.75
    assert np.array(metrics["confusion_matrix"]).shape == (13, 13)
