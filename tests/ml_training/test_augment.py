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
