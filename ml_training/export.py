"""Promote a training run into ``classifier/artifacts/``: the files the store serves.

    python -m ml_training.export ml_training/runs/production-augmented

Writes ``model.keras`` (the Keras model), ``model.tflite`` (what the store runs: LiteRT, no
TensorFlow needed at serving time), ``model_card.json`` (classes, input spec, data checksum,
metrics, date, code version, file checksums, and the measured agreement between the formats) and
``web/`` (the same model for the browser, TensorFlow.js, with a copy of the card: see
``ml_training.export_web``; ``--no-web`` leaves it out, e.g. where ``.venv-web`` is not built).
Refuses to write anything if the formats disagree by more than ``TOLERANCE`` on the test set.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from ml_training import architectures, data, evaluate, export_web
from ml_training.labels import CLASS_NAMES

ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "classifier" / "artifacts"
TOLERANCE = 1e-4


class ExportError(RuntimeError):
    """The exported formats do not agree, or the run folder is incomplete."""


def to_tflite(model: keras.Model, int8_weights: bool = False) -> bytes:
    """Convert to a TFLite flatbuffer with a resizable batch dimension: float32, or with int8
    weights and activations quantized per image at run time (dynamic range; the bench's
    reference for CPUs with int8 dot products, not what the store serves)."""
    with tempfile.TemporaryDirectory() as tmp:
        model.export(tmp, format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        if int8_weights:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        return converter.convert()


def tflite_probabilities(tflite_bytes: bytes, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Run a TFLite model the way the store does (LiteRT interpreter, fixed-size batches)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=tflite_bytes)
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, [batch_size, *x.shape[1:]], strict=False)
    interpreter.allocate_tensors()
    out_index = interpreter.get_output_details()[0]["index"]
    parts = []
    for start in range(0, len(x), batch_size):
        chunk = x[start : start + batch_size]
        padded = np.zeros((batch_size, *x.shape[1:]), dtype=np.float32)
        padded[: len(chunk)] = chunk
        interpreter.set_tensor(index, padded)
        interpreter.invoke()
        parts.append(interpreter.get_tensor(out_index)[: len(chunk)].copy())
    return np.concatenate(parts)


def write_atomically(path: Path, data: bytes) -> None:
    """Write beside ``path``, then rename over it: a running store and its workers re-open the
    served files when they change, and must never read half of one."""
    partial = path.with_name(f".{path.name}.new")
    partial.write_bytes(data)
    partial.replace(path)


def promotion_refusals(metrics: dict, test_accuracy: float, current: dict) -> list[str]:
    """Why a run may not replace the served model: it is worse on Fashion-MNIST or on photos.

    Photos are compared on the held-out photos both were calibrated on (the same folder and
    seed give the same split) or, for a run fine-tuned from the served model on other photos
    (the store's own), on the run's held-out photos, where it measured the served model too.
    A model measured on no photos cannot replace one that was.
    """
    reasons = []
    served = current.get("metrics", {}).get("test_accuracy")
    if served is not None and test_accuracy < served:
        reasons.append(
            f"Fashion-MNIST test accuracy {test_accuracy:.4f} < {served:.4f} of the served "
            f"{current.get('version')}"
        )
    served_photos = current.get("metrics", {}).get("held_out_photos")
    new_photos = metrics.get("held_out_photos", {}).get("new")
    if served_photos and not new_photos:
        reasons.append("the run was not measured on held-out photos; the served model was")
    elif served_photos and new_photos:
        same_split = same_held_out_photos(
            current.get("calibration", {}), metrics.get("calibration", {})
        )
        base_photos = metrics.get("held_out_photos", {}).get("base")
        from_served = bool(current.get("version")) and current["version"] == metrics.get(
            "base_version"
        )
        paired = metrics.get("comparison", {}).get("held_out_paired")
        # how lopsided the difference is, where the run measured the served model itself
        why = (
            f" ({evaluate.paired_summary(paired, 'the served model')})"
            if from_served and paired
            else ""
        )
        if not same_split and from_served and base_photos:
            # a retraining on the store's own photos: its held-out photos are not those the
            # served model was calibrated on, but the run measured the served model on them
            if new_photos["accuracy"] < base_photos["accuracy"]:
                reasons.append(
                    f"held-out photo accuracy {new_photos['accuracy']:.4f} < "
                    f"{base_photos['accuracy']:.4f} of the served {current['version']} on the "
                    f"same photos{why}"
                )
        elif not same_split:
            reasons.append("the run's held-out photos are not the served model's; compare by hand")
        elif new_photos["accuracy"] < served_photos["accuracy"]:
            reasons.append(
                f"held-out photo accuracy {new_photos['accuracy']:.4f} < "
                f"{served_photos['accuracy']:.4f} of the served {current.get('version')}{why}"
            )
    return reasons


def same_held_out_photos(served: dict, run: dict) -> bool:
    """Whether two calibrations were fitted on the same held-out photos: by the digest of the
    photo files where both recorded one, else (cards from before it) by their description."""
    if served.get("held_out_sha256") and run.get("held_out_sha256"):
        return served["held_out_sha256"] == run["held_out_sha256"]
    return served.get("fitted_on") == run.get("fitted_on")


def card_classes(classes: list[str | dict]) -> list[dict]:
    """The card's classes, {"index", "name", ...} dicts in index order (the store reads them).

    A run lists its classes as names (``ml_training.train``, older fine-tuning runs) or as such
    dicts with the store's slug and names (``ml_training.finetune``); both are accepted.
    """
    entries = []
    for i, item in enumerate(classes):
        entry = {"name": item} if isinstance(item, str) else dict(item)
        if entry.setdefault("index", i) != i or not entry.get("name"):
            raise ExportError(f"class {item!r} at position {i}: needs index {i} and a name")
        entries.append({"index": i, "name": entry.pop("name"), **entry})
    return entries


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export(
    run_dir: Path,
    data_dir: str | None = None,
    out_dir: Path = ARTIFACTS_DIR,
    flip_averaging: bool = False,
    force: bool = False,
    web: bool = True,
) -> dict:
    """Check, convert and write the artifacts; returns the model card.

    ``flip_averaging`` exports the run's model wrapped so that it averages its answers on the
    image and its mirror image (see ``architectures.with_flip_averaging``). A run that records
    the views it was measured and calibrated on (``views``: ``ml_training.finetune``) is served
    with exactly those, whatever ``flip_averaging`` says. A model already in
    ``out_dir`` is only replaced by one at least as good (``promotion_refusals``), unless
    ``force``. ``web`` also writes the browser's copy into ``out_dir / "web"``; it needs the
    converter's virtualenv, checked before anything is written.
    """
    metrics_path, model_path = run_dir / "metrics.json", run_dir / "model.keras"
    for needed in (metrics_path, model_path):
        if not needed.is_file():
            raise ExportError(f"{needed} not found: is {run_dir} a finished training run?")
    if web:
        try:
            export_web.require_converter()
        except export_web.WebExportError as exc:
            raise ExportError(str(exc)) from None
    metrics = json.loads(metrics_path.read_text())
    model = keras.models.load_model(model_path, compile=False)  # no optimizer state
    views = metrics.get("views") or {"flip": flip_averaging, "shifts": [[0, 0]]}
    shifts = tuple(tuple(s) for s in views["shifts"])
    if views["flip"]:
        model = architectures.with_flip_averaging(model, shifts)
    elif shifts != architectures.NO_SHIFT:
        raise ExportError(f"{metrics_path}: shifts without mirror images are not served")
    test = data.load(data_dir).test

    keras_probs = evaluate.predict_probabilities(model, test.x)
    tflite_bytes = to_tflite(model)
    tflite_probs = tflite_probabilities(tflite_bytes, test.x)
    max_diff = float(np.abs(keras_probs - tflite_probs).max())
    if max_diff > TOLERANCE:
        raise ExportError(
            f"TFLite and Keras disagree by {max_diff:.2e} > {TOLERANCE} on the test set"
        )
    tflite_metrics = evaluate.classification_metrics(tflite_probs, test.y)
    current_card = out_dir / "model_card.json"
    if current_card.is_file() and not force:
        current = json.loads(current_card.read_text())
        refusals = promotion_refusals(metrics, tflite_metrics["accuracy"], current)
        if refusals:
            raise ExportError("not promoted (--force to replace it anyway): " + "; ".join(refusals))

    out_dir.mkdir(parents=True, exist_ok=True)
    keras_copy = out_dir / ".model.new.keras"  # Keras wants the suffix
    model.save(keras_copy)
    keras_copy.replace(out_dir / "model.keras")
    write_atomically(out_dir / "model.tflite", tflite_bytes)
    date = time.strftime("%Y-%m-%d")
    card = {
        "version": f"{metrics['run']}-{date}-{hashlib.sha256(tflite_bytes).hexdigest()[:8]}",
        "name": "Percha garment classifier",
        "run": metrics["run"],
        "architecture": metrics["model"],
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "code_version": metrics["code_version"],
        "classes": card_classes(metrics.get("classes") or list(CLASS_NAMES)),
        "input": {
            "shape": [28, 28, 1],
            "dtype": "float32",
            "range": [0.0, 1.0],
            "description": "28x28 grayscale, garment bright on black (Fashion-MNIST convention); "
            "photos are converted by classifier/preprocess.py",
        },
        "output": "softmax probabilities over the classes, in index order",
        "flip_averaging": views["flip"],
        "shifts": [list(s) for s in shifts],  # each view also moved by these [dy, dx] pixels
        "data": {
            "dataset": "Fashion-MNIST",
            "sha256": metrics["data_sha256"],
            "train_images": metrics["train_images"],
            "validation_images": data.VALIDATION_SIZE,
            "test_images": len(test.y),
        },
        "metrics": {
            "test_accuracy": tflite_metrics["accuracy"],
            "test_loss": tflite_metrics["loss"],
            "validation_accuracy": metrics["validation_accuracy"],
            "per_class_accuracy": tflite_metrics["per_class_accuracy"],
        },
        "training": {
            "epochs": metrics["epochs_run"],
            "seconds": round(metrics["train_seconds"], 1),
            "recipe": metrics["recipe"],
            "seed": metrics["seed"],
            # runs before ``metrics["precision"]`` trained in what their recipe asked for
            "precision": metrics.get("precision", metrics["recipe"].get("precision", "float32")),
            "machine": metrics["machine"],
            "tensorflow": metrics["tensorflow"],
        },
        "formats": {
            "model.keras": {"sha256": _sha256(out_dir / "model.keras"), "runtime": "Keras 3"},
            "model.tflite": {
                "sha256": _sha256(out_dir / "model.tflite"),
                "runtime": "LiteRT (ai-edge-litert)",
                "max_abs_diff_vs_keras": max_diff,
            },
        },
    }
    if "base" not in metrics:  # a fine-tuned run's own figures are of the served views already
        card["metrics"]["test_accuracy_without_flip_averaging"] = metrics["test_accuracy"]
    if "calibration" in metrics:  # fitted on held-out photos by ml_training.finetune
        card["calibration"] = metrics["calibration"]
        card["data"]["photos"] = {
            "folder": metrics["photos_dir"],
            "train_photos": metrics["train_photos"],
            "rows_with_variants": metrics["photo_rows"],
        }
        held = metrics["held_out_photos"]["new"]
        card["metrics"]["held_out_photos"] = {
            key: held[key]
            for key in ("photos", "accuracy", "coverage", "precision", "unknown_held", "threshold")
        }
        card["base_model"] = metrics["base"]
    card_text = json.dumps(card, indent=2, ensure_ascii=False) + "\n"
    write_atomically(out_dir / "model_card.json", card_text.encode())
    if web:
        try:
            export_web.export_web(out_dir / "model.keras", out_dir / "web")
        except export_web.WebExportError as exc:
            raise ExportError(
                f"{out_dir} written, but not its web copy ({exc}); rerun `make export-web`"
            ) from exc
    return card


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Promote a training run to classifier/artifacts/")
    parser.add_argument(
        "run", type=Path, help="run folder, e.g. ml_training/runs/production-augmented"
    )
    parser.add_argument("--data-dir", help="Fashion-MNIST folder (else FASHION_MNIST_DIR)")
    parser.add_argument("--out", type=Path, default=ARTIFACTS_DIR)
    parser.add_argument(
        "--flip-averaging",
        action="store_true",
        help="average the answers on the image and its mirror image (test-time augmentation)",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace the served model even if it is better"
    )
    parser.add_argument(
        "--no-web",
        dest="web",
        action="store_false",
        help="skip the browser's copy (web/, needs .venv-web: make web-export-env)",
    )
    args = parser.parse_args(argv)
    card = export(
        args.run,
        args.data_dir,
        args.out,
        flip_averaging=args.flip_averaging,
        force=args.force,
        web=args.web,
    )
    print(
        f"exported {card['version']} to {args.out}: test accuracy "
        f"{card['metrics']['test_accuracy']:.4f}, TFLite vs Keras max diff "
        f"{card['formats']['model.tflite']['max_abs_diff_vs_keras']:.1e}"
        + (f"; the browser's copy in {args.out / 'web'}" if args.web else "")
    )


if __name__ == "__main__":
    main()
