"""The ops converters emit for CNNs (issue 13), one converted model each with random parameters: every tensor
equals TFLite's BUILTIN_REF, and the micro flavor's outputs equal TFLite Micro's.

Models come from tf.function + TFLiteConverter (reference_models.convert_function) where no Keras layer emits
the op, through edgecnn's own quantizer where one does (PReLU, Permute). Each test asserts the op is really in
the converted model.
"""

import numpy as np
import pytest
import reference_models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgecnn import tflite
from edgecnn.errors import UnsupportedModelError
from edgecnn.reference import (
    BUILTIN_REF_DEFECTS,
    BUILTIN_REF_UNSUPPORTED_OPS,
    MICRO_UNSUPPORTED_OPS,
    Interpreter,
    micro_problems,
)
from edgecnn.tflite import memory

tf = pytest.importorskip("tensorflow")
pytest.importorskip("ai_edge_litert")
pytest.importorskip("tflite_micro")

OP_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
)


def calibration(shape, seed):
    generator = np.random.default_rng(seed)
    return generator.normal(0, generator.uniform(0.2, 3.0), size=(8, *shape)).astype(np.float32)


def convert(function, shape, seed, **options):
    return reference_models.convert_function(function, shape, calibration(shape, seed), **options)


def op_names(model_bytes):
    return tflite.op_names(tflite.read_model(model_bytes), distinct=False)


def assert_exact(model_bytes, op, seed, tmp_path, count=10):
    """Every tensor equals BUILTIN_REF's; every output of the micro flavor equals TFLite Micro's.

    An op of BUILTIN_REF_DEFECTS is left out of the BUILTIN_REF comparison: the tests put it at a model
    output, where both flavors (they compute it alike) are compared with TFLite Micro instead."""
    assert op in op_names(model_bytes), op_names(model_bytes)
    interpreter = Interpreter(model_bytes)
    info = interpreter.input_details[0]
    inputs = reference_models.random_int8_inputs(info, count, seed=seed)
    run = interpreter.run(inputs)
    reference_bytes = model_bytes
    if op in BUILTIN_REF_UNSUPPORTED_OPS:
        # The int8 kernel is there; only the registration of its opcode version is missing.
        reference_bytes = reference_models.with_operator_replaced(model_bytes, op, op, options={"version": 1})
    reference = reference_models.litert_reference_tensors(reference_bytes, inputs)
    mismatches = reference_models.mismatches(interpreter, run, reference)
    assert [mismatch for mismatch in mismatches if mismatch[1] not in BUILTIN_REF_DEFECTS] == []
    if op in BUILTIN_REF_DEFECTS:
        defective = {index for o in interpreter.operators if o.name == op for index in o.outputs}
        assert defective <= set(interpreter.subgraph.outputs)
        for index, ours in zip(interpreter.subgraph.outputs, run.outputs):
            np.testing.assert_array_equal(ours, Interpreter(model_bytes, flavor="micro").run(inputs).tensors[index])
    micro = Interpreter(model_bytes, flavor="micro")
    assert op not in MICRO_UNSUPPORTED_OPS and micro_problems(micro) == []
    ours = micro.run(inputs, keep_intermediates=False).outputs
    theirs = reference_models.micro_outputs(model_bytes, inputs, tmp_path, every_output=True)
    assert len(ours) == len(theirs)
    for our_output, micro_output in zip(ours, theirs):
        np.testing.assert_array_equal(our_output, micro_output)
    return interpreter


def shapes(min_rank=3, max_rank=4, min_side=2, max_side=5):
    """Model input shapes without the batch axis."""
    return st.lists(st.integers(min_side, max_side), min_size=min_rank, max_size=max_rank).map(tuple)


@OP_SETTINGS
@given(shape=shapes(2, 4), data=st.data(), seed=st.integers(0, 2**16))
def test_transpose(shape, data, seed, tmp_path):
    rank = len(shape) + 1
    # The converter writes a TRANSPOSE that keeps the order of the non-unit axes as a RESHAPE.
    order = data.draw(st.permutations(range(1, rank)).filter(lambda p: list(p) != sorted(p)))
    permutation = list(order)
    permutation.insert(data.draw(st.integers(0, rank - 1)), 0)
    model = convert(lambda x: tf.transpose(x, permutation), shape, seed)
    assert_exact(model, "TRANSPOSE", seed, tmp_path)


def _random_slice(draw, size):
    stride = draw(st.sampled_from([1, 1, 2, 3, -1, -2]))
    start = draw(st.one_of(st.none(), st.integers(-size - 1, size)))
    stop = draw(st.one_of(st.none(), st.integers(-size - 1, size + 1)))
    return slice(start, stop, stride)


@OP_SETTINGS
@given(shape=shapes(3, 3, 3, 7), data=st.data(), seed=st.integers(0, 2**16))
def test_strided_slice(shape, data, seed, tmp_path):
    probe = np.zeros((1, *shape))
    index = [slice(None)] + [_random_slice(data.draw, size) for size in shape]
    for axis in range(1, len(index)):
        if probe[tuple(index)].shape[axis] == 0:
            index[axis] = slice(None, None, index[axis].step)  # an empty slice: take the axis whole
    if data.draw(st.booleans()):
        axis = data.draw(st.integers(1, len(shape)))
        index[axis] = data.draw(st.integers(-shape[axis - 1], shape[axis - 1] - 1))  # shrink this axis
    if probe[tuple(index)].shape == probe.shape:
        index[1] = slice(1, None)
    result = probe[tuple(index)]
    model = convert(lambda x: x[tuple(index)], shape, seed)
    interpreter = assert_exact(model, "STRIDED_SLICE", seed, tmp_path)
    np.testing.assert_array_equal(interpreter.output_details[0].shape, result.shape)


@OP_SETTINGS
@given(shape=shapes(3, 3, 3, 7), data=st.data(), seed=st.integers(0, 2**16))
def test_slice(shape, data, seed, tmp_path):
    begin, size = [0], [1]
    for side in shape:
        start = data.draw(st.integers(0, side - 1))
        begin.append(start)
        size.append(data.draw(st.sampled_from([-1, *range(1, side - start + 1)])))
    if begin[1:] == [0] * len(shape) and all(s in (-1, side) for s, side in zip(size[1:], shape)):
        begin[1] = 1
    model = convert(lambda x: tf.slice(x, begin, size), shape, seed)
    assert_exact(model, "SLICE", seed, tmp_path)


@OP_SETTINGS
@given(shape=shapes(2, 3), data=st.data(), seed=st.integers(0, 2**16))
def test_squeeze_and_expand_dims(shape, data, seed, tmp_path):
    # EXPAND_DIMS stays itself only with an unknown batch; SQUEEZE becomes a RESHAPE in every conversion,
    # so the RESHAPE of tf.squeeze is turned into the SQUEEZE it stands for.
    axis = data.draw(st.integers(1, len(shape) + 1))
    expanded = convert(lambda x: tf.expand_dims(x, axis), shape, seed, dynamic_batch=True)
    assert_exact(expanded, "EXPAND_DIMS", seed, tmp_path)
    unit_shape = list(shape)
    unit_shape.insert(axis - 1, 1)
    reshaped = convert(lambda x: tf.squeeze(x, axis), tuple(unit_shape), seed)
    assert op_names(reshaped) == ["RESHAPE"]
    squeezed = reference_models.with_operator_replaced(
        reshaped, "RESHAPE", "SQUEEZE", "SqueezeOptions", {"squeezeDims": [axis]}, keep_inputs=1
    )
    interpreter = assert_exact(squeezed, "SQUEEZE", seed, tmp_path)
    assert interpreter.output_details[0].shape == (1, *shape)


@OP_SETTINGS
@given(shape=shapes(2, 3), data=st.data(), seed=st.integers(0, 2**16))
def test_pack_and_concatenation_on_every_axis(shape, data, seed, tmp_path):
    rank = len(shape) + 1
    pack_axis = data.draw(st.integers(-rank - 1, rank))
    concat_axis = data.draw(st.integers(-rank, rank - 1))
    packed = convert(lambda x: tf.stack([x, 2.0 * x, x - 0.5], axis=pack_axis), shape, seed)
    assert_exact(packed, "PACK", seed, tmp_path)
    joined = convert(lambda x: tf.concat([x, 2.0 * x], axis=concat_axis), shape, seed)
    assert_exact(joined, "CONCATENATION", seed, tmp_path)


@OP_SETTINGS
@given(shape=shapes(2, 3), data=st.data(), seed=st.integers(0, 2**16))
def test_unpack_split_and_split_v(shape, data, seed, tmp_path):
    """Ops with several outputs: every piece is a model output, compared in both runtimes."""
    rank = len(shape) + 1
    axis = data.draw(st.integers(1, rank - 1)) * data.draw(st.sampled_from([1, -1]))
    side = shape[axis - 1 if axis > 0 else axis]
    unpacked = convert(lambda x: tf.unstack(2.0 * x, axis=axis), shape, seed)
    assert_exact(unpacked, "UNPACK", seed, tmp_path)
    pieces = data.draw(st.sampled_from([n for n in range(1, side + 1) if side % n == 0 and n > 1] or [1]))
    if pieces > 1:
        split = convert(lambda x: tf.split(2.0 * x, pieces, axis=axis), shape, seed)
        assert_exact(split, "SPLIT", seed, tmp_path)
    sizes = [1, side - 1] if side > 2 else [1, 1]
    if data.draw(st.booleans()):
        sizes = [-1, 1] if side > 2 else sizes
    split_v = convert(lambda x: tf.split(2.0 * x, sizes, axis=axis), shape, seed)
    assert_exact(split_v, "SPLIT_V", seed, tmp_path)


@OP_SETTINGS
@given(shape=shapes(2, 3), data=st.data(), seed=st.integers(0, 2**16))
def test_gather(shape, data, seed, tmp_path):
    axis = data.draw(st.integers(1, len(shape)))
    side = shape[axis - 1]
    indices_shape = data.draw(st.sampled_from([(3,), (2, 2)]))
    indices = np.asarray(data.draw(st.lists(st.integers(0, side - 1), min_size=4, max_size=4)))
    indices = indices[: int(np.prod(indices_shape))].reshape(indices_shape).astype(np.int32)
    model = convert(lambda x: tf.gather(x, indices, axis=axis - len(shape) - 1), shape, seed)
    assert_exact(model, "GATHER", seed, tmp_path)


@OP_SETTINGS
@given(
    shape=shapes(3, 3),
    operation=st.sampled_from(["maximum", "minimum"]),
    other=st.sampled_from(["activation", "channel constant", "scalar constant"]),
    seed=st.integers(0, 2**16),
)
def test_maximum_and_minimum(shape, operation, other, seed, tmp_path):
    function = getattr(tf, operation)
    channels = np.random.default_rng(seed).normal(size=shape[-1]).astype(np.float32)
    second = {
        "activation": lambda x: 0.5 * x + 0.25,
        "channel constant": lambda x: tf.constant(channels),
        "scalar constant": lambda x: tf.constant(0.3),
    }[other]
    model = convert(lambda x: function(x, second(x)), shape, seed)
    assert_exact(model, operation.upper(), seed, tmp_path)


@settings(OP_SETTINGS, max_examples=12)
@given(
    size=st.integers(3, 7),
    channels=st.integers(1, 5),
    shared_axes=st.sampled_from([None, [1, 2], [1], [3]]),
    seed=st.integers(0, 2**16),
)
def test_prelu_from_the_keras_layer(size, channels, shared_axes, seed, tmp_path):
    import keras

    inputs = keras.Input((size, size, channels))
    layer = keras.layers.PReLU(shared_axes=shared_axes)
    outputs = layer(inputs)
    alpha = np.random.default_rng(seed).uniform(-0.6, 0.8, size=layer.get_weights()[0].shape)
    layer.set_weights([alpha.astype(np.float32)])
    model = reference_models.convert(keras.Model(inputs, outputs), calibration((size, size, channels), seed))
    assert_exact(model, "PRELU", seed, tmp_path)


@OP_SETTINGS
@given(
    shape=shapes(3, 3),
    data=st.data(),
    keep_dims=st.booleans(),
    operation=st.sampled_from(["reduce_sum", "reduce_max"]),
    seed=st.integers(0, 2**16),
)
def test_sum_and_reduce_max(shape, data, keep_dims, operation, seed, tmp_path):
    axes = data.draw(st.lists(st.integers(0, len(shape)), min_size=1, max_size=3, unique=True))
    if axes == [0]:
        axes = [0, 1]
    model = convert(lambda x: getattr(tf, operation)(x, axis=axes, keepdims=keep_dims), shape, seed)
    assert_exact(model, {"reduce_sum": "SUM", "reduce_max": "REDUCE_MAX"}[operation], seed, tmp_path)


def test_builtin_ref_sums_int8_as_uint8_bit_patterns():
    """The defect of BUILTIN_REF_DEFECTS["SUM"], reproduced exactly: uint8 sums, clamped to 0..255."""
    from edgecnn.reference import arithmetic

    axes = [1, 2]
    model = convert(lambda x: tf.reduce_sum(x, axis=axes), (3, 4, 2), 5)
    interpreter = Interpreter(model)
    inputs = reference_models.random_int8_inputs(interpreter.input_details[0], 20, seed=5)
    operator = interpreter.operators[0]
    assert operator.name == "SUM"
    source, result = (interpreter.tensor_details[index] for index in (operator.inputs[0], operator.outputs[0]))
    multiplier, shift = arithmetic.quantize_multiplier(source.scale / result.scale)
    total = inputs.view(np.uint8).astype(np.int64).sum(axis=(1, 2)) - source.zero_point * 12
    as_uint8 = arithmetic.multiply_by_quantized_multiplier(total, multiplier, shift) + result.zero_point
    expected = np.clip(as_uint8, 0, 255).astype(np.uint8).view(np.int8)
    reference = reference_models.litert_reference_tensors(model, inputs)[operator.outputs[0]]
    np.testing.assert_array_equal(reference, expected)
    assert np.count_nonzero(interpreter.run(inputs).outputs[0] != reference) > 0


@OP_SETTINGS
@given(
    height=st.integers(2, 7),
    width=st.integers(2, 7),
    out_height=st.integers(1, 12),
    out_width=st.integers(1, 12),
    mode=st.sampled_from(["plain", "align_corners", "half_pixel_centers"]),
    method=st.sampled_from(["bilinear", "nearest"]),
    seed=st.integers(0, 2**16),
)
def test_resize(height, width, out_height, out_width, mode, method, seed, tmp_path):
    function = getattr(tf.compat.v1.image, f"resize_{'bilinear' if method == 'bilinear' else 'nearest_neighbor'}")
    flags = {"align_corners": mode == "align_corners", "half_pixel_centers": mode == "half_pixel_centers"}
    if (out_height, out_width) == (height, width):
        out_width += 1
    model = convert(lambda x: function(x, (out_height, out_width), **flags), (height, width, 3), seed)
    op = "RESIZE_BILINEAR" if method == "bilinear" else "RESIZE_NEAREST_NEIGHBOR"
    assert_exact(model, op, seed, tmp_path)


@OP_SETTINGS
@given(block=st.integers(2, 3), side=st.integers(1, 3), channels=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_depth_to_space_and_space_to_depth(block, side, channels, seed, tmp_path):
    deep = convert(lambda x: tf.nn.depth_to_space(x, block), (side, side + 1, channels * block * block), seed)
    assert_exact(deep, "DEPTH_TO_SPACE", seed, tmp_path)
    wide = convert(lambda x: tf.nn.space_to_depth(x, block), (side * block, block, channels), seed)
    assert_exact(wide, "SPACE_TO_DEPTH", seed, tmp_path)


def test_builtin_ref_lacks_int8_depth_to_space(tmp_path):
    """Why BUILTIN_REF_UNSUPPORTED_OPS lists it: register_ref.cc adds DEPTH_TO_SPACE without a version range."""
    from ai_edge_litert import interpreter as litert

    model = convert(lambda x: tf.nn.depth_to_space(x, 2), (2, 2, 4), 0)
    path = tmp_path / "depth_to_space.tflite"
    path.write_bytes(model)
    reference = litert.OpResolverType.BUILTIN_REF
    with pytest.raises(ValueError, match="DEPTH_TO_SPACE' version '2'"):
        litert.Interpreter(model_path=str(path), experimental_op_resolver_type=reference).allocate_tensors()


@OP_SETTINGS
@given(shape=shapes(3, 3, 2, 5), data=st.data(), seed=st.integers(0, 2**16))
def test_padv2_and_mirror_pad(shape, data, seed, tmp_path):
    mode = data.draw(st.sampled_from(["REFLECT", "SYMMETRIC"]))
    limit = 1 if mode == "REFLECT" else 0
    paddings = [[0, 0]] + [
        [data.draw(st.integers(0, side - limit)), data.draw(st.integers(0, side - limit))] for side in shape
    ]
    if not any(map(any, paddings)):
        paddings[1][0] = 1
    mirrored = convert(lambda x: tf.pad(x, paddings, mode=mode), shape, seed)
    assert_exact(mirrored, "MIRROR_PAD", seed, tmp_path)
    fill = data.draw(st.sampled_from([-1.5, 0.7, 3.0]))
    padded = convert(lambda x: tf.pad(x, paddings, constant_values=fill), shape, seed)
    assert_exact(padded, "PADV2", seed, tmp_path)


@OP_SETTINGS
@given(
    batches=st.integers(1, 3),
    rows=st.integers(1, 5),
    depth=st.integers(1, 40),
    columns=st.integers(1, 5),
    constant=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_batch_matmul(batches, rows, depth, columns, constant, seed, tmp_path):
    generator = np.random.default_rng(seed)
    if constant:
        weights = tf.constant(generator.normal(size=(batches, depth, columns)).astype(np.float32))
        model = convert(lambda x: tf.matmul(x, weights), (batches, rows, depth), seed)
    else:
        # Two activations: the input against a rescaled, shifted copy of itself (transpose_b: adj_y).
        model = convert(lambda x: tf.matmul(x, 0.5 * x + 0.25, transpose_b=True), (batches, rows, depth), seed)
    assert_exact(model, "BATCH_MATMUL", seed, tmp_path)


def test_quantize_requantizes_int8_and_converts_uint8_at_the_model_edges(tmp_path):
    # One tensor feeding two CONCATENATIONs of different ranges gets a QUANTIZE (int8 -> int8) for one.
    def two_concatenations(x):
        return tf.concat([x, 4.0 * x], axis=3), tf.concat([x, 0.25 * x], axis=3)

    model = convert(two_concatenations, (4, 4, 3), 1)
    interpreter = Interpreter(model)
    requantizing = [
        op
        for op in interpreter.operators
        if op.name == "QUANTIZE" and interpreter.tensor_details[op.inputs[0]].dtype == np.int8
    ]
    assert requantizing, op_names(model)
    scales = {interpreter.tensor_details[index].scale for op in requantizing for index in (*op.inputs, *op.outputs)}
    assert len(scales) > 1
    assert_exact(model, "QUANTIZE", 1, tmp_path, count=64)
    uint8_model = convert(lambda x: 3.0 * x, (4, 4, 3), 2, io_type="uint8")
    interpreter = assert_exact(uint8_model, "QUANTIZE", 2, tmp_path, count=64)
    assert interpreter.input_details[0].dtype == np.uint8 and interpreter.output_details[0].dtype == np.uint8


def test_nchw_input_transposed_into_a_conv_runs_exactly(model_cache, tmp_path):
    """The way PyTorch-converted models start: an NCHW input, a TRANSPOSE to NHWC, then convolutions."""
    import keras

    if "nchw" not in model_cache:
        inputs = keras.Input((3, 12, 10))
        nhwc = keras.layers.Permute((2, 3, 1))(inputs)
        features = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(nhwc)
        outputs = keras.layers.Conv2D(4, 3, strides=2)(features)
        model_cache["nchw"] = reference_models.convert(keras.Model(inputs, outputs), calibration((3, 12, 10), 4))
    model = model_cache["nchw"]
    assert op_names(model)[:2] == ["TRANSPOSE", "CONV_2D"]
    assert_exact(model, "TRANSPOSE", 4, tmp_path, count=50)


def test_multi_output_lifetimes_and_memory_plan():
    """SPLIT's pieces live from the SPLIT to their last reader, each its own."""

    def pieces(x):
        first, second, third = tf.split(2.0 * x, 3, axis=3)
        return tf.concat([first + second, 3.0 * third, second], axis=3)

    model = convert(pieces, (4, 4, 6), 3)
    interpreter = Interpreter(model)
    split = next(op for op in interpreter.operators if op.name == "SPLIT")
    lifetimes = interpreter.lifetimes()
    readers = {index: [op.index for op in interpreter.operators if index in op.inputs] for index in split.outputs}
    for index in split.outputs:
        last = max(readers[index], default=split.index)
        assert lifetimes[index] == (split.index, last)
    assert len({lifetimes[index] for index in split.outputs}) > 1
    plan = memory.plan_memory(interpreter.subgraph, interpreter.lifetimes())
    assert {tensor.index for tensor in plan.tensors} >= set(split.outputs)
    inputs = reference_models.random_int8_inputs(interpreter.input_details[0], 8, seed=3)
    kept = interpreter.run(inputs).outputs
    lean = interpreter.run(inputs, keep_intermediates=False)
    for ours, theirs in zip(lean.outputs, kept):
        np.testing.assert_array_equal(ours, theirs)
    assert set(lean.tensors) == set(interpreter.subgraph.inputs) | set(interpreter.subgraph.outputs)


def test_non_constant_permutation_is_refused_naming_op_and_reason():
    model = convert(lambda x: tf.transpose(x, [0, 2, 1, 3]), (3, 4, 2), 0)
    replaced = reference_models.with_tensor_made_variable(model, "TRANSPOSE", position=1)
    with pytest.raises(UnsupportedModelError, match=r"op 0 \(TRANSPOSE\): the permutation must be a constant"):
        Interpreter(replaced)


def test_prelu_alpha_multiplier_is_float32_in_builtin_ref_and_double_in_micro(model_cache, tmp_path):
    """The experiment behind the PRELU flavors: with an alpha scale where s_in * s_alpha / s_out rounds to a
    different multiplier in float32 than in double, BUILTIN_REF follows the first and TFLite Micro the second."""
    import keras
    from tensorflow.lite.tools import flatbuffer_utils

    from edgecnn.reference import activations

    if "prelu" not in model_cache:
        inputs = keras.Input((2, 2, 4))
        layer = keras.layers.PReLU(shared_axes=[1, 2])
        outputs = layer(inputs)
        layer.set_weights([np.array([[[0.1, -0.3, 0.5, 0.25]]], np.float32)])
        model_cache["prelu"] = reference_models.convert(keras.Model(inputs, outputs), calibration((2, 2, 4), 9))
    model = model_cache["prelu"]
    interpreter = Interpreter(model)
    operator = interpreter.operators[0]
    source, alpha, result = (interpreter.tensor_details[i] for i in (*operator.inputs, operator.outputs[0]))
    zero_points = (source.zero_point, 0, result.zero_point)
    values = np.arange(-128, 128).reshape(-1, 1)
    generator = np.random.default_rng(1)
    for _ in range(2000):
        alpha_scale = float(np.float32(alpha.scale * generator.uniform(0.2, 3.0)))
        multipliers = [
            activations.prelu_multipliers(source.scale, alpha_scale, result.scale, flavor)
            for flavor in ("tflite", "micro")
        ]
        tables = [activations.prelu(values, values.T, zero_points, pair) for pair in multipliers]
        differing_alphas = np.unique(np.argwhere(tables[0] != tables[1])[:, 1])
        if differing_alphas.size:
            break
    assert differing_alphas.size, "no alpha scale with differing multipliers found"
    chosen = (np.resize(differing_alphas, 4) - 128).astype(np.int8)
    model_object = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    tensor = model_object.subgraphs[0].tensors[operator.inputs[1]]
    tensor.quantization.scale, tensor.quantization.zeroPoint = [alpha_scale], [0]
    model_object.buffers[tensor.buffer].data = np.frombuffer(chosen.tobytes(), np.uint8)
    patched = bytes(flatbuffer_utils.convert_object_to_bytearray(model_object))
    inputs = np.repeat(np.arange(-128, 128, dtype=np.int8), 16).reshape(256, 2, 2, 4)
    builtin_ref = reference_models.litert_reference_tensors(patched, inputs)[operator.outputs[0]]
    micro = reference_models.micro_outputs(patched, inputs, tmp_path)
    np.testing.assert_array_equal(Interpreter(patched).run(inputs).outputs[0], builtin_ref)
    np.testing.assert_array_equal(Interpreter(patched, flavor="micro").run(inputs).outputs[0], micro)
    assert np.count_nonzero(builtin_ref != micro) > 0
