"""Write the served model in the browser's format (a TensorFlow.js graph model).

    python -m ml_training.export_web [--model classifier/artifacts/model.keras]
                                     [--out classifier/artifacts/web]

The page that classifies photos in the browser loads ``web/model.json`` (+ its weight shards)
with ``tf.loadGraphModel`` and reads ``web/model_card.json`` beside it for the classes, the
temperature and the threshold, so the folder is all a static page needs.

Why a graph model from a SavedModel: the graph is traced from the Keras model, so the custom
``Views`` and ``MeanOverViews`` layers become plain ``ReverseV2``, ``Pad``, slicing and
reshaping ops; a tfjs *layers* model would need them rewritten in JavaScript, and the converter
does not read Keras 3's ``.keras`` files.

Why a subprocess: the converter (tensorflowjs 4.22) needs TensorFlow 2.19 and clashes with the
project's TensorFlow 2.21, so it lives in its own virtualenv, ``.venv-web``
(``make web-export-env``, pinned by ``requirements-web-export.txt``). This module runs in the
project's virtualenv and only hands the converter a SavedModel.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS_DIR = ROOT / "classifier" / "artifacts"
DEFAULT_MODEL = ARTIFACTS_DIR / "model.keras"
DEFAULT_OUT = ARTIFACTS_DIR / "web"
WEB_VENV = ROOT / ".venv-web"
CONVERTER = WEB_VENV / "bin" / "tensorflowjs_converter"
MAKE_TARGET = "make web-export-env"
# What a converted folder holds; anything else matching these is a stale leftover, removed first.
STALE_PATTERNS = ("model.json", "group*-shard*of*.bin", "model_card.json")


class WebExportError(RuntimeError):
    """The converter is missing or failed; the message says what to run."""


def require_converter(converter: Path | None = None) -> Path:
    """The converter's path (default: ``CONVERTER``), or an error naming the make target.

    Called before anything is written, so an export never stops half-way for want of it.
    """
    converter = converter or CONVERTER
    if not converter.is_file():
        raise WebExportError(
            f"{converter} not found: the TensorFlow.js converter lives in its own virtualenv; "
            f"create it with `{MAKE_TARGET}` "
            "(`ml_training.export --no-web` exports without the web copy)"
        )
    return converter


def _write_saved_model(model_path: Path, saved_model_dir: Path) -> None:
    """The Keras model as a TF SavedModel: a traced graph, so no Python custom layer is left."""
    import keras

    from ml_training import architectures

    model = keras.models.load_model(model_path, compile=False)
    network = architectures.unwrapped(model)
    if network is model:  # not flip-averaged
        model.export(saved_model_dir, format="tf_saved_model", verbose=False)
        return
    # An older flip-averaged model calls its network once per view; traced as it stands, the
    # converter folds batch normalization into each call's copy of the weights, so the browser
    # would download them once per view. Wrapped again, the network runs once on all views
    # stacked in the batch (``Views``), with the weights once.
    import tensorflow as tf

    averaged = architectures.with_flip_averaging(network, architectures.view_shifts(model))
    archive = keras.export.ExportArchive()
    archive.track(averaged)
    archive.add_endpoint(
        "serve",
        lambda images: averaged(images, training=False),
        input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32, "images")],
    )
    archive.write_out(str(saved_model_dir), verbose=False)


def _convert(converter: Path, saved_model_dir: Path, web_dir: Path) -> None:
    """Run tensorflowjs_converter (float32 weights, no quantization) in .venv-web."""
    command = [
        str(converter),
        "--input_format=tf_saved_model",
        "--output_format=tfjs_graph_model",
        "--signature_name=serving_default",
        "--saved_model_tags=serve",
        str(saved_model_dir),
        str(web_dir),
    ]
    # The converter's own TensorFlow must not see this process's virtualenv or its log noise.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip()[-3000:]
        raise WebExportError(f"tensorflowjs_converter failed ({result.returncode}):\n{tail}")


def _clear_stale(out_dir: Path) -> None:
    for pattern in STALE_PATTERNS:
        for path in out_dir.glob(pattern):
            path.unlink()


def export_web(
    model_path: Path = DEFAULT_MODEL,
    out_dir: Path = DEFAULT_OUT,
    card_path: Path | None = None,
    converter: Path | None = None,
) -> Path:
    """Convert ``model_path`` into ``out_dir`` and copy its model card beside; returns model.json.

    ``card_path`` defaults to the ``model_card.json`` next to the model. The conversion is done
    in a temporary folder first, so a failed one leaves the previous web copy in place; stale
    shards of an earlier, differently sized model are removed before the new files go in.
    """
    converter = require_converter(converter)
    card_path = card_path or model_path.parent / "model_card.json"
    if not model_path.is_file():
        raise WebExportError(f"{model_path} not found")
    if not card_path.is_file():
        raise WebExportError(f"{card_path} not found: the page needs the model card beside")
    with tempfile.TemporaryDirectory() as tmp:
        saved_model_dir, web_dir = Path(tmp) / "saved_model", Path(tmp) / "web"
        _write_saved_model(model_path, saved_model_dir)
        _convert(converter, saved_model_dir, web_dir)
        manifest = json.loads((web_dir / "model.json").read_text())
        shards = [p for group in manifest["weightsManifest"] for p in group["paths"]]
        out_dir.mkdir(parents=True, exist_ok=True)
        _clear_stale(out_dir)
        for name in shards:
            shutil.copyfile(web_dir / name, out_dir / name)
        shutil.copyfile(web_dir / "model.json", out_dir / "model.json")  # last: the entry point
    shutil.copyfile(card_path, out_dir / "model_card.json")
    return out_dir / "model.json"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Write the served model for the browser (TensorFlow.js graph model)"
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="a .keras file")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the web folder")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        model_json = export_web(args.model, args.out)
    except WebExportError as exc:
        raise SystemExit(str(exc)) from None
    size = sum(p.stat().st_size for p in args.out.iterdir() if p.is_file())
    print(
        f"wrote {model_json} and its shards ({size / 1e6:.1f} MB in {args.out}) in "
        f"{time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
