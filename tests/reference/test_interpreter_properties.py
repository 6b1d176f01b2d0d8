"""Single-op Keras models with random hyperparameters: every element equals TFLite's BUILTIN_REF."""

import numpy as np
import pytest
import reference_models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgecnn.reference import Interpreter

pytest.importorskip("tensorflow")
pytest.importorskip("ai_edge_litert")

PROPERTY_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def assert_single_op_model_exact(keras_model, seed):
    shape = tuple(keras_model.inputs[0].shape[1:])
    generator = np.random.default_rng(seed)
    calibration = generator.normal(0, generator.uniform(0.2, 3.0), size=(8, *shape)).astype(np.float32)
    model_bytes = reference_models.convert(keras_model, calibration)
    interpreter = Interpreter(model_bytes)
    info = interpreter.input_details[0]
    inputs = generator.integers(-128, 128, size=(12, *info.shape[1:])).astype(np.int8)
    run = interpreter.run(inputs)
    reference = reference_models.litert_reference_tensors(model_bytes, inputs)
    assert reference_models.mismatches(interpreter, run, reference) == []
    return interpreter


def _keras():
    import keras

    return keras


@PROPERTY_SETTINGS
@given(
    size=st.integers(5, 14),
    channels=st.integers(1, 6),
    filters=st.integers(1, 8),
    kernel=st.integers(1, 4),
    stride=st.integers(1, 3),
    dilation=st.integers(1, 2),
    padding=st.sampled_from(["same", "valid"]),
    activation=st.sampled_from([None, "relu", "relu6"]),
    seed=st.integers(0, 2**16),
)
def test_conv_2d(size, channels, filters, kernel, stride, dilation, padding, activation, seed):
    keras = _keras()
    if dilation > 1:
        stride = 1  # Keras rejects strides > 1 together with dilation
    if padding == "valid" and (kernel - 1) * dilation + 1 > size:
        kernel = 1
    inputs = keras.Input((size, size + 1, channels))
    outputs = keras.layers.Conv2D(
        filters, kernel, strides=stride, dilation_rate=dilation, padding=padding, activation=activation
    )(inputs)
    interpreter = assert_single_op_model_exact(keras.Model(inputs, outputs), seed)
    assert "CONV_2D" in [operator.name for operator in interpreter.operators]


@PROPERTY_SETTINGS
@given(
    size=st.integers(5, 14),
    channels=st.integers(1, 6),
    multiplier=st.integers(1, 3),
    kernel=st.integers(1, 4),
    stride=st.integers(1, 3),
    dilation=st.integers(1, 2),
    padding=st.sampled_from(["same", "valid"]),
    seed=st.integers(0, 2**16),
)
def test_depthwise_conv_2d(size, channels, multiplier, kernel, stride, dilation, padding, seed):
    keras = _keras()
    if dilation > 1:
        stride = 1
    if padding == "valid" and (kernel - 1) * dilation + 1 > size:
        kernel = 1
    inputs = keras.Input((size, size, channels))
    outputs = keras.layers.DepthwiseConv2D(
        kernel, strides=stride, depth_multiplier=multiplier, dilation_rate=dilation, padding=padding
    )(inputs)
    interpreter = assert_single_op_model_exact(keras.Model(inputs, outputs), seed)
    assert "DEPTHWISE_CONV_2D" in [operator.name for operator in interpreter.operators]


@PROPERTY_SETTINGS
@given(
    size=st.integers(2, 8),
    channels=st.integers(1, 6),
    filters=st.integers(1, 6),
    kernel=st.integers(1, 4),
    stride=st.integers(1, 3),
    padding=st.sampled_from(["same", "valid"]),
    seed=st.integers(0, 2**16),
)
def test_transpose_conv(size, channels, filters, kernel, stride, padding, seed):
    keras = _keras()
    inputs = keras.Input((size, size, channels))
    outputs = keras.layers.Conv2DTranspose(filters, kernel, strides=stride, padding=padding)(inputs)
    assert_single_op_model_exact(keras.Model(inputs, outputs), seed)


@PROPERTY_SETTINGS
@given(
    size=st.integers(3, 12),
    channels=st.integers(1, 5),
    pool=st.integers(1, 4),
    stride=st.integers(1, 3),
    padding=st.sampled_from(["same", "valid"]),
    kind=st.sampled_from(["max", "average", "global"]),
    seed=st.integers(0, 2**16),
)
def test_pooling_and_mean(size, channels, pool, stride, padding, kind, seed):
    keras = _keras()
    pool = min(pool, size)
    inputs = keras.Input((size, size, channels))
    if kind == "global":
        pooled = keras.layers.GlobalAveragePooling2D()(inputs)
    else:
        layer = keras.layers.MaxPooling2D if kind == "max" else keras.layers.AveragePooling2D
        pooled = layer(pool, strides=stride, padding=padding)(inputs)
    # A conv first gives the pool an input scale and zero point of its own.
    model = keras.Model(inputs, pooled)
    assert_single_op_model_exact(model, seed)


@PROPERTY_SETTINGS
@given(
    depth=st.integers(1, 40),
    units=st.integers(1, 20),
    rows=st.integers(1, 3),
    activation=st.sampled_from([None, "relu", "softmax", "sigmoid", "tanh"]),
    seed=st.integers(0, 2**16),
)
def test_fully_connected_and_activations(depth, units, rows, activation, seed):
    keras = _keras()
    # edgecnn's quantizer takes image models: (rows, rows, depth) flattened into the dense layer.
    inputs = keras.Input((rows, rows, depth))
    outputs = keras.layers.Dense(units, activation=activation)(keras.layers.Flatten()(inputs))
    assert_single_op_model_exact(keras.Model(inputs, outputs), seed)


@PROPERTY_SETTINGS
@given(
    size=st.integers(2, 8),
    channels=st.integers(1, 6),
    operation=st.sampled_from(["add", "subtract", "multiply", "concatenate", "hard_swish", "leaky_relu"]),
    seed=st.integers(0, 2**16),
)
def test_elementwise(size, channels, operation, seed):
    keras = _keras()
    inputs = keras.Input((size, size, channels))
    first = keras.layers.Conv2D(channels, 1)(inputs)
    second = keras.layers.Conv2D(channels, 3, padding="same")(inputs)
    if operation == "hard_swish":
        outputs = keras.layers.Activation("hard_swish")(first)
    elif operation == "leaky_relu":
        outputs = keras.layers.LeakyReLU(negative_slope=0.1 + (seed % 7) / 10)(first)
    else:
        layer = {
            "add": keras.layers.Add,
            "subtract": keras.layers.Subtract,
            "multiply": keras.layers.Multiply,
            "concatenate": keras.layers.Concatenate,
        }[operation]
        outputs = layer()([first, second])
    assert_single_op_model_exact(keras.Model(inputs, outputs), seed)
