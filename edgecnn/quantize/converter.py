"""Post-training quantization of Keras models to TFLite.

The batch is fixed to 1 at conversion: with a dynamic batch, Keras 3 Flatten becomes SHAPE -> STRIDED_SLICE ->
PACK -> RESHAPE, which microcontrollers and the Edge TPU handle badly; with batch 1 it is a single RESHAPE.
"""

import numpy as np

from edgecnn import extras
from edgecnn.errors import ConfigurationError, UnsupportedModelError, short_reason

MODES = ("int8", "float16", "dynamic", "float32")
IO_TYPES = ("int8", "uint8", "float32")


def model_input_shape(keras_model):
    """(H, W, C) of a single-input image model, failing clearly for anything else."""
    inputs = keras_model.inputs
    if len(inputs) != 1:
        raise UnsupportedModelError(f"edgecnn handles models with one image input; this one has {len(inputs)}")
    shape = tuple(inputs[0].shape)[1:]
    if len(shape) != 3 or any(dimension is None for dimension in shape):
        raise UnsupportedModelError(
            f"the model's input shape {tuple(inputs[0].shape)} is not (batch, height, width, channels) "
            "with a fixed size"
        )
    return tuple(int(dimension) for dimension in shape)


def quantize_keras_model(keras_model, calibration_inputs=None, mode="int8", io_type="int8", metadata=None):
    """Convert `keras_model` to TFLite bytes.

    mode "int8": full-integer post-training quantization, per-channel weights, calibrated on
    `calibration_inputs` (float32 NHWC, already preprocessed); every op runs in int8 and the model's input and
    output are `io_type`. "float16" and "dynamic" quantize weights only; "float32" converts without quantizing.
    """
    if mode not in MODES:
        raise ConfigurationError(f"unknown --mode {mode!r}; use one of {', '.join(MODES)}")
    if io_type not in IO_TYPES:
        raise ConfigurationError(f"unknown --io {io_type!r}; use one of {', '.join(IO_TYPES)}")
    if mode != "int8" and io_type != "float32":
        raise ConfigurationError(f"--mode {mode} keeps float32 input and output; --io {io_type} needs --mode int8")
    tf = extras.tensorflow("quantization")
    input_shape = model_input_shape(keras_model)

    import keras

    # Calling the model on a batch-1 input makes every shape static, so Flatten converts to one RESHAPE.
    batch_one_input = keras.Input(input_shape, batch_size=1, name="input")
    batch_one_model = keras.Model(batch_one_input, keras_model(batch_one_input))
    converter = tf.lite.TFLiteConverter.from_keras_model(batch_one_model)
    if mode == "int8":
        calibration = _check_calibration(calibration_inputs, input_shape)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([sample[None]] for sample in calibration)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = getattr(tf, io_type)
        converter.inference_output_type = getattr(tf, io_type)
    elif mode == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif mode == "dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    try:
        with extras.quiet_native_output():
            tflite_bytes = converter.convert()
    except Exception as error:  # the converter raises ConverterError and assorted others
        reason = short_reason(str(error).strip().splitlines()[0]) if str(error).strip() else type(error).__name__
        raise UnsupportedModelError(f"TFLite conversion ({mode}) failed: {reason}") from error
    if metadata is not None:
        from edgecnn import artifacts

        tflite_bytes = artifacts.embed_metadata(tflite_bytes, metadata)
    return tflite_bytes


def _check_calibration(calibration_inputs, input_shape):
    if calibration_inputs is None or len(calibration_inputs) == 0:
        raise ConfigurationError("full-int8 quantization needs calibration images, and none were usable")
    calibration = np.asarray(calibration_inputs, np.float32)
    if calibration.shape[1:] != input_shape:
        raise ConfigurationError(
            f"calibration images have shape {calibration.shape[1:]}, the model takes {input_shape}"
        )
    return calibration

