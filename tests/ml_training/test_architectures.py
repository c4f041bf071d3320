import numpy as np
import pytest

from ml_training import architectures


@pytest.mark.parametrize("name", sorted(architectures.BUILDERS))
def test_every_network_maps_a_batch_of_images_to_ten_probabilities(name):
    model = architectures.build(name)
    assert model.input_shape == (None, 28, 28, 1)
    out = np.asarray(model(np.random.rand(3, 28, 28, 1).astype("float32"), training=False))
    assert out.shape == (3, 10)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_course_networks_have_the_course_shapes():
    kinds = lambda m: [type(layer).__name__ for layer in m.layers]  # noqa: E731
    assert "Conv2D" not in kinds(architectures.dense())
    assert kinds(architectures.cnn()).count("Conv2D") == 2
    assert "Dropout" not in kinds(architectures.cnn())
    assert kinds(architectures.cnn_dropout()).count("Dropout") == 3
    assert "BatchNormalization" in kinds(architectures.production())


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="dense, cnn, cnn_dropout, production"):
        architectures.build("resnet")


def test_shift_moves_the_image_by_whole_pixels_with_black_coming_in():
    image = np.zeros((1, 28, 28, 1), np.float32)
    image[0, 10, 20, 0], image[0, 0, 0, 0] = 1.0, 0.5
    down = np.asarray(architectures.shifted(image, 1, 0))
    assert down[0, 11, 20, 0] == 1.0 and down[0, 1, 0, 0] == 0.5 and down[0, 0].max() == 0
    left = np.asarray(architectures.shifted(image, 0, -1))
    assert left[0, 10, 19, 0] == 1.0 and left.sum() == 1.0  # the corner pixel went out
    assert left.shape == image.shape


def test_view_averaging_is_the_mean_over_mirror_images_and_shifts_and_survives_saving(tmp_path):
    import keras

    model = architectures.build("cnn")
    averaged = architectures.with_flip_averaging(model, architectures.SHIFTS)
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
    views = []
    for dy, dx in architectures.SHIFTS:
        moved = np.roll(x, (dy, dx), axis=(1, 2))  # the same where the border is black
        if dy:
            moved[:, 0 if dy > 0 else -1] = 0
        if dx:
            moved[:, :, 0 if dx > 0 else -1] = 0
        views += [model(moved, training=False), model(moved[:, :, ::-1], training=False)]
    expected = np.mean(views, axis=0)
    np.testing.assert_allclose(averaged(x, training=False), expected, atol=1e-6)
    averaged.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras", compile=False)
    np.testing.assert_allclose(loaded(x, training=False), expected, atol=1e-6)
    assert architectures.unwrapped(loaded).name == model.name
    assert architectures.view_shifts(loaded) == architectures.SHIFTS
    two = architectures.with_flip_averaging(model)
    assert architectures.view_shifts(two) == architectures.NO_SHIFT
    np.testing.assert_allclose(two(x, training=False), np.mean(views[:2], axis=0), atol=1e-6)
