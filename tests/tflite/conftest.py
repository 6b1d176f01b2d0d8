"""Converted models shared by the flatbuffer reader tests (converted once per session)."""

import os

import numpy
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def convert_to_int8(keras_model, calibration_inputs):
    """Full-int8 post-training quantization, int8 input and output."""
    import tensorflow

    converter = tensorflow.lite.TFLiteConverter.from_keras_model(keras_model)
    converter.optimizations = [tensorflow.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: (
        [sample[None].astype(numpy.float32)] for sample in calibration_inputs
    )
    converter.target_spec.supported_ops = [tensorflow.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tensorflow.int8
    converter.inference_output_type = tensorflow.int8
    return converter.convert()


@pytest.fixture(scope="session")
def small_int8_model_bytes():
    """Conv, depthwise (multiplier 2, dilation), pools, add, concat, pad, mean, dense and softmax."""
    keras = pytest.importorskip("keras")
    pytest.importorskip("tensorflow")
    inputs = keras.Input((12, 12, 3), batch_size=1)
    conv = keras.layers.Conv2D(8, 3, padding="same", activation="relu", dilation_rate=2)(inputs)
    depthwise = keras.layers.DepthwiseConv2D(
        3, strides=2, padding="same", depth_multiplier=2, activation="relu6"
    )(conv)
    pooled = keras.layers.MaxPooling2D()(depthwise)
    averaged = keras.layers.AveragePooling2D(3, strides=1, padding="same")(pooled)
    added = keras.layers.Add()([pooled, averaged])
    joined = keras.layers.Concatenate()([added, pooled])
    padded = keras.layers.ZeroPadding2D(1)(joined)
    mean = keras.layers.GlobalAveragePooling2D()(padded)
    flat = keras.layers.Flatten()(keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same")(pooled))
    dense = keras.layers.Dense(10)(keras.layers.Concatenate()([mean, flat]))
    outputs = keras.layers.Softmax()(dense)
    model = keras.Model(inputs, outputs)
    calibration = numpy.random.default_rng(0).normal(size=(16, 12, 12, 3)).astype(numpy.float32)
    return convert_to_int8(model, calibration)


@pytest.fixture(scope="session")
def small_int8_model_path(small_int8_model_bytes, tmp_path_factory):
    path = tmp_path_factory.mktemp("tflite") / "small_int8.tflite"
    path.write_bytes(small_int8_model_bytes)
    return path
