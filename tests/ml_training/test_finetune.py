"""Fine-tuning on real photos: new classes, known ones kept, calibration written to the run."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from ml_training import calibrate, finetune, photos
from tests.conftest import CLOTHING_PHOTOS_DIR


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    """Three real photos of each of the ten clothing-photos folders (links, not copies)."""
    root = tmp_path_factory.mktemp("photos")
    for folder in photos.FOLDER_LABELS:
        (root / folder).mkdir()
        for path in sorted((CLOTHING_PHOTOS_DIR / "train" / folder).glob("*.jpg"))[:3]:
            (root / folder / path.name).symlink_to(path)
    return root


def test_new_classes_start_unlikely_and_known_ones_keep_their_weights():
    base = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")]
    )
    wider = finetune.with_new_classes(base, 13)
    x = np.random.default_rng(0).random((8, 28, 28, 1)).astype(np.float32)
    before, after = base.predict(x, verbose=0), wider.predict(x, verbose=0)
    assert after.shape == (8, 13)
    np.testing.assert_array_equal(after[:, :10].argmax(1), before.argmax(1))
    assert after[:, 10:].max() < after[:, :10].max(axis=1).min()


def test_photo_like_variants_change_the_shot_but_not_its_size():
    rng = np.random.default_rng(0)
    photo = np.full((120, 90, 3), 200, np.uint8)
    photo[30:90, 20:70] = (40, 40, 140)
    variants = [photos.photo_like_variant(photo, rng) for _ in range(4)]
    assert all(v.shape == photo.shape and v.dtype == np.uint8 for v in variants)
    assert all(np.abs(v.astype(int) - photo).mean() > 2 for v in variants)
    assert len({v.tobytes() for v in variants}) == 4


def test_holdout_keeps_a_photos_variants_together_and_takes_every_folder(photo_folder):
    loaded = photos.load_folder(photo_folder, variants=1, workers=1)
    assert loaded.x.shape == (60, 28, 28, 1) and set(loaded.y) == {-1, 0, 1, 2, 3, 4, 6, 10, 11, 12}
    kept, held = photos.holdout(loaded, 0.34)
    assert not set(kept.photo) & set(held.photo)
    assert set(held.folder) == set(photos.FOLDER_LABELS)
    assert len(photos.originals(held).y) == len(set(held.photo))
    probabilities = np.zeros((len(loaded.y), 13), np.float32)
    probabilities[:, 7] = 1  # the model sees sneakers
    labelled = photos.label_shoes(loaded, probabilities)
    assert set(labelled.y[loaded.folder == "shoes"]) == {7} and -1 not in labelled.y


def test_temperature_softens_an_overconfident_model_and_the_threshold_meets_its_precision():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 400)
    right = rng.random(400) < 0.7  # 70% right, but always 99% sure
    predicted = np.where(right, labels, (labels + 1) % 10)
    probabilities = np.full((400, 13), 0.01 / 12, np.float32)
    probabilities[np.arange(400), predicted] = 0.99
    assert calibrate.fit_temperature(probabilities, labels) > 1.5
    folders = np.array(["t-shirt", "pants", "longsleeve", "dress", "outwear", "shoes", "shirt"])
    assert calibrate.choose_threshold(probabilities, list(folders[labels % 7]), 0.9) == 1.0


@pytest.mark.slow
@pytest.mark.training
def test_a_short_fine_tuning_adds_the_new_classes_and_writes_a_calibrated_run(
    smoke_run, photo_folder, fashion_mnist_dir, tmp_path
):
    from ml_training import data

    dataset = data.load(fashion_mnist_dir, limit=2000)
    run = finetune.finetune(
        photo_folder, smoke_run / "model.keras", dataset, tmp_path, epochs=1, variants=1
    )
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["classes"][10:] == ["Hat", "Shorts", "Skirt"]
    assert metrics["test_accuracy"] > 0.6  # Fashion-MNIST kept (chance: 0.10)
    assert 0.5 <= metrics["calibration"]["threshold"] <= 1.0
    assert metrics["calibration"]["temperature"] > 0
    model = keras.models.load_model(run / "model.keras", compile=False)
    assert model.output_shape == (None, 13)
