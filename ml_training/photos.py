"""Real clothing photos as training data, converted by the store's own ``classifier.preprocess``.

A folder per garment, in one of two layouts: ``clothing-photos`` (folders t-shirt, pants, ...,
hat, shorts, skirt: ``FOLDER_CLASSES`` says which model class each stands for), or the store's
own ``manage.py export_training_photos`` (folders named by category slug, and a ``manifest.csv``
whose ``classifier_label`` column says which model class a category stands for). The model's
classes come from its card, not from code: ``base_classes`` reads them and ``plan_classes``
decides which folders train which class, and which folders become new classes. Each
photo is decoded once; besides the photo itself, ``variants`` photo-like copies are made *before*
the conversion, so the mask, crop and brightness steps see them as they would see another shot:
rotation, a partial crop, lighting and contrast, colour cast, blur and sensor noise on the
background as on the garment.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
from django.utils.text import slugify

from classifier import preprocess
from classifier.evaluate_photos import FOLDER_CLASSES, PHOTO_SUFFIXES
from classifier.labels import LABELS, label_from_entry
from ml_training.labels import CLASS_NAMES as FASHION_MNIST_NAMES

FOOTWEAR = tuple(sorted(FOLDER_CLASSES["shoes"]))  # one folder, three classes
_INDEX_BY_NAME = {label.name.lower(): label.index for label in LABELS}
# clothing-photos folder → the class it trains: its store class; footwear -1 until
# label_shoes picks one of three; a garment without a store class, the class learned for it
FOLDER_LABELS: dict[str, int] = {
    folder: (-1 if len(classes) > 1 else next(iter(classes))) if classes else _INDEX_BY_NAME[folder]
    for folder, classes in FOLDER_CLASSES.items()
}
MANIFEST = "manifest.csv"  # written by ``manage.py export_training_photos``


@dataclass(frozen=True)
class PhotoSet:
    x: np.ndarray  # (n, 28, 28, 1) float32: what the model sees
    y: np.ndarray  # (n,) int64: the class, -1 for footwear not yet labelled
    folder: np.ndarray  # (n,) str
    photo: np.ndarray  # (n,) int: which photo a row comes from (variants share it)
    source: np.ndarray | None = None  # (n,) str: the sha256 of the photo's file

    def take(self, rows: np.ndarray) -> PhotoSet:
        source = None if self.source is None else self.source[rows]
        return PhotoSet(self.x[rows], self.y[rows], self.folder[rows], self.photo[rows], source)


def fingerprint(photos: PhotoSet) -> str:
    """Which photo files a set holds, wherever the folder was read from (a path spelt another
    way, a copy elsewhere): the promotion guard compares held-out splits by it."""
    if photos.source is None:
        raise ValueError("the photos were not read from files")
    return hashlib.sha256("\n".join(sorted(set(photos.source))).encode()).hexdigest()


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


def _convert(job: tuple[str, int, int]) -> tuple[str, list[np.ndarray]]:
    """The sha256 of a photo's file, and the photo and its variants as model inputs."""
    path, variants, seed = job
    data = Path(path).read_bytes()
    rgb = preprocess.to_rgb(preprocess.open_photo(data))
    rng = np.random.default_rng(seed)
    shots = [rgb] + [photo_like_variant(rgb, rng) for _ in range(variants)]
    return hashlib.sha256(data).hexdigest(), [preprocess.rgb_to_model_input(s).image for s in shots]


def photo_paths(folder: Path) -> list[Path]:
    """The photos in one folder, in a stable order (the held-out split depends on it)."""
    return sorted(p for p in folder.glob("*") if p.suffix.lower() in PHOTO_SUFFIXES)


def load_folder(
    directory: Path,
    variants: int = 0,
    seed: int = 42,
    workers: int = 2,
    labels: Mapping[str, int] | None = None,
) -> PhotoSet:
    """Every photo under DIR's folders in ``labels`` (folder → class; default: clothing-photos'
    ``FOLDER_LABELS``), plus ``variants`` photo-like copies of each."""
    labels = FOLDER_LABELS if labels is None else labels
    paths, ys, folders = [], [], []
    for folder, label in sorted(labels.items()):
        for path in photo_paths(directory / folder):
            paths.append(path)
            ys.append(label)
            folders.append(folder)
    if not paths:
        raise FileNotFoundError(f"no photos in {directory}/<{'|'.join(labels)}>/")
    jobs = [(str(p), variants, seed + i) for i, p in enumerate(paths)]
    with ProcessPoolExecutor(workers) as pool:
        converted = list(pool.map(_convert, jobs, chunksize=16))
    shots = 1 + variants
    return PhotoSet(
        x=np.stack([img for _, group in converted for img in group])[..., None].astype(np.float32),
        y=np.repeat(np.array(ys, np.int64), shots),
        folder=np.repeat(np.array(folders), shots),
        photo=np.repeat(np.arange(len(paths)), shots),
        source=np.repeat([digest for digest, _ in converted], shots),
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


def balanced(photos: PhotoSet, seed: int = 42) -> PhotoSet:
    """Every folder brought up to the median folder's number of rows, by drawing more of its own
    photos (each with its variants); folders above the median are left as they are.

    A shop's catalogue is lopsided (clothing-photos has 795 T-shirts and 112 skirts): without
    this, a rare class is seen a seventh as often as a common one, and its photos are mostly
    called something else.
    """
    rng = np.random.default_rng(seed)
    folders, rows_per_folder = np.unique(photos.folder, return_counts=True)
    target = np.median(rows_per_folder)
    extra = []
    for folder, rows in zip(folders, rows_per_folder, strict=True):
        ids = np.unique(photos.photo[photos.folder == folder])
        missing = round((target - rows) * len(ids) / rows)  # in photos: rows / photo = variants
        if missing > 0:
            extra.extend(rng.choice(ids, missing, replace=True))
    if not extra:
        return photos
    counts = np.bincount(np.asarray(extra), minlength=photos.photo.max() + 1)
    rows = np.arange(len(photos.y))
    return photos.take(np.concatenate([rows, np.repeat(rows, counts[photos.photo])]))


def originals(photos: PhotoSet) -> PhotoSet:
    """One row per photo: the photo itself, not its variants."""
    _, first = np.unique(photos.photo, return_index=True)
    return photos.take(np.sort(first))


def label_shoes(
    photos: PhotoSet,
    probabilities: np.ndarray,
    answers: Mapping[str, frozenset[int] | None] | None = None,
) -> PhotoSet:
    """A photo of a group gets the group's class the model already finds most likely.

    clothing-photos has one "shoes" folder for Fashion-MNIST's sandal, sneaker and ankle boot
    (the store's Calzado, filed by hand, is the same); the store counts any of the group as
    right. ``answers`` names each folder's group (default: footwear for every unlabelled row).
    """
    y = photos.y.copy()
    unlabelled = np.flatnonzero(y == -1)
    for pid in np.unique(photos.photo[unlabelled]):
        rows = unlabelled[photos.photo[unlabelled] == pid]
        folder = str(photos.folder[rows[0]])
        group = sorted(answers[folder]) if answers and answers.get(folder) else list(FOOTWEAR)
        scores = probabilities[rows][:, group].mean(axis=0)
        y[rows] = group[int(np.argmax(scores))]
    return replace(photos, y=y)


# --- the label set: the base model's classes (from its card), and what the photos add to it ---


def class_entry(raw: str | Mapping, index: int) -> dict:
    """One class as the model card lists it: {"index", "name", "slug", "name_es", "name_en"}.

    Older cards and runs list bare names, or dicts with only index and name; the store's own
    names fill the gaps for the classes it knows (``classifier.labels.label_from_entry``).
    """
    entry = {"name": raw} if isinstance(raw, str) else dict(raw)
    if entry.get("index", index) != index:
        raise ValueError(f"class {entry} is listed at position {index}")
    label = label_from_entry(entry, index)
    extra = {key: value for key, value in entry.items() if key not in asdict(label)}
    return {**asdict(label), **extra}


def base_classes(model_path: Path, outputs: int | None = None) -> list[dict]:
    """The classes of the model at ``model_path``, from the files beside it.

    An exported model's ``model_card.json``, else a run folder's ``metrics.json``; Fashion-MNIST's
    ten names only when neither lists classes (a run of ``ml_training.train``). ``outputs``, the
    model's output width, guards against a card that belongs to another model.
    """
    raw: list = []
    for name in ("model_card.json", "metrics.json"):
        path = model_path.parent / name
        if path.is_file():
            raw = json.loads(path.read_text()).get("classes") or []
            if raw:
                break
    raw = raw or list(FASHION_MNIST_NAMES)
    classes = [class_entry(item, i) for i, item in enumerate(raw)]
    if outputs is not None and outputs != len(classes):
        raise ValueError(
            f"{model_path} answers with {outputs} classes but the files beside it list "
            f"{len(classes)}: is it the model of that card or run?"
        )
    return classes


def count_photos(directory: Path) -> dict[str, int]:
    """Photos per folder of DIR (folders without photos left out)."""
    counts = {p.name: len(photo_paths(p)) for p in sorted(directory.iterdir()) if p.is_dir()}
    return {folder: n for folder, n in counts.items() if n}


Manifest = dict[str, int | frozenset[int] | None]


def read_manifest(directory: Path) -> Manifest | None:
    """The store's export: category slug → the model class it stands for (None: no class), or
    the classes it stands for together ("5 7 9": a parent category, Calzado, filed by hand).

    None when DIR has no manifest, i.e. it is in the clothing-photos layout.
    """
    path = directory / MANIFEST
    if not path.is_file():
        return None
    labels: Manifest = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            values = [int(v) for v in (row.get("classifier_label") or "").split()]
            label = frozenset(values) if len(values) > 1 else (values[0] if values else None)
            if labels.setdefault(row["category"], label) != label:
                raise ValueError(f"{path}: category {row['category']} has two classifier labels")
    return labels


@dataclass(frozen=True)
class ClassPlan:
    """Which class each folder trains, and the model's classes after training."""

    classes: list[dict]  # the existing classes (same indexes), then the new ones
    labels: dict[str, int]  # folder → class it trains (-1: footwear, ``label_shoes`` picks)
    # folder → the classes counted right for its photos; None: no store class, right when held
    answers: dict[str, frozenset[int] | None]
    left_out: dict[str, str] = field(default_factory=dict)  # folder → why its photos are unused
    new: list[str] = field(default_factory=list)  # the folders that became new classes

    @property
    def store_classes(self) -> frozenset[int]:
        return store_classes(self.classes)


def answer_groups(
    answers: Mapping[str, frozenset[int] | None], inherited: Iterable[frozenset[int]] = ()
) -> list[list[int]]:
    """The sets of classes a folder's photos count as right together (shoes: any footwear),
    with those the base model's card already had (``inherited``)."""
    groups = [a for a in answers.values() if a and len(a) > 1] + list(inherited)
    return [list(group) for group in sorted({tuple(sorted(g)) for g in groups})]


def store_classes(classes: list[dict]) -> frozenset[int]:
    """The classes the store files into (those with a category); the rest go to review."""
    return frozenset(c["index"] for c in classes if c["slug"])


def _matching_class(folder: str, classes: list[dict]) -> dict | None:
    """An existing class a folder names: by its category slug, else by any of its names."""
    for entry in classes:
        if entry["slug"] == folder:
            return entry
    for entry in classes:
        names = (entry["name"], entry["name_es"], entry["name_en"])
        # the store's own rule ("T-shirt/top" → "t-shirttop"): a folder the store exported
        if folder in {slugify(name) for name in names}:
            return entry
    return None


def plan_classes(
    base: list[dict],
    counts: Mapping[str, int],
    manifest: Mapping[str, int | frozenset[int] | None] | None,
    min_examples: int,
) -> ClassPlan:
    """Decide the new model's classes from the base's, the photos per folder and the manifest.

    ``manifest`` None: the clothing-photos layout (``FOLDER_CLASSES``); else the store's export,
    category slug → ``classifier_label``. A folder that stands for an existing class trains it,
    at its index (the store's categories point at indexes). One that stands for none becomes a
    new class, appended, when it has ``min_examples`` photos; with fewer it is left out, and said
    why. A category with no label still trains an existing class whose slug or name it bears
    (the store's "faldas" is the card's "Skirt"), so a class is never learned twice.
    """
    classes = [dict(entry) for entry in base]
    labels: dict[str, int] = {}
    answers: dict[str, frozenset[int] | None] = {}
    left_out: dict[str, str] = {}
    new: list[str] = []
    for folder, count in sorted(counts.items()):
        if manifest is None:
            if folder not in FOLDER_CLASSES:
                left_out[folder] = f"{folder}: not a clothing-photos folder"
                continue
            if FOLDER_CLASSES[folder]:
                labels[folder] = FOLDER_LABELS[folder]
                answers[folder] = FOLDER_CLASSES[folder]
                continue
            slug = ""  # hat, shorts, skirt: no store category yet, the store holds them
        else:
            label = manifest.get(folder)
            if isinstance(label, frozenset):  # a parent of classes: trains them as a group
                if max(label) >= len(base):
                    left_out[folder] = f"{folder}: stands for classes the base model lacks"
                else:
                    labels[folder], answers[folder] = -1, label  # label_shoes picks one
                continue
            if label is not None:
                if not 0 <= label < len(base):
                    left_out[folder] = (
                        f"{folder}: stands for class {label}, which the base model lacks"
                    )
                else:
                    classes[label]["slug"] = classes[label]["slug"] or folder
                    labels[folder], answers[folder] = label, frozenset({label})
                continue
            slug = folder
        match = _matching_class(folder, classes)
        if match is not None:
            if slug and not match["slug"]:
                match["slug"] = slug  # the store has a category for it now
            labels[folder] = match["index"]
            answers[folder] = frozenset({match["index"]}) if match["slug"] else None
        elif count >= min_examples:
            # the folder's name until the store names it (the card's own names when it has them)
            name = folder.replace("-", " ").replace("_", " ").strip().title()
            index = len(classes)
            classes.append(class_entry({"name": name, "slug": slug}, index))
            labels[folder] = index
            answers[folder] = frozenset({index}) if slug else None
            new.append(folder)
        else:
            left_out[folder] = f"{folder}: {count} photos, needs {min_examples}"
    return ClassPlan(classes, labels, answers, left_out, new)
