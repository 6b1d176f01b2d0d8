"""Converted single-op models of the ops converters emit for CNNs (issue 13), with random parameters: one table
of cases, each a hypothesis strategy of parameters and the builder of its models. The NumPy interpreter's
tests (test_interpreter_converter_ops.py) and the C compiler's (tests/codegen) draw from the same table.

A builder returns Built records: the model, the op it must contain, and what a test may check besides.
Models come from tf.function + TFLiteConverter (reference_models.convert_function) where no Keras layer emits
the op, through edgecnn's own quantizer where one does (PReLU).
"""

import dataclasses

import numpy as np
import reference_models
from hypothesis import strategies as st

SEEDS = st.integers(0, 2**16)


@dataclasses.dataclass(frozen=True)
class Built:
    model: bytes
    op: str
    output_shape: tuple = None  # the model output's shape (batch included), where the builder knows it


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    parameters: object  # hypothesis strategy of a dict
    build: object  # (parameters, seed) -> [Built]
    max_examples: int = None  # fewer than the test's default, for the slow ones


def _tf():
    import tensorflow as tf

    return tf


def calibration(shape, seed):
    generator = np.random.default_rng(seed)
    return generator.normal(0, generator.uniform(0.2, 3.0), size=(8, *shape)).astype(np.float32)


def convert(function, shape, seed, **options):
    return reference_models.convert_function(function, shape, calibration(shape, seed), **options)


def shapes(min_rank=3, max_rank=4, min_side=2, max_side=5):
    """Model input shapes without the batch axis."""
    return st.lists(st.integers(min_side, max_side), min_size=min_rank, max_size=max_rank).map(tuple)


@st.composite
def _transpose_parameters(draw):
    shape = draw(shapes(2, 4))
    rank = len(shape) + 1
    # The converter writes a TRANSPOSE that keeps the order of the non-unit axes as a RESHAPE.
    order = draw(st.permutations(range(1, rank)).filter(lambda p: list(p) != sorted(p)))
    permutation = list(order)
    permutation.insert(draw(st.integers(0, rank - 1)), 0)
    return {"shape": shape, "permutation": permutation}


def _transpose(parameters, seed):
    tf = _tf()
    model = convert(lambda x: tf.transpose(x, parameters["permutation"]), parameters["shape"], seed)
    return [Built(model, "TRANSPOSE")]


def _random_slice(draw, size):
    stride = draw(st.sampled_from([1, 1, 2, 3, -1, -2]))
    start = draw(st.one_of(st.none(), st.integers(-size - 1, size)))
    stop = draw(st.one_of(st.none(), st.integers(-size - 1, size + 1)))
    return slice(start, stop, stride)


@st.composite
def _strided_slice_parameters(draw):
    shape = draw(shapes(3, 3, 3, 7))
    probe = np.zeros((1, *shape))
    index = [slice(None)] + [_random_slice(draw, size) for size in shape]
    for axis in range(1, len(index)):
        if probe[tuple(index)].shape[axis] == 0:
            index[axis] = slice(None, None, index[axis].step)  # an empty slice: take the axis whole
    if draw(st.booleans()):
        axis = draw(st.integers(1, len(shape)))
        index[axis] = draw(st.integers(-shape[axis - 1], shape[axis - 1] - 1))  # shrink this axis
    if probe[tuple(index)].shape == probe.shape:
        index[1] = slice(1, None)
    return {"shape": shape, "index": tuple(index)}


def _strided_slice(parameters, seed):
    index, shape = parameters["index"], parameters["shape"]
    model = convert(lambda x: x[index], shape, seed)
    return [Built(model, "STRIDED_SLICE", np.zeros((1, *shape))[index].shape)]


@st.composite
def _slice_parameters(draw):
    shape = draw(shapes(3, 3, 3, 7))
    begin, size = [0], [1]
    for side in shape:
        start = draw(st.integers(0, side - 1))
        begin.append(start)
        size.append(draw(st.sampled_from([-1, *range(1, side - start + 1)])))
    if begin[1:] == [0] * len(shape) and all(s in (-1, side) for s, side in zip(size[1:], shape)):
        begin[1] = 1
    return {"shape": shape, "begin": begin, "size": size}


def _slice(parameters, seed):
    tf = _tf()
    model = convert(lambda x: tf.slice(x, parameters["begin"], parameters["size"]), parameters["shape"], seed)
    return [Built(model, "SLICE")]


@st.composite
def _squeeze_parameters(draw):
    shape = draw(shapes(2, 3))
    return {"shape": shape, "axis": draw(st.integers(1, len(shape) + 1))}


def _squeeze_and_expand_dims(parameters, seed):
    """EXPAND_DIMS stays itself only with an unknown batch; SQUEEZE becomes a RESHAPE in every conversion, so
    the RESHAPE of tf.squeeze is turned into the SQUEEZE it stands for."""
    tf = _tf()
    shape, axis = parameters["shape"], parameters["axis"]
    expanded = convert(lambda x: tf.expand_dims(x, axis), shape, seed, dynamic_batch=True)
    unit_shape = list(shape)
    unit_shape.insert(axis - 1, 1)
    reshaped = convert(lambda x: tf.squeeze(x, axis), tuple(unit_shape), seed)
    squeezed = reference_models.with_operator_replaced(
        reshaped, "RESHAPE", "SQUEEZE", "SqueezeOptions", {"squeezeDims": [axis]}, keep_inputs=1
    )
    return [Built(expanded, "EXPAND_DIMS"), Built(squeezed, "SQUEEZE", (1, *shape))]


@st.composite
def _pack_parameters(draw):
    shape = draw(shapes(2, 3))
    rank = len(shape) + 1
    return {
        "shape": shape,
        "pack_axis": draw(st.integers(-rank - 1, rank)),
        "concat_axis": draw(st.integers(-rank, rank - 1)),
    }


def _pack_and_concatenation(parameters, seed):
    tf = _tf()
    shape = parameters["shape"]
    packed = convert(lambda x: tf.stack([x, 2.0 * x, x - 0.5], axis=parameters["pack_axis"]), shape, seed)
    joined = convert(lambda x: tf.concat([x, 2.0 * x], axis=parameters["concat_axis"]), shape, seed)
    return [Built(packed, "PACK"), Built(joined, "CONCATENATION")]


@st.composite
def _split_parameters(draw):
    shape = draw(shapes(2, 3))
    rank = len(shape) + 1
    axis = draw(st.integers(1, rank - 1)) * draw(st.sampled_from([1, -1]))
    side = shape[axis - 1 if axis > 0 else axis]
    pieces = draw(st.sampled_from([n for n in range(1, side + 1) if side % n == 0 and n > 1] or [1]))
    sizes = [1, side - 1] if side > 2 else [1, 1]
    if draw(st.booleans()):
        sizes = [-1, 1] if side > 2 else sizes
    return {"shape": shape, "axis": axis, "pieces": pieces, "sizes": sizes}


def _unpack_split_and_split_v(parameters, seed):
    """Ops with several outputs: every piece is a model output."""
    tf = _tf()
    shape, axis, pieces = parameters["shape"], parameters["axis"], parameters["pieces"]
    built = [Built(convert(lambda x: tf.unstack(2.0 * x, axis=axis), shape, seed), "UNPACK")]
    if pieces > 1:
        built.append(Built(convert(lambda x: tf.split(2.0 * x, pieces, axis=axis), shape, seed), "SPLIT"))
    split_v = convert(lambda x: tf.split(2.0 * x, parameters["sizes"], axis=axis), shape, seed)
    return built + [Built(split_v, "SPLIT_V")]


@st.composite
def _gather_parameters(draw):
    shape = draw(shapes(2, 3))
    axis = draw(st.integers(1, len(shape)))
    side = shape[axis - 1]
    indices_shape = draw(st.sampled_from([(3,), (2, 2)]))
    indices = np.asarray(draw(st.lists(st.integers(0, side - 1), min_size=4, max_size=4)))
    indices = indices[: int(np.prod(indices_shape))].reshape(indices_shape).astype(np.int32)
    return {"shape": shape, "axis": axis, "indices": indices}


def _gather(parameters, seed):
    tf = _tf()
    shape, axis = parameters["shape"], parameters["axis"]
    model = convert(lambda x: tf.gather(x, parameters["indices"], axis=axis - len(shape) - 1), shape, seed)
    return [Built(model, "GATHER")]


def _maximum_and_minimum(parameters, seed):
    tf = _tf()
    shape, operation = parameters["shape"], parameters["operation"]
    function = getattr(tf, operation)
    channels = np.random.default_rng(seed).normal(size=shape[-1]).astype(np.float32)
    second = {
        "activation": lambda x: 0.5 * x + 0.25,
        "channel constant": lambda x: tf.constant(channels),
        "scalar constant": lambda x: tf.constant(0.3),
    }[parameters["other"]]
    return [Built(convert(lambda x: function(x, second(x)), shape, seed), operation.upper())]


def _prelu_from_the_keras_layer(parameters, seed):
    import keras

    size, channels = parameters["size"], parameters["channels"]
    inputs = keras.Input((size, size, channels))
    layer = keras.layers.PReLU(shared_axes=parameters["shared_axes"])
    outputs = layer(inputs)
    alpha = np.random.default_rng(seed).uniform(-0.6, 0.8, size=layer.get_weights()[0].shape)
    layer.set_weights([alpha.astype(np.float32)])
    model = reference_models.convert(keras.Model(inputs, outputs), calibration((size, size, channels), seed))
    return [Built(model, "PRELU")]


@st.composite
def _reduction_parameters(draw):
    shape = draw(shapes(3, 3))
    axes = draw(st.lists(st.integers(0, len(shape)), min_size=1, max_size=3, unique=True))
    if axes == [0]:
        axes = [0, 1]
    return {
        "shape": shape,
        "axes": axes,
        "keep_dims": draw(st.booleans()),
        "operation": draw(st.sampled_from(["reduce_sum", "reduce_max"])),
    }


def _sum_and_reduce_max(parameters, seed):
    tf = _tf()
    operation, axes = parameters["operation"], parameters["axes"]
    model = convert(
        lambda x: getattr(tf, operation)(x, axis=axes, keepdims=parameters["keep_dims"]), parameters["shape"], seed
    )
    return [Built(model, {"reduce_sum": "SUM", "reduce_max": "REDUCE_MAX"}[operation])]


def _resize(parameters, seed):
    tf = _tf()
    method, mode = parameters["method"], parameters["mode"]
    height, width = parameters["height"], parameters["width"]
    out_height, out_width = parameters["out_height"], parameters["out_width"]
    function = getattr(tf.compat.v1.image, f"resize_{'bilinear' if method == 'bilinear' else 'nearest_neighbor'}")
    flags = {"align_corners": mode == "align_corners", "half_pixel_centers": mode == "half_pixel_centers"}
    if (out_height, out_width) == (height, width):
        out_width += 1
    model = convert(lambda x: function(x, (out_height, out_width), **flags), (height, width, 3), seed)
    return [Built(model, "RESIZE_BILINEAR" if method == "bilinear" else "RESIZE_NEAREST_NEIGHBOR")]


def _depth_to_space_and_space_to_depth(parameters, seed):
    tf = _tf()
    block, side, channels = parameters["block"], parameters["side"], parameters["channels"]
    deep = convert(lambda x: tf.nn.depth_to_space(x, block), (side, side + 1, channels * block * block), seed)
    wide = convert(lambda x: tf.nn.space_to_depth(x, block), (side * block, block, channels), seed)
    return [Built(deep, "DEPTH_TO_SPACE"), Built(wide, "SPACE_TO_DEPTH")]


@st.composite
def _padding_parameters(draw):
    shape = draw(shapes(3, 3, 2, 5))
    mode = draw(st.sampled_from(["REFLECT", "SYMMETRIC"]))
    limit = 1 if mode == "REFLECT" else 0
    paddings = [[0, 0]] + [[draw(st.integers(0, side - limit)), draw(st.integers(0, side - limit))] for side in shape]
    if not any(map(any, paddings)):
        paddings[1][0] = 1
    return {"shape": shape, "mode": mode, "paddings": paddings, "fill": draw(st.sampled_from([-1.5, 0.7, 3.0]))}


def _padv2_and_mirror_pad(parameters, seed):
    tf = _tf()
    shape, paddings = parameters["shape"], parameters["paddings"]
    mirrored = convert(lambda x: tf.pad(x, paddings, mode=parameters["mode"]), shape, seed)
    padded = convert(lambda x: tf.pad(x, paddings, constant_values=parameters["fill"]), shape, seed)
    return [Built(mirrored, "MIRROR_PAD"), Built(padded, "PADV2")]


def _batch_matmul(parameters, seed):
    tf = _tf()
    batches, rows, depth, columns = (parameters[key] for key in ("batches", "rows", "depth", "columns"))
    generator = np.random.default_rng(seed)
    if parameters["constant"]:
        weights = tf.constant(generator.normal(size=(batches, depth, columns)).astype(np.float32))
        model = convert(lambda x: tf.matmul(x, weights), (batches, rows, depth), seed)
    else:
        # Two activations: the input against a rescaled, shifted copy of itself (transpose_b: adj_y).
        model = convert(lambda x: tf.matmul(x, 0.5 * x + 0.25, transpose_b=True), (batches, rows, depth), seed)
    return [Built(model, "BATCH_MATMUL")]


CASES = (
    Case("transpose", _transpose_parameters(), _transpose),
    Case("strided_slice", _strided_slice_parameters(), _strided_slice),
    Case("slice", _slice_parameters(), _slice),
    Case("squeeze_and_expand_dims", _squeeze_parameters(), _squeeze_and_expand_dims),
    Case("pack_and_concatenation", _pack_parameters(), _pack_and_concatenation),
    Case("unpack_split_and_split_v", _split_parameters(), _unpack_split_and_split_v),
    Case("gather", _gather_parameters(), _gather),
    Case(
        "maximum_and_minimum",
        st.fixed_dictionaries(
            {
                "shape": shapes(3, 3),
                "operation": st.sampled_from(["maximum", "minimum"]),
                "other": st.sampled_from(["activation", "channel constant", "scalar constant"]),
            }
        ),
        _maximum_and_minimum,
    ),
    Case(
        "prelu",
        st.fixed_dictionaries(
            {
                "size": st.integers(3, 7),
                "channels": st.integers(1, 5),
                "shared_axes": st.sampled_from([None, [1, 2], [1], [3]]),
            }
        ),
        _prelu_from_the_keras_layer,
        max_examples=12,
    ),
    Case("sum_and_reduce_max", _reduction_parameters(), _sum_and_reduce_max),
    Case(
        "resize",
        st.fixed_dictionaries(
            {
                "height": st.integers(2, 7),
                "width": st.integers(2, 7),
                "out_height": st.integers(1, 12),
                "out_width": st.integers(1, 12),
                "mode": st.sampled_from(["plain", "align_corners", "half_pixel_centers"]),
                "method": st.sampled_from(["bilinear", "nearest"]),
            }
        ),
        _resize,
    ),
    Case(
        "depth_to_space_and_space_to_depth",
        st.fixed_dictionaries(
            {"block": st.integers(2, 3), "side": st.integers(1, 3), "channels": st.integers(1, 3)}
        ),
        _depth_to_space_and_space_to_depth,
    ),
    Case("padv2_and_mirror_pad", _padding_parameters(), _padv2_and_mirror_pad),
    Case(
        "batch_matmul",
        st.fixed_dictionaries(
            {
                "batches": st.integers(1, 3),
                "rows": st.integers(1, 5),
                "depth": st.integers(1, 40),
                "columns": st.integers(1, 5),
                "constant": st.booleans(),
            }
        ),
        _batch_matmul,
    ),
)
