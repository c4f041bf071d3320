"""The IDX loader on files the tests write themselves, including broken ones."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from ml_training import data


def write_idx(path, array: np.ndarray, magic: int, truncate: int = 0) -> None:
    header = struct.pack(f">{1 + array.ndim}I", magic, *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    with gzip.open(path, "wb") as fh:
        fh.write(payload[: len(payload) - truncate] if truncate else payload)


@pytest.fixture
def idx_dir(tmp_path):
    rng = np.random.default_rng(0)
    for split, n in (("train", 60), ("t10k", 20)):
        write_idx(
            tmp_path / f"{split}-images-idx3-ubyte.gz",
            rng.integers(0, 256, (n, 28, 28)),
            data.IMAGES_MAGIC,
        )
        write_idx(
            tmp_path / f"{split}-labels-idx1-ubyte.gz", rng.integers(0, 10, n), data.LABELS_MAGIC
        )
    return tmp_path


def test_loads_normalized_splits_with_a_disjoint_validation_hold_out(idx_dir):
    ds = data.load(idx_dir, validation_size=10)
    assert ds.train.x.shape == (50, 28, 28, 1) and ds.validation.x.shape == (10, 28, 28, 1)
    assert ds.test.x.shape == (20, 28, 28, 1)
    assert ds.train.x.dtype == np.float32 and ds.train.x.min() >= 0.0 and ds.train.x.max() <= 1.0
    assert ds.train.x.max() > 0.9  # 0-255 mapped onto 0-1, not left as bytes or squashed
    raw = data.read_idx(idx_dir / "train-images-idx3-ubyte.gz", data.IMAGES_MAGIC)
    all_train = {row.tobytes() for row in (raw / 255.0).astype(np.float32)}
    held_out = {row[..., 0].tobytes() for row in ds.validation.x}
    trained = {row[..., 0].tobytes() for row in ds.train.x}
    assert held_out <= all_train and not held_out & trained
    assert len(ds.checksum) == 64


def test_truncated_file_is_named_in_the_error(idx_dir):
    path = idx_dir / "t10k-images-idx3-ubyte.gz"
    write_idx(path, np.zeros((20, 28, 28)), data.IMAGES_MAGIC, truncate=100)
    with pytest.raises(data.DatasetError, match="t10k-images-idx3-ubyte.gz.*truncated"):
        data.load(idx_dir, validation_size=10)


def test_missing_file_says_where_to_point(idx_dir):
    (idx_dir / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DatasetError, match="train-labels-idx1-ubyte.gz.*FASHION_MNIST_DIR"):
        data.load(idx_dir)


def test_not_gzip_and_wrong_magic_are_named(idx_dir):
    bad = idx_dir / "train-images-idx3-ubyte.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(data.DatasetError, match="train-images-idx3-ubyte.gz.*gzip"):
        data.load(idx_dir)
    write_idx(bad, np.zeros((60, 28, 28)), data.LABELS_MAGIC)
    with pytest.raises(data.DatasetError, match="magic number is 2049, expected 2051"):
        data.load(idx_dir)


def test_images_and_labels_must_match(idx_dir):
    write_idx(idx_dir / "t10k-labels-idx1-ubyte.gz", np.zeros(19), data.LABELS_MAGIC)
    with pytest.raises(data.DatasetError, match="20 images but 19 labels"):
        data.load(idx_dir)


def test_directory_comes_from_the_flag_then_the_environment(idx_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(idx_dir))
    assert data.resolve_data_dir() == idx_dir
    assert data.resolve_data_dir(tmp_path / "elsewhere") == tmp_path / "elsewhere"
    monkeypatch.delenv("FASHION_MNIST_DIR")
    assert data.resolve_data_dir() is None  # → the Keras download, for users with internet


def test_real_data_set_has_the_standard_shape(fashion_mnist_dir):
    ds = data.load(fashion_mnist_dir)
    assert len(ds.train.y) + len(ds.validation.y) == 60_000 and len(ds.test.y) == 10_000
    assert np.bincount(ds.test.y).tolist() == [1000] * 10


def test_without_the_data_set_and_offline_the_error_says_what_to_set(monkeypatch):
    """No folder given and the download fails (a closed network): one sentence that names
    FASHION_MNIST_DIR, which the store's Model page shows when a retraining stops on it."""
    from keras.datasets import fashion_mnist

    def offline():
        raise OSError("URL fetch failure: [Errno -2] Name or service not known")

    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.setattr(fashion_mnist, "load_data", offline)
    with pytest.raises(data.DatasetError, match="could not be downloaded .*set FASHION_MNIST_DIR"):
        data.load_raw()
