"""Keras models covering every op of the NumPy interpreter, converted with edgecnn's own quantizer."""

import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def convert(keras_model, calibration_inputs, io_type="int8"):
    from edgecnn.quantize.converter import quantize_keras_model

    return quantize_keras_model(keras_model, np.asarray(calibration_inputs, np.float32), io_type=io_type)


def convert_function(function, input_shape, calibration_inputs, io_type="int8", dynamic_batch=False):
    """Full-int8 TFLite bytes of a TensorFlow function of one float32 input of `input_shape` (batch 1).

    For ops that Keras layers do not emit (or edgecnn's image-model quantizer does not take): tf.function,
    TFLiteConverter.from_concrete_functions and the representative dataset `calibration_inputs` (N, *shape).
    `dynamic_batch` leaves the batch axis unknown, which keeps ops the converter otherwise folds into a
    RESHAPE (EXPAND_DIMS).
    """
    import tensorflow as tf

    from edgecnn import extras

    spec = tf.TensorSpec((None if dynamic_batch else 1, *input_shape), tf.float32)
    concrete = tf.function(function).get_concrete_function(spec)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], None)
    calibration = np.asarray(calibration_inputs, np.float32)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([sample[None]] for sample in calibration)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = getattr(tf, io_type)
    converter.inference_output_type = getattr(tf, io_type)
    with extras.quiet_native_output():
        return converter.convert()


def with_operator_replaced(model_bytes, old_name, new_name, options_type=None, options=None, keep_inputs=None):
    """`model_bytes` with every `old_name` op turned into `new_name` (same tensors): for an op the converter
    never emits although runtimes run it (SQUEEZE: the converter writes RESHAPE), and for lowering an opcode
    version (new_name == old_name, options={"version": v}) so a runtime that registers only that version
    loads the model."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(model_bytes))
    builtin = getattr(schema.BuiltinOperator, new_name)
    codes = [
        position
        for position, code in enumerate(model.operatorCodes)
        if max(code.builtinCode, code.deprecatedBuiltinCode) == getattr(schema.BuiltinOperator, old_name)
    ]
    for position in codes:
        code = model.operatorCodes[position]
        code.builtinCode = builtin
        code.deprecatedBuiltinCode = min(builtin, 127)
        if options and "version" in options:
            code.version = options["version"]
    for operator in model.subgraphs[0].operators:
        if operator.opcodeIndex in codes and options_type is not None:
            operator.builtinOptionsType = getattr(schema.BuiltinOptions, options_type)
            operator.builtinOptions = getattr(schema, f"{options_type}T")()
            for name, value in (options or {}).items():
                setattr(operator.builtinOptions, name, value)
            if keep_inputs is not None:
                operator.inputs = list(operator.inputs)[:keep_inputs]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def calibration_for(input_shape, count=24, seed=0):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=(count, *input_shape)).astype(np.float32)


def every_op_model(input_shape=(20, 20, 3), num_classes=10):
    """CONV (stride, dilation), DEPTHWISE (multiplier), PAD, LEAKY_RELU, ADD, SUB, MUL, LOGISTIC, TANH,
    HARD_SWISH, CONCATENATION, MAX/AVERAGE_POOL, TRANSPOSE_CONV, RESHAPE, RELU, RELU6, MEAN, FULLY_CONNECTED,
    SOFTMAX."""
    import keras

    layers = keras.layers
    inputs = keras.Input(input_shape)
    stem = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inputs)
    depthwise = layers.DepthwiseConv2D(3, depth_multiplier=2, dilation_rate=2, padding="same", activation="relu6")(stem)
    padded = layers.ZeroPadding2D(((1, 1), (2, 0)))(depthwise)
    capped = layers.ReLU(max_value=6.0)(padded)
    leaky = layers.LeakyReLU(negative_slope=0.2)(layers.Conv2D(16, 3, padding="valid")(capped))
    added = layers.Add()([depthwise, leaky])
    difference = layers.Subtract()([added, depthwise])
    gate = layers.Activation("sigmoid")(leaky)
    product = layers.Multiply()([difference, gate])
    squashed = layers.Activation("tanh")(product)
    swished = layers.Activation("hard_swish")(layers.Conv2D(16, 1)(squashed))
    joined = layers.Concatenate()([swished, squashed])
    pooled = layers.MaxPooling2D(3, strides=2, padding="same")(joined)
    smoothed = layers.AveragePooling2D(2, strides=1, padding="same")(pooled)
    upsampled = layers.Conv2DTranspose(8, 3, strides=2, padding="same")(smoothed)
    rows = layers.Reshape((-1, 16))(upsampled)
    rectified = layers.ReLU()(rows)
    averaged = layers.GlobalAveragePooling1D()(layers.Reshape((-1, 8))(layers.Dense(8)(rectified)))
    outputs = layers.Dense(num_classes, activation="softmax")(averaged)
    return keras.Model(inputs, outputs)


def grouped_conv_model(input_shape=(12, 12, 8)):
    import keras

    inputs = keras.Input(input_shape)
    grouped = keras.layers.Conv2D(8, 3, groups=4, padding="same", activation="relu")(inputs)
    outputs = keras.layers.Conv2D(4, 3, strides=2, padding="valid")(grouped)
    return keras.Model(inputs, outputs)


def upsampling_model(input_shape=(8, 8, 3)):
    """Keras UpSampling2D converts to RESHAPE + TILE, and TILE is outside the interpreter's op set."""
    import keras

    inputs = keras.Input(input_shape)
    outputs = keras.layers.Conv2D(4, 3)(keras.layers.UpSampling2D()(inputs))
    return keras.Model(inputs, outputs)


# Zoo models at small input shapes (conversion and BUILTIN_REF stay fast); every zoo model is listed.
ZOO_SHAPES = {
    "lenet5": (28, 28, 1),
    "simple_cnn": (28, 28, 1),
    "tiny_vgg": (32, 32, 3),
    "resnet8": (24, 24, 3),
    "resnet18": (32, 32, 3),
    "alexnet": (32, 32, 3),
    "vgg11": (32, 32, 3),
    "vgg16": (32, 32, 3),
    "resnet20": (32, 32, 3),
    "mobilenet_v2": (32, 32, 3),
}


def zoo_model_bytes(model_cache, name):
    """The zoo model `name`, int8-quantized on real images, converted once per session (cached by name)."""
    key = f"zoo:{name}"
    if key not in model_cache:
        import edgecnn.zoo

        model = edgecnn.zoo.create_model(name, input_shape=ZOO_SHAPES[name], num_classes=10)
        shape = tuple(model.inputs[0].shape[1:])
        images = real_images_for(shape, count=32, seed=1)
        set_batch_norm_statistics(model, images)
        model_cache[key] = convert(model, images)
    return model_cache[key]


def set_batch_norm_statistics(keras_model, images):
    """edgecnn.zoo.set_batch_norm_statistics: batch-norm statistics from `images`, as training leaves them."""
    import edgecnn.zoo

    return edgecnn.zoo.set_batch_norm_statistics(keras_model, images)


def real_images_for(shape, count=100, seed=0):
    """Real images as float32 model inputs in [0, 1]: MNIST digits for one channel, the shapes set for RGB."""
    from edgecnn.data import load_dataset
    from edgecnn.data.preprocessing import Preprocessing

    height, width, channels = shape
    dataset = load_dataset("mnist-sample" if channels == 1 else "shapes", split="test").take(count, seed=seed)
    return Preprocessing.for_input_shape(shape).apply(list(dataset.images)).astype(np.float32)


def random_int8_inputs(info, count=100, seed=0):
    """Uniform over the whole integer range of the model's input type."""
    low, high = np.iinfo(info.dtype).min, np.iinfo(info.dtype).max
    shape = (count, *info.shape[1:])
    return np.random.default_rng(seed).integers(low, high + 1, size=shape).astype(info.dtype)


def real_int8_inputs(info, count=100, seed=0):
    """Real images quantized with the model's input scale and zero point."""
    images = real_images_for(tuple(info.shape[1:]), count=count, seed=seed)
    return quantize_inputs(images, info.scale, info.zero_point, info.dtype)


def quantize_inputs(float_inputs, scale, zero_point, dtype=np.int8):
    """What a camera pipeline feeds an int8 model: clamp(round(x / scale) + zero_point)."""
    info = np.iinfo(dtype)
    quantized = np.round(np.asarray(float_inputs, np.float32) / np.float32(scale)) + zero_point
    return np.clip(quantized, info.min, info.max).astype(dtype)


def litert_reference_tensors(model_bytes, inputs):
    """Every tensor of TFLite's reference kernels (BUILTIN_REF), one image at a time: index -> (N, ...)."""
    import tempfile

    from ai_edge_litert import interpreter as litert

    # A file, not model_content: LiteRT aborted in allocate_tensors on a second model given as bytes.
    with tempfile.NamedTemporaryFile(suffix=".tflite", delete=False) as handle:
        handle.write(model_bytes)
    interpreter = litert.Interpreter(
        model_path=handle.name,
        experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF,
        experimental_preserve_all_tensors=True,
    )
    interpreter.allocate_tensors()
    os.unlink(handle.name)
    input_index = interpreter.get_input_details()[0]["index"]
    from edgecnn import tflite

    subgraph = tflite.read_model(model_bytes).subgraphs[0]
    activations = sorted({index for operator in subgraph.operators for index in operator.outputs})
    collected = {index: [] for index in activations}
    for image in inputs:
        interpreter.set_tensor(input_index, image[None])
        interpreter.invoke()
        for index in activations:
            collected[index].append(np.array(interpreter.get_tensor(index)))
    # Tensors whose batch axis the converter dropped get one in front, as the NumPy interpreter does.
    return {index: _stacked(arrays) for index, arrays in collected.items()}


def _stacked(arrays):
    """Per-image runtime arrays as one batch, laid out as the NumPy interpreter lays out batches."""
    return np.concatenate(arrays) if arrays[0].ndim and arrays[0].shape[0] == 1 else np.stack(arrays)


def micro_outputs(model_bytes, inputs, tmp_path, every_output=False):
    """Output 0 of TFLite Micro (or the list of every output), one image at a time."""
    from tflite_micro.python.tflite_micro import runtime

    from edgecnn import tflite

    path = tmp_path / "micro_model.tflite"
    path.write_bytes(model_bytes)
    interpreter = runtime.Interpreter.from_file(str(path))
    count = len(tflite.read_model(model_bytes).subgraphs[0].outputs) if every_output else 1
    outputs = [[] for _ in range(count)]
    for image in inputs:
        interpreter.set_input(image[None], 0)
        interpreter.invoke()
        for position in range(count):
            outputs[position].append(np.array(interpreter.get_output(position)))
    stacked = [_stacked(arrays) for arrays in outputs]
    return stacked if every_output else stacked[0]


def mismatches(interpreter, run, reference_tensors):
    """(op index, op name, tensor index, differing elements) for every op output that differs."""
    found = []
    for operator in interpreter.operators:
        for index in operator.outputs:
            ours, theirs = run.tensors[index], reference_tensors[index]
            assert ours.shape == theirs.shape, (operator.index, operator.name, ours.shape, theirs.shape)
            differing = int(np.count_nonzero(ours != theirs))
            if differing:
                found.append((operator.index, operator.name, index, differing))
    return found


def with_softmax_input_scale(model_bytes, scale):
    """`model_bytes` with the int8 scale of the SOFTMAX input (the logits) replaced by `scale`."""
    from tensorflow.lite.tools import flatbuffer_utils

    from edgecnn import tflite

    model = tflite.read_model(model_bytes)
    softmax = next(operator for operator in model.subgraphs[0].operators if operator.name == "SOFTMAX")
    model_object = flatbuffer_utils.convert_bytearray_to_object(bytearray(model_bytes))
    model_object.subgraphs[0].tensors[softmax.inputs[0]].quantization.scale = [float(scale)]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model_object))


def with_tensor_made_variable(model_bytes, op_name, position):
    """`model_bytes` with input `position` of the first `op_name` op cut from its constant data: what a model
    computing that input at run time looks like to the interpreter's load-time checks."""
    from tensorflow.lite.tools import flatbuffer_utils

    from edgecnn import tflite

    operator = next(op for op in tflite.read_model(model_bytes).subgraphs[0].operators if op.name == op_name)
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(model_bytes))
    model.subgraphs[0].tensors[operator.inputs[position]].buffer = 0
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))
