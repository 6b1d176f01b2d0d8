"""Registry behaviour: listing, filtering, errors that name the valid choices, and a light import."""

import subprocess
import sys

import pytest

import edgecnn.zoo as zoo
from edgecnn.errors import ConfigurationError

EXPECTED_MODELS = [
    "alexnet", "lenet5", "mobilenet_v2", "resnet18", "resnet20", "resnet8", "simple_cnn", "tiny_vgg", "vgg11",
    "vgg16",
]


def test_list_models_is_sorted_and_complete():
    assert zoo.list_models() == EXPECTED_MODELS


def test_list_models_filters_with_fnmatch_patterns():
    assert zoo.list_models("resnet*") == ["resnet18", "resnet20", "resnet8"]
    assert zoo.list_models("vgg1?") == ["vgg11", "vgg16"]
    assert zoo.list_models("*net*") == [
        "alexnet", "lenet5", "mobilenet_v2", "resnet18", "resnet20", "resnet8",
    ]
    assert zoo.list_models("nothing*") == []


def test_model_info_gives_default_shapes_options_and_descriptions():
    expected_shapes = {
        "lenet5": (28, 28, 1), "simple_cnn": (28, 28, 1), "tiny_vgg": (64, 64, 3), "alexnet": (32, 32, 3),
        "vgg11": (32, 32, 3), "vgg16": (32, 32, 3), "resnet8": (32, 32, 3), "resnet20": (32, 32, 3),
        "resnet18": (96, 96, 3), "mobilenet_v2": (96, 96, 3),
    }
    for name, shape in expected_shapes.items():
        info = zoo.model_info(name)
        assert info.default_input_shape == shape
        assert info.description and "\n" not in info.description
        assert info.to_dict()["default_input_shape"] == list(shape)
    assert zoo.model_info("lenet5").options == {"activation": "relu", "pooling": "max"}
    assert zoo.model_info("mobilenet_v2").options["alpha"] == 0.35
    assert zoo.model_info("vgg16").options["width"] == 0.25


def test_unknown_model_error_lists_valid_names():
    with pytest.raises(ConfigurationError) as raised:
        zoo.model_info("resnet50")
    message = str(raised.value)
    assert "'resnet50'" in message
    assert all(name in message for name in EXPECTED_MODELS)
    with pytest.raises(ConfigurationError, match="valid models: alexnet, lenet5"):
        zoo.create_model("nope")


def test_duplicate_registration_fails_and_keeps_the_first_builder():
    original = zoo.model_info("lenet5").builder
    expected = "'lenet5' is already registered by edgecnn.zoo.classic.lenet5"
    with pytest.raises(ConfigurationError, match=expected):
        @zoo.register_model("lenet5", default_input_shape=(28, 28, 1))
        def another_lenet(input_shape, num_classes=10):
            raise AssertionError("never built")
    assert zoo.model_info("lenet5").builder is original


def test_registering_a_new_model_makes_it_listed_and_creatable():
    @zoo.register_model("test_only_dense", default_input_shape=(4, 4, 1), description="A test model.")
    def test_only_dense(input_shape, num_classes=10, units=3):
        import keras

        inputs = keras.Input(shape=input_shape)
        x = keras.layers.Flatten()(inputs)
        x = keras.layers.Dense(units)(x)
        x = keras.layers.Dense(num_classes)(x)
        return keras.Model(inputs, keras.layers.Softmax()(x))

    try:
        assert "test_only_dense" in zoo.list_models("test_*")
        info = zoo.model_info("test_only_dense")
        assert (info.description, info.options) == ("A test model.", {"units": 3})
        model = zoo.create_model("test_only_dense", num_classes=2, units=5)
        assert model.count_params() == (16 * 5 + 5) + (5 * 2 + 2)
    finally:
        zoo.unregister_model("test_only_dense")
    assert "test_only_dense" not in zoo.list_models()


def test_builders_must_take_the_common_arguments():
    with pytest.raises(ConfigurationError, match="must take num_classes"):
        zoo.register_model("test_bad_builder", default_input_shape=(8, 8, 1))(lambda input_shape: None)
    assert "test_bad_builder" not in zoo.list_models()


@pytest.mark.parametrize("shape", [(28, 28), (0, 28, 1), (28, 28, 1, 1), "28x28", (28.5, 28, 1)])
def test_create_model_rejects_malformed_input_shapes(shape):
    with pytest.raises(ConfigurationError, match="input shape"):
        zoo.create_model("lenet5", input_shape=shape)


def test_create_model_rejects_unknown_options_and_bad_values():
    with pytest.raises(ConfigurationError, match="no option width; its options: activation, pooling"):
        zoo.create_model("lenet5", width=2)
    with pytest.raises(ConfigurationError, match="activation must be one of relu, sigmoid"):
        zoo.create_model("lenet5", activation="tanh")
    with pytest.raises(ConfigurationError, match="alpha must be a positive number"):
        zoo.create_model("mobilenet_v2", alpha=0)
    with pytest.raises(ConfigurationError, match="num_classes"):
        zoo.create_model("lenet5", num_classes=1)


def test_parse_model_options_types_values_like_the_defaults():
    assert zoo.parse_model_options("vgg11", ["width=0.5", "batch-norm=false", "dropout_rate=0"]) == {
        "width": 0.5, "batch_norm": False, "dropout_rate": 0.0,
    }
    assert zoo.parse_model_options("lenet5", ["activation=sigmoid"]) == {"activation": "sigmoid"}
    assert zoo.parse_model_options("tiny_vgg", ["filters=16"]) == {"filters": 16}
    with pytest.raises(ConfigurationError, match="takes a float like 0.25"):
        zoo.parse_model_options("vgg11", ["width=wide"])
    with pytest.raises(ConfigurationError, match="its options: activation, pooling"):
        zoo.parse_model_options("lenet5", ["alpha=1"])
    with pytest.raises(ConfigurationError, match="not KEY=VALUE"):
        zoo.parse_model_options("lenet5", ["activation"])


def test_importing_the_zoo_and_reading_metadata_does_not_load_tensorflow():
    code = (
        "import sys, edgecnn.zoo as zoo\n"
        "assert len(zoo.list_models()) >= 10 and zoo.model_info('resnet18').default_input_shape\n"
        "loaded = [name for name in ('tensorflow', 'keras', 'cv2', 'matplotlib') if name in sys.modules]\n"
        "print(loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
