"""The figures written to every run and model card."""

from __future__ import annotations

import numpy as np

from ml_training.evaluate import classification_metrics, paired_comparison, paired_summary


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


def test_the_paired_comparison_counts_the_photos_only_one_model_gets_right():
    """The refused retraining of 2026-12-05 (discussion.md): 5 photos only the served model got
    right, 3 only the new one; the exact two-sided binomial tail of 3 of 8 is 2 * 93 / 256."""
    base = np.array([True] * 5 + [False] * 3 + [True] * 10 + [False] * 2)
    new = np.array([False] * 5 + [True] * 3 + [True] * 10 + [False] * 2)
    paired = paired_comparison(base, new)
    assert (paired["only_base_right"], paired["only_new_right"]) == (5, 3)
    assert paired["p_value"] == 2 * 93 / 256
    assert (
        "only the served model right on 5 photos, only the new model on 3: exact McNemar p = 0.73"
        in (paired_summary(paired, "the served model"))
    )
    assert paired_comparison(base, base)["p_value"] == 1.0  # no photo tells them apart
    lopsided = paired_comparison(np.zeros(8, bool), np.ones(8, bool))
    assert lopsided["p_value"] == 2 / 256  # 8 to 0: not chance
    assert paired_comparison(np.array([True, False]), np.array([False, True]))["p_value"] == 1.0
