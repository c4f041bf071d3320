"""Teach the production model real photos: Fashion-MNIST plus a folder of labelled photos.

    python -m ml_training.finetune --photos ../shared/datasets/clothing-photos/train \\
        [--base ml_training/runs/production-augmented/model.keras] [--epochs 6]

Starts from a trained Fashion-MNIST model (its convolutions already know garments), gives it an
output per photo class it lacks (hat, shorts, skirt: the store holds those for review), and
trains on Fashion-MNIST and the photos together, so it keeps Fashion-MNIST while it learns
photos. The photos go through ``classifier.preprocess`` exactly as uploads do. A share of them is
held out to fit the temperature and the store's threshold; the run folder is exported like any
other (``python -m ml_training.export RUN --flip-averaging``).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

import keras
import numpy as np

from classifier.evaluate_photos import FOLDER_CLASSES, evaluate
from classifier.predictor import soften
from ml_training import architectures, calibrate, data, photos, train
from ml_training.evaluate import classification_metrics, inference_timings, predict_probabilities

RUN_NAME = "production-photos"
HOLDOUT_SHARE = 0.15
TARGET_PRECISION = 0.92  # a margin over the store's 90%: the held-out photos are few
RECIPE = train.Recipe(
    max_epochs=6,
    patience=6,
    learning_rate=5e-4,
    cosine=True,
    augment_preset="light",
    label_smoothing=0.1,
)


def unwrapped(model: keras.Model) -> keras.Model:
    """The network inside an exported flip-averaged model (or the model itself)."""
    inner = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return inner[0] if len(inner) == 1 else model


def with_new_classes(base: keras.Model, num_classes: int) -> keras.Model:
    """The base model with a wider output layer; the known classes keep their weights."""
    features = base.layers[-2].output
    head = keras.layers.Dense(num_classes, activation="softmax", name="classes")
    model = keras.Model(base.inputs, head(features), name=base.name)
    old_kernel, old_bias = base.layers[-1].get_weights()
    kernel, bias = head.get_weights()
    known = old_kernel.shape[1]
    kernel[:, :known], bias[:known] = old_kernel, old_bias
    kernel[:, known:] = 0  # new classes start unlikely, not at random odds
    bias[known:] = old_bias.min() - 2
    head.set_weights([kernel, bias])
    return model


def describe_base(path: Path) -> str:
    """The base model's path, and its version when it is an exported model with a card."""
    card = path.parent / "model_card.json"
    version = json.loads(card.read_text()).get("version") if card.is_file() else None
    return f"{path} ({version})" if version else str(path)


def served_probabilities(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """As the store computes them: averaged over the image and its mirror image."""
    return predict_probabilities(architectures.with_flip_averaging(model), x)


def finetune(
    photos_dir: Path,
    base_path: Path,
    dataset: data.FashionMNIST,
    runs_dir: Path = train.RUNS_DIR,
    epochs: int = RECIPE.max_epochs,
    variants: int = 3,
    repeats: int = 1,
) -> Path:
    """Train, calibrate on the held-out photos, and write the run folder; returns its path."""
    keras.utils.set_random_seed(train.SEED)
    run_dir = runs_dir / RUN_NAME
    run_dir.mkdir(parents=True, exist_ok=True)
    base = unwrapped(keras.models.load_model(base_path, compile=False))
    num_classes = len(photos.PHOTO_CLASS_NAMES)

    start = time.perf_counter()
    all_photos = photos.load_folder(photos_dir, variants=variants)
    prepare_seconds = time.perf_counter() - start
    all_photos = photos.label_shoes(all_photos, served_probabilities(base, all_photos.x))
    fit_photos, held = photos.holdout(all_photos, HOLDOUT_SHARE, seed=train.SEED)
    held = photos.originals(held)
    # the base's own figures, before training: the new model shares (and changes) its layers
    base_test = served_probabilities(base, dataset.test.x)
    base_held = evaluate(served_probabilities(base, held.x), list(held.folder), 0.6)
    print(
        f"== photos: {len(np.unique(fit_photos.photo))} to train on ({len(fit_photos.y)} with "
        f"variants), {len(held.y)} held out; converted in {prepare_seconds:.0f} s"
    )

    x = np.concatenate([dataset.train.x] + [fit_photos.x] * repeats)
    y = np.concatenate([dataset.train.y.astype(np.int64)] + [fit_photos.y] * repeats)
    train_ds = train.make_dataset(
        data.Split(x, y), RECIPE.batch_size, True, RECIPE.augment_preset, shuffle=True,
        one_hot=True, num_classes=num_classes,
    )  # fmt: skip
    model = with_new_classes(base, num_classes)
    steps = int(np.ceil(len(x) / RECIPE.batch_size))
    model.compile(
        optimizer=train.optimizer(RECIPE, steps, epochs),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=RECIPE.label_smoothing),
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    history = model.fit(train_ds, epochs=epochs, verbose=2, shuffle=False)
    train_seconds = time.perf_counter() - start

    test = served_probabilities(model, dataset.test.x)
    validation = served_probabilities(model, dataset.validation.x)
    held_probs = served_probabilities(model, held.x)
    temperature = calibrate.fit_temperature(held_probs, held.y)
    held_calibrated = soften(held_probs, temperature)
    threshold = calibrate.choose_threshold(held_calibrated, list(held.folder), TARGET_PRECISION)
    held_result = evaluate(held_calibrated, list(held.folder), threshold)
    test_metrics = classification_metrics(test, dataset.test.y)
    metrics = {
        "run": RUN_NAME,
        "model": "production",
        "label": "production + photos (flip-averaged)",
        "augmented": True,
        "base": describe_base(base_path),
        "classes": list(photos.PHOTO_CLASS_NAMES),
        "parameters": int(model.count_params()),
        "epochs_run": epochs,
        "best_epoch": epochs,
        "train_seconds": train_seconds + prepare_seconds,
        "train_images": len(dataset.train.x),
        "train_photos": int(len(np.unique(fit_photos.photo))),
        "photo_rows": int(len(fit_photos.y) * repeats),
        "validation_accuracy": float((validation.argmax(1) == dataset.validation.y).mean()),
        # the run's own figure is flip-averaged already: the store serves it that way
        "test_accuracy": test_metrics["accuracy"],
        "test_loss": test_metrics["loss"],
        "base_test_accuracy": float((base_test.argmax(1) == dataset.test.y).mean()),
        "per_class_accuracy": test_metrics["per_class_accuracy"],
        "inference": inference_timings(model, dataset.test.x),
        "confusion_matrix": test_metrics["confusion_matrix"],
        "calibration": {
            "temperature": temperature,
            "threshold": threshold,
            "target_precision": TARGET_PRECISION,
            "fitted_on": f"{len(held.y)} photos held out of {photos_dir}",
        },
        "held_out_photos": {"new": held_result, "base": base_held},
        "recipe": {**asdict(RECIPE), "max_epochs": epochs, "variants": variants},
        "seed": train.SEED,
        "data_source": dataset.source,
        "data_sha256": dataset.checksum,
        "photos_dir": str(photos_dir),
        **train.provenance(),
    }
    train.write_run(run_dir, model, test, history, metrics)
    print(
        f"== {RUN_NAME}: Fashion-MNIST test {metrics['test_accuracy']:.4f} "
        f"(base {metrics['base_test_accuracy']:.4f}); held-out photos: accuracy "
        f"{held_result['accuracy']:.3f} (base {base_held['accuracy']:.3f}), temperature "
        f"{temperature:.2f}, threshold {threshold:.2f} files {held_result['coverage']:.0%} at "
        f"{held_result['precision']:.0%} precision, unknown held {held_result['unknown_held']:.0%}"
    )
    return run_dir


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=Path, required=True, help="folder of <class>/ folders")
    parser.add_argument(
        "--base", type=Path, default=train.RUNS_DIR / "production-augmented" / "model.keras"
    )
    parser.add_argument("--data-dir", help="Fashion-MNIST folder (else FASHION_MNIST_DIR)")
    parser.add_argument("--runs-dir", type=Path, default=train.RUNS_DIR)
    parser.add_argument("--epochs", type=int, default=RECIPE.max_epochs)
    parser.add_argument("--variants", type=int, default=3, help="photo-like copies per photo")
    parser.add_argument("--limit", type=int, help="Fashion-MNIST images (smoke runs)")
    args = parser.parse_args(argv)
    unknown = set(p.name for p in args.photos.iterdir() if p.is_dir()) - set(FOLDER_CLASSES)
    if unknown:
        print(f"ignoring folders without a class: {', '.join(sorted(unknown))}")
    dataset = data.load(args.data_dir, limit=args.limit)
    finetune(args.photos, args.base, dataset, args.runs_dir, args.epochs, args.variants)


if __name__ == "__main__":
    main()
