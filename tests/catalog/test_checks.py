"""System checks: ``manage.py check`` and every start say what would otherwise fail quietly."""

from __future__ import annotations

import shutil

from django.core.management import call_command

from catalog.checks import model_is_in_place


def test_a_missing_model_is_said_at_start(settings, tmp_path, capsys):
    assert model_is_in_place() == []  # the committed model
    settings.PERCHA = {**settings.PERCHA, "MODEL_PATH": tmp_path / "nonexistent" / "model.tflite"}
    (warning,) = model_is_in_place()
    assert warning.id == "catalog.W002" and "does not exist" in warning.msg
    assert "stay pending" in warning.msg and "CLASSIFIER_MODEL_PATH" in warning.hint
    call_command("check")
    assert "catalog.W002" in capsys.readouterr().err


def test_an_unreadable_card_is_said_too(settings, tmp_path):
    served = settings.PERCHA["MODEL_PATH"]
    shutil.copy(served, tmp_path / "model.tflite")
    (tmp_path / "model_card.json").write_text("{ half a card")
    settings.PERCHA = {**settings.PERCHA, "MODEL_PATH": tmp_path / "model.tflite"}
    (warning,) = model_is_in_place()
    assert "model card" in warning.msg and "cannot be read" in warning.msg
