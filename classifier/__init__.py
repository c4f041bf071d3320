"""Photo → garment class. The store's only door into the model.

    from classifier import classify_image, classify_images
    result = classify_image(photo_bytes)          # or a path
    result.label, result.label_name, result.confidence, result.probabilities

No Django here; ``classifier.tasks`` is the Django/Celery adapter.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifier import predictor, preprocess
from classifier.labels import LABELS, label_for, labels_from_card
from classifier.preprocess import DEFAULT_MAX_PIXELS, ModelInput, UnreadableImage, to_model_input

Photo = bytes | str | os.PathLike

__all__ = [
    "Classification",
    "UnreadableImage",
    "classify_image",
    "classify_images",
    "classify_inputs",
    "LABELS",
    "check_photo",
]


@dataclass(frozen=True)
class Classification:
    label: int
    label_name: str
    confidence: float
    probabilities: list[float]
    model_version: str
    model_input: ModelInput | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "label_name": self.label_name,
            "confidence": self.confidence,
            "probabilities": self.probabilities,
            "model_version": self.model_version,
        }


def classify_inputs(
    inputs: Sequence[ModelInput], model_path: str | Path = predictor.DEFAULT_MODEL_PATH
) -> list[Classification]:
    """Run the model once on a batch of already-preprocessed photos."""
    model = predictor.load(str(model_path))
    if not inputs:
        return []
    probabilities = model.predict(np.stack([item.image for item in inputs]))
    labels = labels_from_card(model.card)  # the names of the model that answered
    results = []
    for item, row in zip(inputs, probabilities, strict=True):
        label = int(np.argmax(row))
        results.append(
            Classification(
                label=label,
                label_name=label_for(labels, label).name,
                confidence=float(row[label]),
                probabilities=[float(p) for p in row],
                model_version=model.version,
                model_input=item,
            )
        )
    return results


def classify_images(
    photos: Sequence[Photo],
    model_path: str | Path = predictor.DEFAULT_MODEL_PATH,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> list[Classification]:
    """Classify many photos with one model call; an unreadable photo raises UnreadableImage."""
    return classify_inputs([to_model_input(p, max_pixels) for p in photos], model_path)


def classify_image(
    photo: Photo,
    model_path: str | Path = predictor.DEFAULT_MODEL_PATH,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Classification:
    """Classify one photo (bytes or a path)."""
    return classify_images([photo], model_path, max_pixels)[0]


def check_photo(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> str:
    """Validate an upload as a usable photo; returns its format ("JPEG", "PNG", …).

    Raises UnreadableImage with a message meant for the person who uploaded it.
    """
    image = preprocess.open_photo(data, max_pixels=max_pixels)
    image_format = image.format
    preprocess.to_rgb(image)  # modes we cannot convert fail here, not later in the worker
    return image_format
