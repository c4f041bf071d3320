import json

import pytest

from ml_training import train

pytestmark = [pytest.mark.slow, pytest.mark.training]


def test_a_short_run_beats_chance_by_far_and_writes_its_folder(smoke_run):
    metrics = json.loads((smoke_run / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.6  # chance is 0.10
    assert metrics["train_images"] == 3000 and metrics["epochs_run"] == 2
    assert set(metrics["per_class_accuracy"]) >= {"Trouser", "Ankle boot"}
    assert (smoke_run / "model.keras").is_file() and (smoke_run / "history.json").is_file()
    history = json.loads((smoke_run / "history.json").read_text())
    assert len(history["val_accuracy"]) == 2


def test_cli_arguments():
    args = train.parse_args(["--model", "cnn_dropout", "--augment", "--data-dir", "x"])
    assert (args.model, args.augment, args.data_dir) == ("cnn_dropout", True, "x")
    assert train.parse_args(["--all"]).all
    with pytest.raises(SystemExit):
        train.parse_args([])
