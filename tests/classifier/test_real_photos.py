"""The served model on real photos (``clothing-photos/validation``), as the store decides."""

from __future__ import annotations

import numpy as np
import pytest

from classifier import evaluate_photos, predictor
from tests.conftest import CLOTHING_PHOTOS_DIR


@pytest.fixture(scope="module")
def result():
    photos = evaluate_photos.load_photos(CLOTHING_PHOTOS_DIR / "validation")
    model = predictor.load(str(predictor.DEFAULT_MODEL_PATH))
    return evaluate_photos.evaluate(model.predict(photos.inputs), photos.folders, model.threshold)


def test_garments_with_a_store_class_are_recognised(result):
    assert result["known_photos"] == 290
    assert result["accuracy"] >= evaluate_photos.TARGETS["accuracy"]


def test_what_the_store_files_on_its_own_is_right_and_enough(result):
    assert result["coverage"] >= evaluate_photos.TARGETS["coverage"]
    assert result["precision"] >= evaluate_photos.TARGETS["precision"]


def test_hats_shorts_and_skirts_wait_for_a_person(result):
    assert result["unknown_photos"] == 51
    assert result["unknown_held"] >= evaluate_photos.TARGETS["unknown_held"]


def test_store_rule_files_only_confident_store_classes():
    probabilities = np.array(
        [
            [0.9, 0.1] + [0.0] * 11,  # a confident T-shirt: filed
            [0.5, 0.5] + [0.0] * 11,  # unsure: review
            [0.0] * 10 + [0.95, 0.05, 0.0],  # a confident hat: no store class, review
        ]
    )
    top, filed = evaluate_photos.decisions(probabilities, threshold=0.6)
    assert top.tolist() == [0, 0, 10] and filed.tolist() == [True, False, False]


def test_coverage_at_precision_picks_the_loosest_threshold_that_keeps_precision():
    folders = ["t-shirt"] * 10
    probabilities = np.zeros((10, 13))
    for i, confidence in enumerate(np.linspace(0.55, 0.99, 10)):
        label = 0 if i >= 2 else 1  # the two least confident answers are wrong
        probabilities[i, label] = confidence
    coverage, threshold = evaluate_photos.coverage_at_precision(probabilities, folders, goal=0.9)
    # filing from the second answer on would be 8/9 right (< 90%): the threshold is the third's
    assert coverage == pytest.approx(0.8)
    assert threshold == pytest.approx(np.linspace(0.55, 0.99, 10)[2])
