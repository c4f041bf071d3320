"""Export round trip on a real run, and the committed model against its targets."""

import json
import shutil

import keras
import numpy as np
import pytest

from classifier import predictor
from ml_training import architectures, data, evaluate, export, finetune, report
from ml_training.labels import CLASS_NAMES


@pytest.mark.slow
@pytest.mark.training
@pytest.mark.parametrize("flip_averaging", [False, True])
def test_export_round_trip_gives_the_same_probabilities(
    smoke_run, tmp_path, fashion_mnist_dir, flip_averaging
):
    card = export.export(
        smoke_run, str(fashion_mnist_dir), tmp_path, flip_averaging=flip_averaging, web=False
    )
    assert card["flip_averaging"] is flip_averaging
    assert {p.name for p in tmp_path.iterdir()} == {
        "model.keras",
        "model.tflite",
        "model_card.json",
    }
    assert json.loads((tmp_path / "model_card.json").read_text()) == card
    assert len(card["classes"]) == 10 and card["input"]["shape"] == [28, 28, 1]
    assert card["data"]["sha256"] == data.load(fashion_mnist_dir, limit=1).checksum
    test = data.load(fashion_mnist_dir).test
    served = predictor.load(str(tmp_path / "model.tflite")).predict(test.x[:2000])
    run_model = keras.models.load_model(smoke_run / "model.keras")
    mirrored = run_model(test.x[:2000, :, ::-1], training=False) if flip_averaging else None
    keras_probs = evaluate.predict_probabilities(run_model, test.x[:2000])
    if flip_averaging:
        keras_probs = (keras_probs + np.asarray(mirrored)) / 2
    assert np.abs(served - keras_probs).max() < 1e-4


@pytest.mark.slow
@pytest.mark.training
def test_a_run_measured_on_ten_views_is_served_with_them(smoke_run, tmp_path, fashion_mnist_dir):
    """A fine-tuned run records the views its figures and calibration are of: the export
    serves those, flag or no flag, and the card says so."""
    run = tmp_path / "run"
    shutil.copytree(smoke_run, run)
    metrics = json.loads((run / "metrics.json").read_text())
    metrics["views"] = {"flip": True, "shifts": [list(s) for s in architectures.SHIFTS]}
    (run / "metrics.json").write_text(json.dumps(metrics))
    card = export.export(run, str(fashion_mnist_dir), tmp_path / "out", web=False)
    assert card["flip_averaging"] is True and card["shifts"] == metrics["views"]["shifts"]
    x = data.load(fashion_mnist_dir).test.x[:500]
    served = predictor.load(str(tmp_path / "out" / "model.tflite")).predict(x)
    inner = keras.models.load_model(smoke_run / "model.keras")
    expected = evaluate.served_probabilities(inner, x, architectures.SHIFTS)
    assert np.abs(served - expected).max() < 1e-4
    flip_only = evaluate.served_probabilities(inner, x)
    assert np.abs(served - flip_only).max() > 1e-3  # the shifts are in the served graph


@pytest.mark.slow
@pytest.mark.training
def test_export_does_not_replace_a_better_served_model(smoke_run, tmp_path, fashion_mnist_dir):
    better = {"version": "better", "metrics": {"test_accuracy": 0.99}}
    (tmp_path / "model_card.json").write_text(json.dumps(better))
    with pytest.raises(export.ExportError, match="not promoted.*0.9900 of the served better"):
        export.export(smoke_run, str(fashion_mnist_dir), tmp_path, web=False)
    assert not (tmp_path / "model.tflite").exists()  # nothing written
    card = export.export(smoke_run, str(fashion_mnist_dir), tmp_path, force=True, web=False)
    assert json.loads((tmp_path / "model_card.json").read_text()) == card


def test_promotion_compares_fashion_mnist_and_the_same_held_out_photos():
    served = {
        "version": "v1",
        "metrics": {"test_accuracy": 0.94, "held_out_photos": {"accuracy": 0.70}},
        "calibration": {"fitted_on": "460 photos held out of train"},
    }
    run = {
        "held_out_photos": {"new": {"accuracy": 0.72}},
        "calibration": {"fitted_on": "460 photos held out of train"},
    }
    assert export.promotion_refusals(run, 0.941, served) == []
    assert "Fashion-MNIST" in export.promotion_refusals(run, 0.939, served)[0]
    worse_on_photos = {**run, "held_out_photos": {"new": {"accuracy": 0.69}}}
    assert "held-out photo accuracy" in export.promotion_refusals(worse_on_photos, 0.95, served)[0]
    assert "not measured on held-out photos" in export.promotion_refusals({}, 0.95, served)[0]
    elsewhere = {**run, "calibration": {"fitted_on": "another folder"}}
    assert "not the served model's" in export.promotion_refusals(elsewhere, 0.95, served)[0]
    assert export.promotion_refusals({}, 0.5, {}) == []  # nothing served yet


def test_held_out_photos_are_matched_by_their_files_where_both_recorded_them():
    """A relative and an absolute path to one folder are the same photos; the same description
    with other files is not (and cards from before the digest fall back to the description)."""
    served = {"fitted_on": "460 photos held out of ../shared/train", "held_out_sha256": "abc"}
    absolute = {"fitted_on": "460 photos held out of /work/shared/train", "held_out_sha256": "abc"}
    assert export.same_held_out_photos(served, absolute)
    assert not export.same_held_out_photos(served, {**served, "held_out_sha256": "def"})
    older = {"fitted_on": served["fitted_on"]}
    assert export.same_held_out_photos(older, served)
    assert not export.same_held_out_photos(older, absolute)


def test_a_retraining_on_the_stores_photos_is_compared_on_its_own_held_out_photos():
    """The store's photos are held out of another folder; the run measured the served model
    (its base) on them, so that is the comparison (#8: a worse model is refused)."""
    served = {
        "version": "v1",
        "metrics": {"test_accuracy": 0.94, "held_out_photos": {"accuracy": 0.70}},
        "calibration": {"fitted_on": "460 photos held out of train"},
    }
    run = {
        "base": "classifier/artifacts/model.keras (v1)",
        "base_version": "v1",
        "held_out_photos": {"new": {"accuracy": 0.80}, "base": {"accuracy": 0.75}},
        "calibration": {"fitted_on": "40 photos held out of /tmp/store-export"},
    }
    assert export.promotion_refusals(run, 0.941, served) == []
    worse = {**run, "held_out_photos": {"new": {"accuracy": 0.74}, "base": {"accuracy": 0.75}}}
    assert (
        "0.7500 of the served v1 on the same photos"
        in export.promotion_refusals(worse, 0.941, served)[0]
    )
    paired = {"only_base_right": 5, "only_new_right": 3, "p_value": 0.73}
    told = {**worse, "comparison": {"held_out_paired": paired}}
    assert export.promotion_refusals(told, 0.941, served)[0].endswith(
        "on the same photos (only the served model right on 5 photos, only the new model on 3: "
        "exact McNemar p = 0.73)"
    )
    from_another_base = {**run, "base": "ml_training/runs/v1/model.keras", "base_version": None}
    assert (
        "not the served model's" in export.promotion_refusals(from_another_base, 0.941, served)[0]
    )


def test_export_refuses_an_unfinished_run(tmp_path):
    with pytest.raises(export.ExportError, match="metrics.json not found"):
        export.export(tmp_path)


@pytest.fixture(scope="module")
def committed_card():
    return json.loads((predictor.ARTIFACTS_DIR / "model_card.json").read_text())


# The target, 94.5%: the committed model (the production network fine-tuned on real
# photos) reaches 94.57% (ml_training/reports/results.md), seven test images over it.
COMMITTED_MODEL_FLOOR = report.TARGETS["production"]


def test_committed_model_keeps_its_accuracy_on_the_real_test_set(fashion_mnist_dir, committed_card):
    """The model the store serves, run the way the store runs it, on all 10,000 test images."""
    test = data.load(fashion_mnist_dir).test
    served = predictor.load(str(predictor.DEFAULT_MODEL_PATH))
    probabilities = served.predict(test.x)  # temperature-scaled, as the store uses them
    accuracy = float((probabilities.argmax(1) == test.y).mean())
    assert accuracy >= COMMITTED_MODEL_FLOOR
    assert accuracy == pytest.approx(committed_card["metrics"]["test_accuracy"], abs=1e-4)
    keras_model = keras.models.load_model(predictor.ARTIFACTS_DIR / "model.keras")
    keras_probs = predictor.soften(
        evaluate.predict_probabilities(keras_model, test.x), served.temperature
    )
    assert np.abs(keras_probs - probabilities).max() < 1e-4


def test_the_committed_fashion_mnist_production_model_reaches_its_target(fashion_mnist_dir):
    """The production run as exported (flip-averaged), committed as the base of fine-tuning:
    the issue's 94.5%, trained in at most 45 minutes, on all 10,000 test images."""
    folder = finetune.FASHION_MNIST_MODEL
    card = json.loads((folder / "model_card.json").read_text())
    test = data.load(fashion_mnist_dir).test
    probabilities = export.tflite_probabilities((folder / "model.tflite").read_bytes(), test.x)
    accuracy = float((probabilities.argmax(1) == test.y).mean())
    assert accuracy >= COMMITTED_MODEL_FLOOR
    assert accuracy == pytest.approx(card["metrics"]["test_accuracy"], abs=1e-4)
    assert card["flip_averaging"] and card["training"]["seconds"] <= 45 * 60  # as recorded
    assert [c["name"] for c in card["classes"]] == list(CLASS_NAMES)


def test_committed_model_card_describes_the_files(committed_card):
    import hashlib

    for name, info in committed_card["formats"].items():
        digest = hashlib.sha256((predictor.ARTIFACTS_DIR / name).read_bytes()).hexdigest()
        assert digest == info["sha256"], f"{name} changed without a new model card"
    assert committed_card["code_version"] and committed_card["exported_at"]
    assert [c["name"] for c in committed_card["classes"]][:2] == ["T-shirt/top", "Trouser"]


def test_the_card_lists_classes_as_dicts_whether_the_run_wrote_names_or_dicts():
    assert export.card_classes(["T-shirt/top", "Trouser"]) == [
        {"index": 0, "name": "T-shirt/top"},
        {"index": 1, "name": "Trouser"},
    ]
    faldas = {"index": 1, "name": "Faldas", "slug": "faldas", "name_es": "Faldas"}
    assert export.card_classes([{"index": 0, "name": "T-shirt/top"}, faldas])[1] == faldas
    with pytest.raises(export.ExportError, match="needs index 0"):
        export.card_classes([faldas])


def test_int8_weights_make_a_quarter_of_the_file_with_nearly_the_same_answers():
    """The bench's 2g reference: weights stored as int8, activations quantized per image."""
    inputs = keras.Input((28, 28, 1))
    hidden = keras.layers.Dense(64, activation="relu")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(hidden))
    x = np.random.default_rng(0).random((64, 28, 28, 1)).astype(np.float32)
    full, int8 = export.to_tflite(model), export.to_tflite(model, int8_weights=True)
    assert len(int8) < len(full) / 3
    difference = export.tflite_probabilities(int8, x) - export.tflite_probabilities(full, x)
    assert 0 < np.abs(difference).max() < 0.02
    alone = export.tflite_probabilities(int8, x[:1], batch_size=1)
    np.testing.assert_array_equal(alone, export.tflite_probabilities(int8, x)[:1])
