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
