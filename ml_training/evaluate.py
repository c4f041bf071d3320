"""Figures for one trained model on the held-out test set: accuracy, loss, per class, speed."""

from __future__ import annotations

import math
import time

import keras
import numpy as np
import tensorflow as tf

from ml_training import architectures
from ml_training.labels import CLASS_NAMES


def predict_probabilities(model: keras.Model, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Softmax outputs for many images, batched without Keras' per-call overhead."""
    call = tf.function(lambda batch: model(batch, training=False), reduce_retracing=True)
    parts = [call(tf.constant(x[i : i + batch_size])).numpy() for i in range(0, len(x), batch_size)]
    return np.concatenate(parts) if parts else np.zeros((0, model.output_shape[-1]), np.float32)


def served_probabilities(
    model: keras.Model, x: np.ndarray, shifts: tuple[tuple[int, int], ...] = architectures.NO_SHIFT
) -> np.ndarray:
    """As the store computes them: averaged over the image and its mirror image (and each of
    ``shifts``: ``architectures.with_flip_averaging``)."""
    return predict_probabilities(architectures.with_flip_averaging(model, shifts), x)


def classification_metrics(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy, cross-entropy and per-class accuracy, plus the confusion matrix."""
    predicted = probabilities.argmax(axis=1)
    eps = 1e-7
    loss = float(-np.mean(np.log(probabilities[np.arange(len(labels)), labels] + eps)))
    num_classes = probabilities.shape[1]
    confusion = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(confusion, (labels, predicted), 1)
    per_class = {
        CLASS_NAMES[k] if k < len(CLASS_NAMES) else str(k): float(
            confusion[k, k] / confusion[k].sum()
        )
        for k in range(num_classes)
        if confusion[k].sum()  # a class the test set lacks (a store's new class) has no figure
    }
    return {
        "accuracy": float((predicted == labels).mean()),
        "loss": loss,
        "per_class_accuracy": per_class,
        "confusion_matrix": confusion.tolist(),
    }


def paired_comparison(base_right: np.ndarray, new_right: np.ndarray) -> dict:
    """Two models on the same examples: how many only each gets right, and the exact McNemar
    p-value of that split (how often one at least this lopsided comes up when neither model is
    the better). Two accuracies a photo or two apart say nothing by themselves; this says
    whether the difference is one."""
    only_base = int((base_right & ~new_right).sum())
    only_new = int((~base_right & new_right).sum())
    n = only_base + only_new
    tail = sum(math.comb(n, k) for k in range(min(only_base, only_new) + 1)) / 2**n
    return {"only_base_right": only_base, "only_new_right": only_new, "p_value": min(1.0, 2 * tail)}


def paired_summary(paired: dict, base: str = "the base") -> str:
    """``paired_comparison`` in words, for the run's table and the export's refusal."""
    return (
        f"only {base} right on {paired['only_base_right']} photos, only the new model on "
        f"{paired['only_new_right']}: exact McNemar p = {paired['p_value']:.2f}"
    )


def _median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up (tracing, allocation)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def inference_timings(model: keras.Model, x: np.ndarray) -> dict:
    """Median single-image latency (compiled call) and batch throughput on this machine."""
    call = tf.function(lambda batch: model(batch, training=False))
    one = tf.constant(x[:1])
    batch = tf.constant(x[:1000])
    single = _median_seconds(lambda: call(one).numpy(), repeats=200)
    batch_s = _median_seconds(lambda: call(batch).numpy(), repeats=10)
    return {
        "single_image_ms": single * 1000,
        "batch_1000_ms": batch_s * 1000,
        "batch_images_per_s": 1000 / batch_s,
    }
