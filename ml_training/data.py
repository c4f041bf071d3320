"""Fashion-MNIST from the standard IDX ``.gz`` files, normalized to [0, 1].

The data directory comes from ``--data-dir``, else ``FASHION_MNIST_DIR``; only when neither is set
does it fall back to the standard Keras download (users with internet). Tests and CI always pass a
directory, so nothing is downloaded at run time there.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
VALIDATION_SIZE = 5_000
SPLIT_SEED = 1234


class DatasetError(RuntimeError):
    """A data file is missing, truncated or not in IDX format; the message names the file."""


@dataclass(frozen=True)
class Split:
    x: np.ndarray  # float32, shape (n, 28, 28, 1), values in [0, 1]
    y: np.ndarray  # uint8, shape (n,)


@dataclass(frozen=True)
class FashionMNIST:
    train: Split
    validation: Split
    test: Split
    source: str
    checksum: str  # sha256 over the four files, recorded in the model card


def read_idx(path: Path, magic: int) -> np.ndarray:
    """Read one gzipped IDX file; every way it can be broken gets an error naming the file."""
    if not path.is_file():
        raise DatasetError(f"{path}: file not found; pass --data-dir or set FASHION_MNIST_DIR")
    try:
        with gzip.open(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise DatasetError(f"{path}: not a readable gzip file ({exc})") from exc
    ndim = 3 if magic == IMAGES_MAGIC else 1
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DatasetError(f"{path}: too short for an IDX header ({len(raw)} bytes)")
    found_magic, *dims = struct.unpack(f">{1 + ndim}I", raw[:header_size])
    if found_magic != magic:
        raise DatasetError(f"{path}: IDX magic number is {found_magic}, expected {magic}")
    expected = int(np.prod(dims))
    if len(raw) - header_size != expected:
        raise DatasetError(
            f"{path}: truncated or padded: header announces {expected} bytes of data, "
            f"found {len(raw) - header_size}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(dims)


def _checksum(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The explicit directory, else ``FASHION_MNIST_DIR``, else None (meaning: Keras download)."""
    chosen = data_dir or os.environ.get("FASHION_MNIST_DIR")
    return Path(chosen) if chosen else None


def load_raw(data_dir: str | os.PathLike | None = None) -> tuple[tuple, tuple, str, str]:
    """uint8 ``(x_train, y_train), (x_test, y_test)`` plus the source and its checksum."""
    directory = resolve_data_dir(data_dir)
    if directory is None:
        from keras.datasets import fashion_mnist  # needs internet the first time

        directory = Path.home() / ".keras" / "datasets" / "fashion-mnist"
        try:
            fashion_mnist.load_data()
        except Exception as exc:  # offline, a proxy, a half-written cache: say what to do
            raise DatasetError(
                f"Fashion-MNIST is not on this machine and could not be downloaded ({exc}); "
                "set FASHION_MNIST_DIR (or pass --data-dir) to a folder with its four .gz files"
            ) from exc
    paths = {key: directory / name for key, name in FILES.items()}
    x_train = read_idx(paths["train_images"], IMAGES_MAGIC)
    y_train = read_idx(paths["train_labels"], LABELS_MAGIC)
    x_test = read_idx(paths["test_images"], IMAGES_MAGIC)
    y_test = read_idx(paths["test_labels"], LABELS_MAGIC)
    for images, labels, name in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if len(images) != len(labels):
            raise DatasetError(
                f"{directory}: {name} has {len(images)} images but {len(labels)} labels"
            )
    return (x_train, y_train), (x_test, y_test), str(directory), _checksum(list(paths.values()))


def normalize(images: np.ndarray) -> np.ndarray:
    """uint8 (n, 28, 28) → float32 (n, 28, 28, 1) in [0, 1], the model's input spec."""
    return (images.astype(np.float32) / 255.0)[..., np.newaxis]


def load(
    data_dir: str | os.PathLike | None = None,
    validation_size: int = VALIDATION_SIZE,
    limit: int | None = None,
) -> FashionMNIST:
    """Train/validation/test splits; validation is a seeded hold-out of the training set.

    ``limit`` keeps the first ``limit`` training images (after the shuffle), for smoke runs.
    """
    (x_train, y_train), (x_test, y_test), source, checksum = load_raw(data_dir)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x_train))
    val_idx, train_idx = order[:validation_size], order[validation_size:]
    if limit is not None:
        train_idx = train_idx[:limit]
    return FashionMNIST(
        train=Split(normalize(x_train[train_idx]), y_train[train_idx]),
        validation=Split(normalize(x_train[val_idx]), y_train[val_idx]),
        test=Split(normalize(x_test), y_test),
        source=source,
        checksum=checksum,
    )
