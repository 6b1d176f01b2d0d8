"""Pooling, reductions, element-wise arithmetic and activations on batched int8 arrays.

Element-wise ops of int8 inputs run their exact integer arithmetic once over every possible input (256
values, or 256 x 256 pairs for ADD/SUB/MUL), then look the batch up in that table: same result, fewer passes.
"""

import functools
import typing

import numpy as np

from edgecnn.reference import activations, arithmetic
from edgecnn.reference.kernels_common import (
    output_range,
    pad_spatial,
    padding_for,
    scale_and_zero_point,
    to_int8,
    window_slices,
)


def _pool_windows(call, values, fill):
    options = call.options
    _, height, width, _ = values.shape
    _, out_h, out_w, _ = call.output_shape()
    filter_h, filter_w = options["filter_height"], options["filter_width"]
    pad_h, pad_w = padding_for(call, height, width, filter_h, filter_w, out_h, out_w)
    padded = pad_spatial(values, pad_h, pad_w, fill)
    return window_slices(
        padded, filter_h, filter_w, options["stride_h"], options["stride_w"], 1, 1, out_h, out_w
    ), (pad_h, pad_w)


def max_pool_2d(call):
    # Padding with -128 instead of "ignore" cannot change a max of int8 values once clamped to low >= -128.
    values = np.asarray(call.arrays[0], dtype=np.int8)
    windows, _ = _pool_windows(call, values, np.int8(-128))
    result = None
    for _, _, view in windows:
        result = view.copy() if result is None else np.maximum(result, view, out=result)
    low, high = output_range(call)
    return [np.clip(result, low, high, out=result)]


def average_pool_2d(call):
    values = call.arrays[0].astype(np.int64)
    windows, (pad_h, pad_w) = _pool_windows(call, values, 0)
    total = sum(view for _, _, view in windows)
    # The in-bounds count of each window (padding is excluded), from the same windows over ones.
    ones = np.ones((1, *values.shape[1:3], 1), dtype=np.int64)
    count_windows = window_slices(
        pad_spatial(ones, pad_h, pad_w, 0),
        call.options["filter_height"],
        call.options["filter_width"],
        call.options["stride_h"],
        call.options["stride_w"],
        1,
        1,
        *call.output_shape()[1:3],
    )
    count = sum(view for _, _, view in count_windows)
    half = count // 2
    rounded = np.where(total > 0, (total + half) // count, -((half - total) // count))
    low, high = output_range(call)
    return [to_int8(np.clip(rounded, low, high))]


def mean(call):
    values = call.arrays[0].astype(np.int64)
    input_scale, input_zero_point = scale_and_zero_point(call.inputs[0])
    output_scale, output_zero_point = scale_and_zero_point(call.outputs[0])
    rank = values.ndim
    axes = tuple(sorted({int(axis) % rank for axis in np.asarray(call.arrays[1]).reshape(-1)}))
    count = int(np.prod([values.shape[axis] for axis in axes]))
    total = values.sum(axis=axes, keepdims=True)
    scaled_multiplier, shift = mean_multiplier(input_scale, output_scale, count)
    result = (
        arithmetic.multiply_by_quantized_multiplier(
            total - input_zero_point * count, scaled_multiplier, shift
        )
        + output_zero_point
    )
    result = np.clip(result, -128, 127).reshape(call.output_shape())
    return [to_int8(result)]


def sum_multiplier(input_scale, output_scale):
    """QuantizedMeanOrSum's (multiplier, shift) of double(s_in) / double(s_out)."""
    return arithmetic.quantize_multiplier(float(np.float64(input_scale) / np.float64(output_scale)))


def mean_multiplier(input_scale, output_scale, count):
    """MEAN's (multiplier, shift) for a sum of `count` values: 1/count folded into s_in / s_out."""
    multiplier, shift = sum_multiplier(input_scale, output_scale)
    bits = min(int(np.floor(np.log2(count))), 32, 31 + shift) if count > 0 else 0
    # C integer division of the int64 product truncates; both operands are non-negative here.
    scaled_multiplier = (multiplier << bits) // count if count > 0 else 0
    return scaled_multiplier, shift - bits


def _broadcast_operands(call, dtype=np.int64):
    """Both operands as `dtype`, batched ones given the output's rank (TFLite broadcasts right-aligned)."""
    rank = len(call.output_shape())
    operands = []
    for tensor, array in zip(call.inputs[:2], call.arrays[:2]):
        array = np.asarray(array, dtype=dtype)
        if not tensor.is_constant and array.ndim < rank:
            array = array.reshape(array.shape[0], *([1] * (rank - array.ndim)), *array.shape[1:])
        operands.append(array)
    return operands


# Element counts above which computing a table of every input (pair) first is the cheaper way.
UNARY_TABLE_MIN_ELEMENTS = 4096
BINARY_TABLE_MIN_ELEMENTS = 65536
_INT8_VALUES = np.arange(-128, 128, dtype=np.int8)


def _by_bit_pattern(table_by_value):
    """Reorder a table indexed by value + 128 on each axis to be indexed by the int8's uint8 bit pattern."""
    return np.roll(table_by_value, -128, axis=tuple(range(table_by_value.ndim)))


def _elementwise(function, values):
    """function(values) for a function of each int8 element alone, through a 256-entry table when large."""
    values = np.asarray(values)
    if values.dtype != np.int8 or values.size < UNARY_TABLE_MIN_ELEMENTS:
        return function(values)
    table = _by_bit_pattern(np.asarray(function(_INT8_VALUES)))
    return table[values.view(np.uint8)]


@functools.lru_cache(maxsize=64)
def _pair_table(function, parameters):
    """function(first, second, *parameters) for every pair of int8 values, indexed by (first << 8) | second
    in uint8 bit patterns; read-only and cached, since it depends on the parameters alone."""
    table = function(_INT8_VALUES.reshape(-1, 1), _INT8_VALUES.reshape(1, -1), *parameters)
    table = _by_bit_pattern(np.asarray(table, dtype=np.int8)).reshape(-1)
    table.flags.writeable = False
    return table


def _binary(call, function, parameters, table=True):
    """function(first, second, *parameters) -> int8 on the broadcast operands, as the output's shape."""
    output_shape = call.output_shape()
    first, second = _broadcast_operands(call, dtype=None)
    if (
        table
        and first.dtype == second.dtype == np.int8
        and int(np.prod(output_shape, dtype=np.int64)) >= BINARY_TABLE_MIN_ELEMENTS
    ):
        index = first.view(np.uint8).astype(np.intp) << 8
        result = _pair_table(function, parameters).take(index | second.view(np.uint8))
    else:
        result = function(first, second, *parameters)
    result = np.broadcast_to(result, output_shape)
    return [np.ascontiguousarray(result, dtype=np.int8)]


class AddParameters(typing.NamedTuple):
    """ADD/SUB's requantization: each input rescaled (after a left shift of 20) to a shared scale, then the sum."""

    first_zero_point: int
    first_multiplier: int
    first_shift: int
    second_zero_point: int
    second_multiplier: int
    second_shift: int
    output_multiplier: int
    output_shift: int
    output_zero_point: int


ADD_LEFT_SHIFT = 20


def _add_or_subtract_values(first, second, sign, parameters, activation_range):
    first = (np.asarray(first, dtype=np.int64) - parameters.first_zero_point) << ADD_LEFT_SHIFT
    second = (np.asarray(second, dtype=np.int64) - parameters.second_zero_point) << ADD_LEFT_SHIFT
    scaled_first = arithmetic.multiply_by_quantized_multiplier(
        first, parameters.first_multiplier, parameters.first_shift
    )
    scaled_second = arithmetic.multiply_by_quantized_multiplier(
        second, parameters.second_multiplier, parameters.second_shift
    )
    result = (
        arithmetic.multiply_by_quantized_multiplier(
            scaled_first + sign * scaled_second, parameters.output_multiplier, parameters.output_shift
        )
        + parameters.output_zero_point
    )
    return to_int8(np.clip(result, *activation_range))


def add_parameters(call):
    """ADD/SUB's AddParameters from the tensors' scales and zero points (the same for both runtimes)."""
    first_scale, first_zero_point = scale_and_zero_point(call.inputs[0])
    second_scale, second_zero_point = scale_and_zero_point(call.inputs[1])
    output_scale, output_zero_point = scale_and_zero_point(call.outputs[0])
    twice_max = 2.0 * max(first_scale, second_scale)
    first_multiplier, first_shift = arithmetic.quantize_multiplier(first_scale / twice_max)
    second_multiplier, second_shift = arithmetic.quantize_multiplier(second_scale / twice_max)
    output_multiplier, output_shift = arithmetic.quantize_multiplier(
        twice_max / ((1 << ADD_LEFT_SHIFT) * output_scale)
    )
    return AddParameters(
        first_zero_point, first_multiplier, first_shift,
        second_zero_point, second_multiplier, second_shift,
        output_multiplier, output_shift, output_zero_point,
    )


def _add_or_subtract(call, sign):
    return _binary(call, _add_or_subtract_values, (sign, add_parameters(call), tuple(output_range(call))))


def add(call):
    return _add_or_subtract(call, 1)


def sub(call):
    return _add_or_subtract(call, -1)


def _mul_values(first, second, zero_points, multiplier, shift, output_zero_point, low, high):
    first_zero_point, second_zero_point = zero_points
    product = (np.asarray(first, dtype=np.int64) - first_zero_point) * (
        np.asarray(second, dtype=np.int64) - second_zero_point
    )
    result = arithmetic.multiply_by_quantized_multiplier(product, multiplier, shift) + output_zero_point
    return to_int8(np.clip(result, low, high))


def mul_multiplier(call):
    """MUL's (multiplier, shift): TFLite combines the float32 scales in float32, TFLite Micro in double."""
    first_scale, _ = scale_and_zero_point(call.inputs[0])
    second_scale, _ = scale_and_zero_point(call.inputs[1])
    output_scale, _ = scale_and_zero_point(call.outputs[0])
    if call.flavor == "tflite":
        real = float(np.float32(first_scale) * np.float32(second_scale) / np.float32(output_scale))
    else:
        real = first_scale * second_scale / output_scale
    return arithmetic.quantize_multiplier(real)


def mul(call):
    _, first_zero_point = scale_and_zero_point(call.inputs[0])
    _, second_zero_point = scale_and_zero_point(call.inputs[1])
    _, output_zero_point = scale_and_zero_point(call.outputs[0])
    multiplier, shift = mul_multiplier(call)
    low, high = output_range(call)
    zero_points = (first_zero_point, second_zero_point)
    parameters = (zero_points, multiplier, shift, output_zero_point, low, high)
    return _binary(call, _mul_values, parameters)


def _maximum_values(first, second):
    return np.maximum(first, second)


def _minimum_values(first, second):
    return np.minimum(first, second)


def maximum(call):
    """No requantization in either runtime: the raw int8 maximum (the converter gives inputs the output's
    scale and zero point)."""
    return _binary(call, _maximum_values, (), table=False)


def minimum(call):
    return _binary(call, _minimum_values, (), table=False)


def prelu(call):
    input_scale, input_zero_point = scale_and_zero_point(call.inputs[0])
    alpha_scale, alpha_zero_point = scale_and_zero_point(call.inputs[1])
    output_scale, output_zero_point = scale_and_zero_point(call.outputs[0])
    multipliers = activations.prelu_multipliers(input_scale, alpha_scale, output_scale, flavor=call.flavor)
    zero_points = (input_zero_point, alpha_zero_point, output_zero_point)
    return _binary(call, activations.prelu, (zero_points, multipliers))


def _reduction_axes(call):
    """The reduced model axes as axes of the per-image view (N, *shape), each once."""
    rank = len(call.inputs[0].shape)
    return tuple(sorted({int(axis) % rank + 1 for axis in np.asarray(call.arrays[1]).reshape(-1)}))


def sum_(call):
    """TFLite's QuantizedMeanOrSum with compute_sum: MBQM(S - zp_in * count) + zp_out with the multiplier of
    double(s_in) / double(s_out), as MEAN but without folding 1/count into it (both runtimes)."""
    values = call.per_image(0)
    axes = _reduction_axes(call)
    count = int(np.prod([values.shape[axis] for axis in axes], dtype=np.int64))
    input_scale, input_zero_point = scale_and_zero_point(call.inputs[0])
    output_scale, output_zero_point = scale_and_zero_point(call.outputs[0])
    multiplier, shift = sum_multiplier(input_scale, output_scale)
    total = values.sum(axis=axes, dtype=np.int64) - input_zero_point * count
    result = arithmetic.multiply_by_quantized_multiplier(total, multiplier, shift) + output_zero_point
    return [call.batched_output(to_int8(np.clip(result, -128, 127)))]


def reduce_max(call):
    """The raw maximum: neither runtime requantizes (TFLite Micro requires equal input and output
    quantization; the converter gives them that)."""
    values = call.per_image(0)
    axes = _reduction_axes(call)
    return [call.batched_output(values.max(axis=axes) if axes else values)]


def _unary_parameters(call):
    return (*scale_and_zero_point(call.inputs[0]), *scale_and_zero_point(call.outputs[0]))


def softmax(call):
    input_scale, input_zero_point = scale_and_zero_point(call.inputs[0])
    beta = call.options.get("beta", 1.0)
    return [activations.softmax(call.arrays[0], input_scale, input_zero_point, beta, flavor=call.flavor)]


def _activation(call, function, *extra):
    parameters = (*_unary_parameters(call), *extra)
    return [_elementwise(lambda values: function(values, *parameters, flavor=call.flavor), call.arrays[0])]


def logistic(call):
    return _activation(call, activations.logistic)


def tanh(call):
    return _activation(call, activations.tanh)


def hard_swish(call):
    return _activation(call, activations.hard_swish)


def relu(call):
    return _activation(call, activations.relu)


def relu6(call):
    return _activation(call, activations.relu6)


def leaky_relu(call):
    return _activation(call, activations.leaky_relu, call.options.get("alpha", 0.0))


def quantize(call):
    output_scale, output_zero_point = scale_and_zero_point(call.outputs[0])
    values = call.arrays[0]
    info = np.iinfo(call.outputs[0].dtype)
    if np.issubdtype(values.dtype, np.floating):
        return [arithmetic.quantize_float(values, output_scale, output_zero_point, call.outputs[0].dtype)]
    else:
        input_scale, input_zero_point = scale_and_zero_point(call.inputs[0])
        multiplier, shift = arithmetic.quantize_multiplier(input_scale / output_scale)
        result = (
            arithmetic.multiply_by_quantized_multiplier(
                values.astype(np.int64) - input_zero_point, multiplier, shift
            )
            + output_zero_point
        )
    return [np.clip(result, info.min, info.max).astype(call.outputs[0].dtype)]


def dequantize(call):
    input_scale, input_zero_point = scale_and_zero_point(call.inputs[0])
    values = call.arrays[0].astype(np.int64) - input_zero_point
    return [(np.float64(input_scale) * values).astype(np.float32)]
