"""Load the exported model once per process and run it on batches of 28x28 inputs.

The store serves the TFLite/LiteRT file: it needs no TensorFlow import (start-up in well under a
second, a fraction of the memory) and has no per-call overhead for one image, unlike
``model.predict``. The model is opened lazily on first use, so a Celery prefork worker opens it in
each child after the fork. No Django here.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
DEFAULT_MODEL_PATH = ARTIFACTS_DIR / "model.tflite"
# The batch interpreter's fixed size; larger inputs run in chunks, smaller ones are padded to it.
# 16 divides CLASSIFY_BATCH_SIZE's default (64), so a task's batch runs with no padding. The
# served model stacks ten views of each image in its own batch (160 rows for 16 images), and
# XNNPACK is as fast from 32 rows up, while the tensor arena grows with the rows in every worker
# process: with 64 images (640 rows) a worker of two pool processes took 421 MB (PSS) instead
# of 261 MB with two views.
BATCH_SIZE = 16
DEFAULT_THRESHOLD = 0.6  # for a model card without a calibrated threshold


class ModelUnavailable(RuntimeError):
    """The model file is missing or unreadable; the message says which file and what to do."""


@dataclass
class LoadedModel:
    path: Path
    version: str
    card: dict
    _single: object  # LiteRT interpreter sized for one image
    _batch: object  # LiteRT interpreter sized for BATCH_SIZE images
    _lock: threading.Lock

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """(n, 28, 28) or (n, 28, 28, 1) float32 in [0, 1] → (n, classes) probabilities."""
        batch = np.asarray(inputs, dtype=np.float32).reshape(-1, 28, 28, 1)
        if len(batch) == 0:
            return np.zeros((0, self.num_classes), dtype=np.float32)
        with self._lock:  # an interpreter is not thread-safe
            if len(batch) == 1:
                return self.calibrate(self._run(self._single, batch))
            parts = []
            for start in range(0, len(batch), BATCH_SIZE):
                chunk = batch[start : start + BATCH_SIZE]
                padded = np.zeros((BATCH_SIZE, 28, 28, 1), dtype=np.float32)
                padded[: len(chunk)] = chunk
                parts.append(self._run(self._batch, padded)[: len(chunk)])
            return self.calibrate(np.concatenate(parts))

    @property
    def temperature(self) -> float:
        return card_temperature(self.card)

    @property
    def threshold(self) -> float:
        return card_threshold(self.card)

    def calibrate(self, probabilities: np.ndarray) -> np.ndarray:
        """Temperature scaling applied to the model's probabilities (its log-probabilities / T)."""
        if self.temperature == 1.0:
            return probabilities
        return soften(probabilities, self.temperature)

    @property
    def num_classes(self) -> int:
        return int(self._single.get_output_details()[0]["shape"][-1])

    @staticmethod
    def _run(interpreter, batch: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], batch)
        interpreter.invoke()
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy()


def soften(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T): the same ranking, confidence spread as on the calibration photos."""
    logits = np.log(np.clip(probabilities, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    scaled = np.exp(logits)
    return (scaled / scaled.sum(axis=-1, keepdims=True)).astype(np.float32)


def _interpreter(model_bytes: bytes, batch_size: int):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model_bytes, num_threads=1)
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, [batch_size, 28, 28, 1], strict=False)
    interpreter.allocate_tensors()
    return interpreter


def card_temperature(card: dict) -> float:
    """From the model card: > 1 softens an over-confident model (fitted on held-out photos)."""
    return float(card.get("calibration", {}).get("temperature", 1.0))


def card_threshold(card: dict) -> float:
    """The confidence the store needs to file a product, chosen from measured precision."""
    return float(card.get("calibration", {}).get("threshold", DEFAULT_THRESHOLD))


def card_groups(card: dict) -> tuple[frozenset[int], ...]:
    """Classes the photos taught and measured only as one (clothing-photos has a single "shoes"
    folder for sandal, sneaker and ankle boot): the threshold's precision holds for the group,
    not for the class within it, so the store files them under the group's common category."""
    groups = card.get("calibration", {}).get("groups") or []
    return tuple(frozenset(int(index) for index in group) for group in groups)


def read_model_card(model_path: Path) -> dict:
    card_path = model_path.parent / "model_card.json"
    return json.loads(card_path.read_text()) if card_path.is_file() else {}


def load(model_path: str | Path = DEFAULT_MODEL_PATH) -> LoadedModel:
    """The per-process model cache: one LoadedModel per path, opened on first use.

    Opened again when the file or its card changes: promoting a model replaces them under a
    running store and its workers, and ``classify_pending --all`` must then run the new model,
    not the one a worker opened at its start. (A stat of two files per call; the model is not
    re-read while they stay as they are.) The model it replaces is dropped, not kept beside it.
    """
    path = str(model_path)
    version = _file_version(Path(path))
    cached = _LOADED.get(path)
    if cached is None or cached[0] != version:
        _LOADED[path] = cached = (version, _open(path))
    return cached[1]


_LOADED: dict[str, tuple[tuple, LoadedModel]] = {}  # path → (files' version, model)


def _file_version(path: Path) -> tuple:
    versions = []
    for file in (path, path.parent / "model_card.json"):
        try:
            stat = file.stat()
            versions.append((stat.st_mtime_ns, stat.st_size))
        except OSError:
            versions.append(None)
    return tuple(versions)


def _open(model_path: str) -> LoadedModel:
    path = Path(model_path)
    if not path.is_file():
        raise ModelUnavailable(
            f"model file {path} not found; export one with `python -m ml_training.export RUN` "
            "or set CLASSIFIER_MODEL_PATH"
        )
    model_bytes = path.read_bytes()
    try:
        single, batch = _interpreter(model_bytes, 1), _interpreter(model_bytes, BATCH_SIZE)
    except (ValueError, RuntimeError) as exc:
        raise ModelUnavailable(f"model file {path} could not be loaded ({exc})") from exc
    try:
        card = read_model_card(path)
    except (OSError, ValueError) as exc:  # being replaced: the worker's task retries
        raise ModelUnavailable(f"model card beside {path} could not be read ({exc})") from exc
    version = card.get("version") or hashlib.sha256(model_bytes).hexdigest()[:12]
    return LoadedModel(path, version, card, single, batch, threading.Lock())


load.cache_clear = _LOADED.clear  # type: ignore[attr-defined]  # before a worker forks
