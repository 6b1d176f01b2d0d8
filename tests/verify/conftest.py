"""Real converted models for the verify and fuzz tests, converted once per session."""

import os

import numpy
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def build_digits_model(keras):
    """A small digit classifier: conv, depthwise, add, max/average pool, reshape, dense and softmax."""
    layers = keras.layers
    inputs = keras.Input((28, 28, 1), name="image")
    first = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
    depthwise = layers.DepthwiseConv2D(3, padding="same", name="depthwise")(first)
    added = layers.Add(name="add")([first, depthwise])
    pooled = layers.MaxPooling2D(name="pool")(added)
    second = layers.Conv2D(12, 3, strides=2, padding="valid", activation="relu6", name="conv2")(pooled)
    averaged = layers.AveragePooling2D(2, name="average")(second)
    flat = layers.Flatten(name="flatten")(averaged)
    logits = layers.Dense(10, name="logits")(flat)
    outputs = layers.Softmax(name="probabilities")(logits)
    model = keras.Model(inputs, outputs, name="digits")
    # Random but not degenerate weights: a fixed seed keeps the converted model the same run to run.
    random = numpy.random.default_rng(3)
    model.set_weights(
        [random.normal(scale=0.4, size=weight.shape).astype(numpy.float32) for weight in model.get_weights()]
    )
    return model


@pytest.fixture(scope="session")
def verify_models(tmp_path_factory):
    """Paths: digits int8 (with edgecnn metadata), its .keras, digits float32, the zoo's lenet5 in int8."""
    pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    from edgecnn import zoo
    from edgecnn.artifacts import ModelMetadata
    from edgecnn.data import Preprocessing, load_dataset
    from edgecnn.quantize.converter import quantize_keras_model

    directory = tmp_path_factory.mktemp("verify_models")
    preprocessing = Preprocessing.for_input_shape((28, 28, 1))
    calibration = load_dataset("mnist-sample", preprocessing).take(64, seed=1).inputs(preprocessing)
    metadata = ModelMetadata(
        labels=[str(digit) for digit in range(10)],
        preprocessing=preprocessing,
        model_name=None,
        dataset="mnist-sample",
    )
    digits = build_digits_model(keras)
    paths = {
        "digits_int8": directory / "digits_int8.tflite",
        "digits_keras": directory / "digits.keras",
        "digits_float": directory / "digits_float.tflite",
        "lenet5_int8": directory / "lenet5_int8.tflite",
    }
    digits.save(paths["digits_keras"])
    paths["digits_int8"].write_bytes(quantize_keras_model(digits, calibration, metadata=metadata))
    paths["digits_float"].write_bytes(quantize_keras_model(digits, mode="float32", io_type="float32"))
    lenet5 = zoo.create_model("lenet5", input_shape=(28, 28, 1), num_classes=10)
    paths["lenet5_int8"].write_bytes(quantize_keras_model(lenet5, calibration))
    paths["bias_dimension_3"] = directory / "bias_dimension_3.tflite"
    paths["bias_dimension_3"].write_bytes(bias_quantized_dimension_3(paths["digits_int8"].read_bytes()))
    return paths


def bias_quantized_dimension_3(model_bytes):
    """The model with its convolution biases tagged quantized_dimension 3 (they are 1-D).

    That is how MobileNetV1 published with TFLite Micro (person_detect.tflite) stores its biases: TFLite Micro
    runs it, LiteRT refuses to load it ("quantized_dimension must be in range [0, 1)", once per tensor).
    """
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(model_bytes))
    graph = model.subgraphs[0]
    operators = flatbuffer_utils.schema_fb.BuiltinOperator
    convolutions = (operators.CONV_2D, operators.DEPTHWISE_CONV_2D)
    for operator in graph.operators:
        if model.operatorCodes[operator.opcodeIndex].builtinCode in convolutions:
            graph.tensors[operator.inputs[2]].quantization.quantizedDimension = 3
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))
