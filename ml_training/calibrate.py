"""Confidence that means what it says: temperature scaling and the store's threshold.

Both are fitted on photos the model did not train on and stored in the model card, which the
store reads (``classifier.predictor``): the temperature rescales every answer, the threshold is
the confidence a product needs to be filed without a person looking at it.
"""

from __future__ import annotations

import numpy as np

from classifier.evaluate_photos import (
    FOLDER_CLASSES,
    STORE_CLASSES,
    Answers,
    coverage_at_precision,
)
from classifier.predictor import soften

TEMPERATURES = np.exp(np.linspace(np.log(0.5), np.log(5.0), 91))


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature with the lowest cross-entropy on held-out labelled examples."""
    rows = np.arange(len(labels))

    def nll(t: float) -> float:
        return float(-np.mean(np.log(soften(probabilities, t)[rows, labels] + 1e-12)))

    return float(min(TEMPERATURES, key=nll))


def choose_threshold(
    probabilities: np.ndarray,
    folders: list[str],
    precision: float,
    answers: Answers = FOLDER_CLASSES,
    store: frozenset[int] = STORE_CLASSES,
    floor: float = 0.5,
) -> float:
    """The lowest confidence at which what the store files is right at least ``precision``.

    ``answers`` and ``store`` as in ``classifier.evaluate_photos.evaluate`` (a store's own label
    set); ``floor``: never file a product the model gives less than even odds, whatever the sample.
    """
    _, threshold = coverage_at_precision(probabilities, folders, precision, answers, store)
    return max(float(threshold), floor)
