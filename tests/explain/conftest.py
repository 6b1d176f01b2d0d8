"""Models and images for the explain tests, made once per session."""

import pathlib

import numpy as np
import pytest

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def tiny_vgg():
    """The trained tiny_vgg on shapes that the repository keeps (models/tiny_vgg-shapes)."""
    return REPOSITORY / "models" / "tiny_vgg-shapes" / "model_int8.tflite"


def build_window_model(keras):
    """What tiny_vgg and lenet5 lack: SAME padding with stride 2, a dilated depthwise conv with channel
    multiplier 2, RELU6, average pooling, a per-channel dense layer."""
    layers = keras.layers
    inputs = keras.Input((20, 20, 3), name="image")
    first = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu6", name="strided")(inputs)
    depthwise = layers.DepthwiseConv2D(3, depth_multiplier=2, dilation_rate=2, padding="same",
                                       activation="relu", name="depthwise")(first)
    pooled = layers.AveragePooling2D(3, strides=2, padding="same", name="average")(depthwise)
    logits = layers.Dense(5, name="logits")(layers.Flatten(name="flatten")(pooled))
    model = keras.Model(inputs, layers.Softmax(name="probabilities")(logits), name="windows")
    random = np.random.default_rng(5)
    model.set_weights([random.normal(scale=0.5, size=w.shape).astype(np.float32) for w in model.get_weights()])
    return model


@pytest.fixture(scope="session")
def window_models(tmp_path_factory):
    """int8 and float32 .tflite of build_window_model, its .keras, and an RGB test image."""
    keras = pytest.importorskip("keras")
    from PIL import Image

    from edgecnn.artifacts import ModelMetadata
    from edgecnn.data import Preprocessing
    from edgecnn.quantize.converter import quantize_keras_model

    directory = tmp_path_factory.mktemp("window_models")
    model = build_window_model(keras)
    random = np.random.default_rng(1)
    calibration = random.random((32, 20, 20, 3), dtype=np.float32)
    metadata = ModelMetadata(labels=list("abcde"), preprocessing=Preprocessing.for_input_shape((20, 20, 3)))
    paths = {"int8": directory / "windows_int8.tflite", "float": directory / "windows_float.tflite",
             "keras": directory / "windows.keras", "image": directory / "noise.png"}
    model.save(paths["keras"])
    paths["int8"].write_bytes(quantize_keras_model(model, calibration, metadata=metadata))
    paths["float"].write_bytes(quantize_keras_model(model, mode="float32", io_type="float32"))
    Image.fromarray(random.integers(0, 256, (24, 30, 3), dtype=np.uint8)).save(paths["image"])
    return paths


@pytest.fixture(scope="session")
def images(tmp_path_factory):
    """A shapes image (RGB 64x64), a digit (grayscale 28x28), and files explain must refuse."""
    from PIL import Image

    from edgecnn.data import load_dataset
    from edgecnn.data.builtin import make_shapes

    directory = tmp_path_factory.mktemp("images")
    paths = {name: directory / f"{name}.png" for name in ("shape", "digit", "digit_as_rgb", "transparent")}
    Image.fromarray(make_shapes(1, seed=2).images[0]).save(paths["shape"])
    digit = load_dataset("mnist-sample", split="test").images[0][..., 0]
    Image.fromarray(digit).save(paths["digit"])
    Image.fromarray(np.repeat(digit[..., None], 3, axis=2)).save(paths["digit_as_rgb"])
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 3] = 100
    Image.fromarray(rgba).save(paths["transparent"])
    paths["not_an_image"] = directory / "notes.png"
    paths["not_an_image"].write_text("not a picture")
    return paths
