"""Real clothing photos as training data, converted by the store's own ``classifier.preprocess``.

A folder per garment (the layout of ``clothing-photos`` and of ``export_training_photos``). Each
photo is decoded once; besides the photo itself, ``variants`` photo-like copies are made *before*
the conversion, so the mask, crop and brightness steps see them as they would see another shot:
rotation, a partial crop, lighting and contrast, colour cast, blur and sensor noise on the
background as on the garment.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from classifier import preprocess
from classifier.evaluate_photos import FOLDER_CLASSES, PHOTO_SUFFIXES
from classifier.labels import LABELS

FOOTWEAR = tuple(sorted(FOLDER_CLASSES["shoes"]))  # one folder, three classes
_INDEX_BY_NAME = {label.name.lower(): label.index for label in LABELS}
# clothing-photos folder → the class it trains: its store class; footwear -1 until
# label_shoes picks one of three; a garment without a store class, the class learned for it
FOLDER_LABELS: dict[str, int] = {
    folder: (-1 if len(classes) > 1 else next(iter(classes))) if classes else _INDEX_BY_NAME[folder]
    for folder, classes in FOLDER_CLASSES.items()
}
PHOTO_CLASS_NAMES = tuple(label.name for label in LABELS)


@dataclass(frozen=True)
class PhotoSet:
    x: np.ndarray  # (n, 28, 28, 1) float32: what the model sees
    y: np.ndarray  # (n,) int64: the class, -1 for footwear not yet labelled
    folder: np.ndarray  # (n,) str
    photo: np.ndarray  # (n,) int: which photo a row comes from (variants share it)

    def take(self, rows: np.ndarray) -> PhotoSet:
        return PhotoSet(self.x[rows], self.y[rows], self.folder[rows], self.photo[rows])


def photo_like_variant(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Another plausible shot of the same garment (uint8 RGB in, uint8 RGB out)."""
    height, width = rgb.shape[:2]
    angle = rng.uniform(-12, 12)
    zoom = rng.uniform(1.0, 1.15)
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, zoom)
    matrix[:, 2] += rng.uniform(-0.06, 0.06, 2) * (width, height)  # off-centre, partly cut off
    out = cv2.warpAffine(rgb, matrix, (width, height), borderMode=cv2.BORDER_REFLECT_101)
    out = out.astype(np.float32)
    out = out * rng.uniform(0.85, 1.15, 3)  # colour cast
    mean = out.mean()
    out = (out - mean) * rng.uniform(0.7, 1.3) + mean * rng.uniform(0.7, 1.3)  # contrast, light
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.5))
    out = out + rng.normal(0, rng.uniform(0, 8), out.shape)  # sensor noise, texture
    return np.clip(out, 0, 255).astype(np.uint8)


def _convert(job: tuple[str, int, int]) -> list[np.ndarray]:
    path, variants, seed = job
    image = preprocess.open_photo(Path(path).read_bytes())
    rgb = preprocess.to_rgb(image)
    rng = np.random.default_rng(seed)
    shots = [rgb] + [photo_like_variant(rgb, rng) for _ in range(variants)]
    return [preprocess.rgb_to_model_input(shot).image for shot in shots]


def load_folder(directory: Path, variants: int = 0, seed: int = 42, workers: int = 2) -> PhotoSet:
    """Every photo under DIR's known folders, plus ``variants`` photo-like copies of each."""
    paths, labels, folders = [], [], []
    for folder, label in sorted(FOLDER_LABELS.items()):
        for path in sorted((directory / folder).glob("*")):
            if path.suffix.lower() in PHOTO_SUFFIXES:
                paths.append(path)
                labels.append(label)
                folders.append(folder)
    if not paths:
        raise FileNotFoundError(f"no photos in {directory}/<{'|'.join(FOLDER_LABELS)}>/")
    jobs = [(str(p), variants, seed + i) for i, p in enumerate(paths)]
    with ProcessPoolExecutor(workers) as pool:
        converted = list(pool.map(_convert, jobs, chunksize=16))
    shots = 1 + variants
    return PhotoSet(
        x=np.stack([img for group in converted for img in group])[..., None].astype(np.float32),
        y=np.repeat(np.array(labels, np.int64), shots),
        folder=np.repeat(np.array(folders), shots),
        photo=np.repeat(np.arange(len(paths)), shots),
    )


def holdout(photos: PhotoSet, share: float, seed: int = 42) -> tuple[PhotoSet, PhotoSet]:
    """Split by photo (a photo's variants stay together), the same share of every folder."""
    rng = np.random.default_rng(seed)
    held = []
    for folder in np.unique(photos.folder):
        ids = np.unique(photos.photo[photos.folder == folder])
        held.extend(rng.choice(ids, max(1, round(share * len(ids))), replace=False))
    is_held = np.isin(photos.photo, held)
    return photos.take(np.flatnonzero(~is_held)), photos.take(np.flatnonzero(is_held))


def originals(photos: PhotoSet) -> PhotoSet:
    """One row per photo: the photo itself, not its variants."""
    _, first = np.unique(photos.photo, return_index=True)
    return photos.take(np.sort(first))


def label_shoes(photos: PhotoSet, probabilities: np.ndarray) -> PhotoSet:
    """Footwear photos get the footwear class the model already finds most likely.

    clothing-photos has one "shoes" folder for Fashion-MNIST's sandal, sneaker and ankle boot;
    the store counts any of the three as right, and the base model tells them apart well enough.
    """
    y = photos.y.copy()
    shoes = np.flatnonzero(y == -1)
    for pid in np.unique(photos.photo[shoes]):
        rows = shoes[photos.photo[shoes] == pid]
        scores = probabilities[rows][:, FOOTWEAR].mean(axis=0)
        y[rows] = FOOTWEAR[int(np.argmax(scores))]
    return PhotoSet(photos.x, y, photos.folder, photos.photo)
