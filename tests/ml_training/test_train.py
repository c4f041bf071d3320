import json

import keras
import numpy as np
import pytest

from ml_training import architectures, hardware, train


@pytest.mark.slow
@pytest.mark.training
def test_a_short_run_beats_chance_by_far_and_writes_its_folder(smoke_run):
    metrics = json.loads((smoke_run / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.6  # chance is 0.10
    assert metrics["train_images"] == 3000 and metrics["epochs_run"] == 2
    assert set(metrics["per_class_accuracy"]) >= {"Trouser", "Ankle boot"}
    assert (smoke_run / "model.keras").is_file() and (smoke_run / "history.json").is_file()
    history = json.loads((smoke_run / "history.json").read_text())
    assert len(history["val_accuracy"]) == 2


def test_a_network_trained_in_bfloat16_is_saved_as_float32_with_the_same_weights():
    with train.dtype_policy("mixed_bfloat16"):
        mixed = architectures.production()
    assert keras.mixed_precision.global_policy().name == "float32"  # restored
    plain = train.rebuilt(mixed, "production", architectures.NUM_CLASSES, "float32")
    assert (mixed.dtype_policy.name, plain.dtype_policy.name) == ("mixed_bfloat16", "float32")
    for ours, theirs in zip(mixed.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    x = np.random.default_rng(0).random((16, 28, 28, 1)).astype(np.float32)
    answers = keras.ops.convert_to_numpy(mixed(x))
    assert answers.dtype == np.float32  # the output layer computes in float32
    np.testing.assert_allclose(answers, plain(x), atol=0.02)  # bfloat16's 8-bit mantissa
    assert train.rebuilt(plain, "production", architectures.NUM_CLASSES, "float32") is plain


def test_bfloat16_only_for_recipes_that_ask_and_only_on_cpus_that_compute_it(monkeypatch):
    production, cnn = train.RECIPES["production"], train.RECIPES["cnn"]
    monkeypatch.setattr(hardware, "native_bfloat16", lambda: False)  # an AVX2-only CPU
    assert train.training_policy(production) == "float32"
    monkeypatch.setattr(hardware, "native_bfloat16", lambda: True)  # AMX or AVX-512 BF16
    assert train.training_policy(production) == "mixed_bfloat16"
    assert train.training_policy(cnn) == "float32"


def test_cli_arguments():
    args = train.parse_args(["--model", "cnn_dropout", "--augment", "--data-dir", "x"])
    assert (args.model, args.augment, args.data_dir) == ("cnn_dropout", True, "x")
    assert train.parse_args(["--all"]).all
    with pytest.raises(SystemExit):
        train.parse_args([])
