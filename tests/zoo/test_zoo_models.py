"""Every zoo model builds at its default input shape and at a small one, and outputs probabilities."""

import numpy as np
import pytest

import edgecnn.zoo as zoo
from edgecnn.errors import ConfigurationError

keras = pytest.importorskip("keras")

# Layers that convert to builtin int8 TFLite ops (batch normalization folds into the conv before it).
INT8_FRIENDLY_LAYERS = (
    keras.layers.InputLayer, keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense,
    keras.layers.MaxPooling2D, keras.layers.AveragePooling2D, keras.layers.GlobalAveragePooling2D,
    keras.layers.Add, keras.layers.ReLU, keras.layers.BatchNormalization, keras.layers.Flatten,
    keras.layers.Dropout, keras.layers.Softmax,
)
FUSABLE_ACTIVATIONS = (None, keras.activations.linear, keras.activations.relu, keras.activations.sigmoid)

SMALL_SHAPES = {"lenet5": (28, 28, 3), "simple_cnn": (32, 32, 1), "tiny_vgg": (32, 32, 1)}


@pytest.mark.parametrize("name", zoo.list_models())
def test_model_builds_at_default_and_small_shapes_and_outputs_probabilities(name):
    default_model = zoo.create_model(name)
    assert default_model.name == name
    assert tuple(default_model.input_shape) == (None, *zoo.model_info(name).default_input_shape)
    assert tuple(default_model.output_shape) == (None, 10)
    assert isinstance(default_model.layers[-1], keras.layers.Softmax)

    small_shape = SMALL_SHAPES.get(name, (32, 32, 3))
    model = zoo.create_model(name, input_shape=small_shape, num_classes=3)
    assert tuple(model.input_shape) == (None, *small_shape)
    assert tuple(model.output_shape) == (None, 3)
    images = np.random.default_rng(0).random((2, *small_shape), dtype=np.float32)
    probabilities = model(images, training=False).numpy()
    assert probabilities.shape == (2, 3)
    assert np.all(probabilities >= 0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)

    for layer in model.layers:
        assert isinstance(layer, INT8_FRIENDLY_LAYERS), f"{layer.name} is a {type(layer).__name__}"
        assert getattr(layer, "activation", None) in FUSABLE_ACTIVATIONS, layer.name
        if isinstance(layer, keras.layers.ReLU):
            assert layer.max_value in (None, 6.0) and layer.negative_slope == 0, layer.name


def test_lenet5_first_conv_pads_28x28_like_the_classic_32x32():
    model = zoo.create_model("lenet5", activation="sigmoid", pooling="average")
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}
    assert shapes["c1"] == (28, 28, 6)
    assert shapes["s2"] == (14, 14, 6)
    assert shapes["c3"] == (10, 10, 16)
    assert shapes["s4"] == (5, 5, 16)
    assert model.get_layer("c1").activation is keras.activations.sigmoid
    assert isinstance(model.get_layer("s2"), keras.layers.AveragePooling2D)
    default = zoo.create_model("lenet5")
    assert isinstance(default.get_layer("s2"), keras.layers.MaxPooling2D)
    assert default.get_layer("c1").activation is keras.activations.relu


def test_simple_cnn_flattens_7x7x64_from_28x28():
    model = zoo.create_model("simple_cnn")
    assert tuple(model.get_layer("flatten").output.shape) == (None, 7 * 7 * 64)
    assert model.count_params() == 320 + 18_496 + (3136 * 128 + 128) + (128 * 10 + 10)


def test_width_options_scale_channels():
    narrow = zoo.create_model("vgg11", width=0.25)
    wide = zoo.create_model("vgg11", width=0.5)
    assert narrow.get_layer("block5_conv2").filters == 128
    assert wide.get_layer("block5_conv2").filters == 256
    assert zoo.create_model("resnet20", width=0.5).get_layer("stage3_block3_conv2").filters == 32


def test_resnets_project_only_where_the_shape_changes():
    model = zoo.create_model("resnet20")
    projections = sorted(layer.name for layer in model.layers if layer.name.endswith("_project"))
    assert projections == ["stage2_block1_project", "stage3_block1_project"]
    assert len([layer for layer in model.layers if isinstance(layer, keras.layers.Add)]) == 9


def test_too_small_inputs_fail_with_the_model_and_shape():
    with pytest.raises(ConfigurationError, match=r"input shape \(16, 16, 3\) is too small for 'vgg11'"):
        zoo.create_model("vgg11", input_shape=(16, 16, 3))
    with pytest.raises(ConfigurationError, match=r"too small for 'tiny_vgg'"):
        zoo.create_model("tiny_vgg", input_shape=(12, 12, 3))


def test_a_zoo_model_survives_a_keras_save_and_load(tmp_path):
    model = zoo.create_model("resnet8", input_shape=(16, 16, 3), num_classes=4)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    images = np.random.default_rng(1).random((2, 16, 16, 3), dtype=np.float32)
    np.testing.assert_allclose(loaded(images).numpy(), model(images).numpy(), atol=1e-6)
