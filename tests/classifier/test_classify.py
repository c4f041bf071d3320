"""The classifier's public face and its per-process model cache."""

import numpy as np
import pytest

import classifier
from classifier import predictor


def test_classify_image_returns_a_label_its_name_and_ten_probabilities(photo_bytes, tmp_path):
    result = classifier.classify_image(photo_bytes)
    assert 0 <= result.label < 10 and result.label_name == classifier.LABELS[result.label].name
    assert len(result.probabilities) == 10 and sum(result.probabilities) == pytest.approx(
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
    assert probs.shape == (predictor.BATCH_SIZE + 7, 10)
    np.testing.assert_allclose(probs[-1], model.predict(x[-1:])[0], atol=1e-5)
    assert model.predict(np.zeros((0, 28, 28))).shape == (0, 10)


def test_missing_or_corrupt_model_says_which_file(tmp_path):
    with pytest.raises(predictor.ModelUnavailable, match="nothere.tflite not found"):
        predictor.load(str(tmp_path / "nothere.tflite"))
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(b"not a flatbuffer")
    with pytest.raises(predictor.ModelUnavailable, match="corrupt.tflite could not be loaded"):
        predictor.load(str(corrupt))


def test_check_photo_names_the_format(photo_bytes):
    assert classifier.check_photo(photo_bytes) == "JPEG"
    with pytest.raises(classifier.UnreadableImage):
        classifier.check_photo(b"GIF89a broken")
