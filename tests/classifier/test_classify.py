"""The classifier's public face and its per-process model cache."""

import numpy as np
import pytest

import classifier
from classifier import predictor


def test_classify_image_returns_a_label_its_name_and_the_probabilities(photo_bytes, tmp_path):
    result = classifier.classify_image(photo_bytes)
    classes = len(predictor.load(str(predictor.DEFAULT_MODEL_PATH)).card["classes"])
    assert classes <= len(classifier.LABELS)  # every class the model has, the store can name
    assert result.label < classes and result.label_name == classifier.LABELS[result.label].name
    assert len(result.probabilities) == classes and sum(result.probabilities) == pytest.approx(
        1, abs=1e-4
    )
    assert result.confidence == max(result.probabilities)
    path = tmp_path / "photo.jpg"
    path.write_bytes(photo_bytes)
    assert classifier.classify_image(path).probabilities == result.probabilities


def test_batch_gives_the_same_answers_as_one_by_one(fashion_test_set):
    from tests.conftest import render_as_photo

    images, _ = fashion_test_set
    photos = [render_as_photo(img) for img in images[:5]]
    batch = classifier.classify_images(photos)
    singles = [classifier.classify_image(p) for p in photos]
    for a, b in zip(batch, singles, strict=True):
        np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-5)


def test_model_is_loaded_once_per_process():
    first = predictor.load(str(predictor.DEFAULT_MODEL_PATH))
    assert predictor.load(str(predictor.DEFAULT_MODEL_PATH)) is first
    assert first.version == first.card["version"]


def test_batches_larger_than_the_interpreter_run_in_chunks():
    model = predictor.load(str(predictor.DEFAULT_MODEL_PATH))
    x = np.random.default_rng(0).random((predictor.BATCH_SIZE + 7, 28, 28), dtype=np.float32)
    probs = model.predict(x)
    assert probs.shape == (predictor.BATCH_SIZE + 7, model.num_classes)
    np.testing.assert_allclose(probs[-1], model.predict(x[-1:])[0], atol=1e-5)
    assert model.predict(np.zeros((0, 28, 28))).shape == (0, model.num_classes)


def test_missing_or_corrupt_model_says_which_file(tmp_path):
    with pytest.raises(predictor.ModelUnavailable, match="nothere.tflite not found"):
        predictor.load(str(tmp_path / "nothere.tflite"))
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(b"not a flatbuffer")
    with pytest.raises(predictor.ModelUnavailable, match="corrupt.tflite could not be loaded"):
        predictor.load(str(corrupt))


def test_a_card_being_replaced_makes_the_model_unavailable_for_a_moment(tmp_path):
    """ModelUnavailable is what the worker's tasks retry; a JSON error would fail them."""
    model = tmp_path / "model.tflite"
    model.write_bytes(predictor.DEFAULT_MODEL_PATH.read_bytes())
    (tmp_path / "model_card.json").write_text('{"version": "half-wri')
    with pytest.raises(predictor.ModelUnavailable, match="model card beside .* could not be read"):
        predictor.load(str(model))
    (tmp_path / "model_card.json").write_text('{"version": "whole"}')
    assert predictor.load(str(model)).version == "whole"


def test_check_photo_names_the_format(photo_bytes):
    assert classifier.check_photo(photo_bytes) == "JPEG"
    with pytest.raises(classifier.UnreadableImage):
        classifier.check_photo(b"GIF89a broken")


def test_model_cards_temperature_softens_answers_without_changing_them(tmp_path, fashion_test_set):
    import json
    import shutil

    from classifier import predictor

    images, _ = fashion_test_set
    x = images[:50].astype("float32") / 255
    served = predictor.load(str(predictor.DEFAULT_MODEL_PATH))
    shutil.copy(predictor.DEFAULT_MODEL_PATH, tmp_path / "model.tflite")
    card = {**served.card, "calibration": {"temperature": 2.0, "threshold": 0.7}}
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    hotter = predictor.load(str(tmp_path / "model.tflite"))
    base, soft = served.predict(x), hotter.predict(x)
    assert hotter.threshold == 0.7 and hotter.temperature == 2.0
    assert (soft.argmax(1) == base.argmax(1)).all()
    raw = predictor.soften(base, 1 / served.temperature)  # undo the served model's own scaling
    assert soft.max(1).mean() < raw.max(1).mean()
    assert abs(soft.sum(1) - 1).max() < 1e-5


def test_a_promoted_model_is_opened_again_by_a_running_process(tmp_path):
    import json
    import os
    import shutil

    shutil.copy(predictor.DEFAULT_MODEL_PATH, tmp_path / "model.tflite")
    card = tmp_path / "model_card.json"
    card.write_text(json.dumps({"version": "first"}))
    first = predictor.load(tmp_path / "model.tflite")
    assert predictor.load(str(tmp_path / "model.tflite")) is first and first.version == "first"
    card.write_text(json.dumps({"version": "promoted"}))
    os.utime(card, ns=(1, 1))  # a different modification time, whatever the clock's resolution
    assert predictor.load(tmp_path / "model.tflite").version == "promoted"
    # the replaced model is let go: a worker holds one model per path, not one per promotion
    assert [m.version for _, m in predictor._LOADED.values()].count("first") == 0
