"""Train one model or the course's six, each into its own run folder.

    python -m ml_training.train --model cnn_dropout --augment --data-dir DIR
    python -m ml_training.train --all          # dense, cnn, cnn_dropout × (plain, augmented)
    python -m ml_training.train --production   # the store's model (augmented, cosine schedule)

A run folder (``ml_training/runs/<model>-<plain|augmented>/``, kept out of git) holds
``model.keras``, ``history.json``, ``metrics.json`` and ``test_probabilities.npy``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from ml_training import architectures, augment, data, evaluate, hardware

RUNS_DIR = Path(__file__).resolve().parent / "runs"
SEED = 42


@dataclass(frozen=True)
class Recipe:
    """How one model is trained; the course models use the course's plain Adam."""

    max_epochs: int
    patience: int
    batch_size: int = 128
    learning_rate: float = 1e-3
    cosine: bool = False  # cosine decay with warm-up instead of a constant rate
    augment_preset: str = "course"
    label_smoothing: float = 0.0
    # Keras dtype policy while training. "mixed_bfloat16" computes in bfloat16 (weights stay
    # float32): on a CPU with AMX (Sapphire Rapids and newer) oneDNN's bfloat16 kernels made the
    # production step about 1.4x faster (`python -m benchmarks.training`); a CPU without native
    # bfloat16 trains in float32 instead (`training_policy`).
    precision: str = "float32"


RECIPES = {
    "dense": Recipe(max_epochs=60, patience=8, augment_preset="dense"),
    "cnn": Recipe(max_epochs=40, patience=6),
    # A decaying learning rate: with a constant one the run stopped at 92.4% (see results.md).
    "cnn_dropout": Recipe(max_epochs=30, patience=30, cosine=True, learning_rate=2e-3),
    "production": Recipe(
        max_epochs=40,
        patience=40,  # the cosine schedule decides the end; the best epoch is still restored
        learning_rate=3e-3,
        cosine=True,
        augment_preset="light",  # with random erasing too: 93.76% (see discussion.md)
        label_smoothing=0.1,
        precision="mixed_bfloat16",
    ),
}


@contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Layers built inside take this Keras dtype policy; the global one is restored after."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def training_policy(recipe: Recipe) -> str:
    """The recipe's precision where this CPU computes it natively, else float32."""
    if recipe.precision == "mixed_bfloat16" and not hardware.native_bfloat16():
        return "float32"
    return recipe.precision


def rebuilt(model: keras.Model, model_name: str, num_classes: int, policy: str) -> keras.Model:
    """The same network built in another dtype policy, with the same weights (float32 whatever
    the policy). Training may run in bfloat16; what is saved, exported and fine-tuned from is
    float32."""
    if model.dtype_policy.name == policy:
        return model
    with dtype_policy(policy):
        copy = architectures.build(model_name, num_classes)
    copy.set_weights(model.get_weights())
    return copy


def run_name(model_name: str, augmented: bool) -> str:
    return f"{model_name}-{'augmented' if augmented else 'plain'}"


def code_version() -> str:
    """The git commit the code was trained from (with '+dirty' for uncommitted changes)."""
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "ml_training"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (sha or "uncommitted") + ("+dirty" if dirty else "")


def make_dataset(
    split: data.Split,
    batch_size: int,
    augmented: bool,
    preset: str,
    shuffle: bool,
    one_hot: bool = False,
    num_classes: int = architectures.NUM_CLASSES,
):
    labels = keras.utils.to_categorical(split.y, num_classes) if one_hot else split.y
    ds = tf.data.Dataset.from_tensor_slices((split.x, labels))
    if shuffle:
        ds = ds.shuffle(len(split.x), seed=SEED, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augmented:
        layer = augment.augmenter(preset, seed=SEED)
        ds = ds.map(
            lambda x, y: (augment.augment_batch(layer, x, preset, seed=SEED), y),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return ds.prefetch(tf.data.AUTOTUNE)


def optimizer(recipe: Recipe, steps_per_epoch: int, epochs: int) -> keras.optimizers.Optimizer:
    if not recipe.cosine:
        return keras.optimizers.Adam(recipe.learning_rate)
    warmup = steps_per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=recipe.learning_rate / 10,
        decay_steps=max(steps_per_epoch * epochs - warmup, 1),
        warmup_target=recipe.learning_rate,
        warmup_steps=warmup,
    )
    return keras.optimizers.AdamW(schedule, weight_decay=1e-4)


def train(
    model_name: str,
    augmented: bool,
    dataset: data.FashionMNIST,
    runs_dir: Path = RUNS_DIR,
    epochs: int | None = None,
    verbose: int | str = "auto",
) -> Path:
    """Train, evaluate on the test set and write the run folder; returns its path."""
    keras.utils.set_random_seed(SEED)
    recipe = RECIPES[model_name]
    max_epochs = epochs or recipe.max_epochs
    run_dir = runs_dir / run_name(model_name, augmented)
    run_dir.mkdir(parents=True, exist_ok=True)

    precision = training_policy(recipe)
    with dtype_policy(precision):
        model = architectures.build(model_name)
    smoothing = recipe.label_smoothing > 0  # needs one-hot targets
    train_ds = make_dataset(
        dataset.train,
        recipe.batch_size,
        augmented,
        recipe.augment_preset,
        shuffle=True,
        one_hot=smoothing,
    )
    val_ds = make_dataset(
        dataset.validation, 1024, False, recipe.augment_preset, shuffle=False, one_hot=smoothing
    )
    steps = int(np.ceil(len(dataset.train.x) / recipe.batch_size))
    loss = (
        keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing)
        if smoothing
        else keras.losses.SparseCategoricalCrossentropy()
    )
    model.compile(optimizer=optimizer(recipe, steps, max_epochs), loss=loss, metrics=["accuracy"])
    stop = keras.callbacks.EarlyStopping(
        monitor="val_accuracy", patience=recipe.patience, restore_best_weights=True
    )
    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2
    print(
        f"== {run_dir.name}: {model.count_params():,} parameters, up to {max_epochs} epochs, "
        f"{precision}"
    )
    start = time.perf_counter()
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=max_epochs,
        callbacks=[stop],
        verbose=verbose,
        shuffle=False,  # the tf.data pipeline shuffles
    )
    train_seconds = time.perf_counter() - start
    model = rebuilt(model, model_name, architectures.NUM_CLASSES, "float32")

    probabilities = evaluate.predict_probabilities(model, dataset.test.x)
    test = evaluate.classification_metrics(probabilities, dataset.test.y)
    val_probabilities = evaluate.predict_probabilities(model, dataset.validation.x)
    val_accuracy = float((val_probabilities.argmax(1) == dataset.validation.y).mean())
    metrics = {
        "run": run_dir.name,
        "model": model_name,
        "augmented": augmented,
        "parameters": int(model.count_params()),
        "epochs_run": len(history.history["loss"]),
        "best_epoch": int(np.argmax(history.history["val_accuracy"])) + 1,
        "train_seconds": train_seconds,
        "train_images": len(dataset.train.x),
        "validation_accuracy": val_accuracy,
        "test_accuracy": test["accuracy"],
        "test_loss": test["loss"],
        "per_class_accuracy": test["per_class_accuracy"],
        "confusion_matrix": test["confusion_matrix"],
        "inference": evaluate.inference_timings(model, dataset.test.x),
        "recipe": asdict(recipe),
        "precision": precision,
        "seed": SEED,
        "data_source": dataset.source,
        "data_sha256": dataset.checksum,
        **provenance(),
    }
    write_run(run_dir, model, probabilities, history, metrics)
    print(
        f"== {run_dir.name}: test accuracy {test['accuracy']:.4f}, "
        f"validation {val_accuracy:.4f}, {train_seconds / 60:.1f} min"
    )
    return run_dir


def provenance() -> dict:
    """Where and when a run was trained, from which code: for the run folder and the card."""
    return {
        "code_version": code_version(),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, "
        f"{len(tf.config.list_physical_devices('CPU'))} CPU device, "
        f"{len(tf.config.list_physical_devices('GPU'))} GPU",
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "tensorflow": tf.__version__,
    }


def write_run(
    run_dir: Path, model: keras.Model, test_probabilities: np.ndarray, history, metrics: dict
) -> None:
    """The run folder that ``report`` and ``export`` read."""
    model.save(run_dir / "model.keras")
    np.save(run_dir / "test_probabilities.npy", test_probabilities.astype(np.float32))
    (run_dir / "history.json").write_text(json.dumps(history.history, indent=1))
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=1))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", choices=sorted(architectures.BUILDERS))
    which.add_argument("--all", action="store_true", help="the six course models")
    which.add_argument("--production", action="store_true", help="the store's model")
    parser.add_argument("--augment", action="store_true", help="with data augmentation")
    parser.add_argument("--data-dir", help="folder of the IDX .gz files (else FASHION_MNIST_DIR)")
    parser.add_argument("--runs-dir", type=Path, default=RUNS_DIR)
    parser.add_argument("--epochs", type=int, help="override the recipe's maximum epochs")
    parser.add_argument("--limit", type=int, help="train on the first N images only (smoke runs)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    dataset = data.load(args.data_dir, limit=args.limit)
    if args.all:
        jobs = [(m, a) for m in architectures.COURSE_MODELS for a in (False, True)]
    elif args.production:
        jobs = [("production", True)]
    else:
        jobs = [(args.model, args.augment)]
    for model_name, augmented in jobs:
        train(model_name, augmented, dataset, args.runs_dir, epochs=args.epochs)


if __name__ == "__main__":
    main()
