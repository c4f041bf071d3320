import numpy as np
import pytest

from ml_training import augment


@pytest.mark.parametrize("preset", sorted(augment.PRESETS))
def test_augmentation_acts_in_training_only(preset):
    rng = np.random.default_rng(0)
    images = np.zeros((16, 28, 28, 1), np.float32)
    images[:, 4:24, 6:14] = rng.random((16, 20, 8, 1))  # off-centre, so a flip shows
    layer = augment.augmenter(preset)
    trained = np.asarray(layer(images, training=True))
    inferred = np.asarray(layer(images, training=False))
    np.testing.assert_array_equal(inferred, images)
    changed = [not np.allclose(a, b, atol=1e-3) for a, b in zip(trained, images, strict=True)]
    assert sum(changed) >= 12  # almost every image differs
    assert trained.shape == images.shape and trained.min() >= 0 and trained.max() <= 1 + 1e-6


def test_a_batch_is_augmented_in_the_presets_share_only():
    images = np.zeros((400, 28, 28, 1), np.float32)
    images[:, 4:24, 6:14] = 0.8  # off-centre, so any change shows
    batch = np.asarray(augment.augment_batch(augment.augmenter("course"), images, "course"))
    unchanged = np.mean([np.array_equal(a, b) for a, b in zip(batch, images, strict=True)])
    assert 0.35 < unchanged < 0.75  # half untouched, plus the few a mirror-only change missed
    everything = augment.augment_batch(augment.augmenter("light"), images, "light")
    assert (
        np.mean([np.array_equal(a, b) for a, b in zip(np.asarray(everything), images, strict=True)])
        < 0.2
    )
