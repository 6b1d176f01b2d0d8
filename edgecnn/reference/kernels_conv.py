"""CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV and FULLY_CONNECTED on batches of int8 NHWC arrays.

Accumulation runs in float32 (or float64) only where kernels_common.accumulation_dtype proves every partial
sum exact: CONV_2D as im2col + one BLAS product per batch chunk (the patch matrix is built straight in the
accumulation dtype), DEPTHWISE_CONV_2D as one multiply-accumulate per filter tap on strided views.
"""

import numpy as np

from edgecnn.reference import arithmetic
from edgecnn.reference.kernels_common import (
    Requantizer,
    accumulation_dtype,
    accumulator_bound,
    exact_matmul,
    output_range,
    padding_for,
    per_channel_multipliers,
    requantize_to_int8,
    same_padding,
    scale_and_zero_point,
    to_int8,
    window_slices,
)

# Patch-matrix elements per batch chunk: large enough to amortise each BLAS call, small enough to stay
# near the caches (and to keep the int64 requantize temporaries small).
PATCH_BUDGET_ELEMENTS = 4_000_000


def _bias(call, position, channels):
    if len(call.arrays) > position and call.arrays[position] is not None:
        return np.asarray(call.arrays[position], dtype=np.int64).reshape(-1)
    return np.zeros(channels, dtype=np.int64)


def _chunks(batch_size, elements_per_image):
    step = max(1, PATCH_BUDGET_ELEMENTS // max(elements_per_image, 1))
    return [slice(start, min(start + step, batch_size)) for start in range(0, batch_size, step)]


def _centered_bound(values, zero_point):
    """max |q - zero_point| over an int8 batch; padding contributes 0."""
    if values.size == 0:
        return 0
    return max(abs(int(values.min()) - zero_point), abs(int(values.max()) - zero_point))


def _centered_padded(values, zero_point, pad_h, pad_w, dtype):
    """values - zero_point in `dtype`, zero-padded in H and W (padding is the zero point, as in TFLite)."""
    batch, height, width, depth = values.shape
    if not any(pad_h) and not any(pad_w):
        return np.subtract(values, zero_point, dtype=dtype)
    padded = np.zeros((batch, height + pad_h[0] + pad_h[1], width + pad_w[0] + pad_w[1], depth), dtype)
    inner = padded[:, pad_h[0] : pad_h[0] + height, pad_w[0] : pad_w[0] + width]
    np.subtract(values, zero_point, out=inner, dtype=dtype)
    return padded


def _window_view(padded, filter_shape, strides, dilations, output_size):
    """A read-only (N, out_h, out_w, filter_h, filter_w, C) view of every filter window: no copy."""
    (filter_height, filter_width), (stride_h, stride_w) = filter_shape, strides
    (dilation_h, dilation_w), (out_h, out_w) = dilations, output_size
    extent = ((filter_height - 1) * dilation_h + 1, (filter_width - 1) * dilation_w + 1)
    windows = np.lib.stride_tricks.sliding_window_view(padded, extent, axis=(1, 2))
    rows = slice(None, (out_h - 1) * stride_h + 1, stride_h)
    columns = slice(None, (out_w - 1) * stride_w + 1, stride_w)
    windows = windows[:, rows, columns, :, ::dilation_h, ::dilation_w]
    return windows.transpose(0, 1, 2, 4, 5, 3)


def conv_2d(call):
    values, filters = call.arrays[0], np.asarray(call.arrays[1])
    input_scale, input_zero_point = scale_and_zero_point(call.inputs[0])
    output_scale, output_zero_point = scale_and_zero_point(call.outputs[0])
    out_channels, filter_height, filter_width, filter_depth = filters.shape
    batch, height, width, depth = values.shape
    _, out_h, out_w, _ = call.output_shape()
    options = call.options
    pad_h, pad_w = padding_for(call, height, width, filter_height, filter_width, out_h, out_w)
    groups = depth // filter_depth
    group_channels = out_channels // groups
    multipliers, shifts = per_channel_multipliers(
        input_scale, call.inputs[1].quantization.scales, output_scale, out_channels
    )
    bias = _bias(call, 2, out_channels)
    low, high = output_range(call)
    # Filter taps in (ky, kx, c) order, matching the patch layout; one (taps, channels) matrix per group.
    columns = filters.reshape(out_channels, -1).T
    input_bound = _centered_bound(values, input_zero_point)
    dtype = accumulation_dtype(input_bound, columns)
    requantize = Requantizer(
        out_channels,
        accumulator_bound(input_bound, columns),
        bias,
        multipliers,
        shifts,
        output_zero_point,
        low,
        high,
    )
    group_columns = [
        np.ascontiguousarray(columns[:, group * group_channels : (group + 1) * group_channels], dtype=dtype)
        for group in range(groups)
    ]
    windows = _window_view(
        _centered_padded(values, input_zero_point, pad_h, pad_w, dtype),
        (filter_height, filter_width),
        (options["stride_h"], options["stride_w"]),
        (options["dilation_h_factor"], options["dilation_w_factor"]),
        (out_h, out_w),
    )
    taps = filter_height * filter_width * filter_depth
    output = np.empty((batch, out_h, out_w, out_channels), dtype=np.int8)
    for chunk in _chunks(batch, out_h * out_w * taps * groups):
        accumulators = []
        for group in range(groups):
            patches = windows[chunk, ..., group * filter_depth : (group + 1) * filter_depth]
            patches = np.ascontiguousarray(patches).reshape(-1, taps)
            accumulators.append(np.matmul(patches, group_columns[group]))
        accumulator = accumulators[0] if groups == 1 else np.concatenate(accumulators, axis=-1)
        output[chunk] = requantize(accumulator).reshape(-1, out_h, out_w, out_channels)
    return [output]


def depthwise_conv_2d(call):
    values, filters = call.arrays[0], np.asarray(call.arrays[1])
    input_scale, input_zero_point = scale_and_zero_point(call.inputs[0])
    output_scale, output_zero_point = scale_and_zero_point(call.outputs[0])
    _, filter_height, filter_width, out_channels = filters.shape
    batch, height, width, depth = values.shape
    _, out_h, out_w, _ = call.output_shape()
    options = call.options
    multiplier = out_channels // depth
    pad_h, pad_w = padding_for(call, height, width, filter_height, filter_width, out_h, out_w)
    multipliers, shifts = per_channel_multipliers(
        input_scale, call.inputs[1].quantization.scales, output_scale, out_channels
    )
    bias = _bias(call, 2, out_channels)
    low, high = output_range(call)
    input_bound = _centered_bound(values, input_zero_point)
    dtype = accumulation_dtype(input_bound, filters.reshape(-1, out_channels))
    requantize = Requantizer(
        out_channels,
        accumulator_bound(input_bound, filters.reshape(-1, out_channels)),
        bias,
        multipliers,
        shifts,
        output_zero_point,
        low,
        high,
    )
    tap_weights = filters[0].astype(dtype)
    output = np.empty((batch, out_h, out_w, out_channels), dtype=np.int8)
    for chunk in _chunks(batch, out_h * out_w * out_channels * 8):
        centered = _centered_padded(values[chunk], input_zero_point, pad_h, pad_w, dtype)
        if multiplier > 1:
            # Output channel oc = ic * multiplier + m reads input channel ic.
            centered = np.repeat(centered, multiplier, axis=-1)
        accumulator = np.zeros((centered.shape[0], out_h, out_w, out_channels), dtype=dtype)
        product = np.empty_like(accumulator)
        taps = window_slices(
            centered,
            filter_height,
            filter_width,
            options["stride_h"],
            options["stride_w"],
            options["dilation_h_factor"],
            options["dilation_w_factor"],
            out_h,
            out_w,
        )
        for ky, kx, view in taps:
            np.multiply(view, tap_weights[ky, kx], out=product)
            accumulator += product
        output[chunk] = requantize(accumulator)
    return [output]


def transpose_conv(call):
    values, filters = call.arrays[2], np.asarray(call.arrays[1], dtype=np.int64)
    input_scale, input_zero_point = scale_and_zero_point(call.inputs[2])
    output_scale, output_zero_point = scale_and_zero_point(call.outputs[0])
    out_channels, filter_height, filter_width, depth = filters.shape
    batch, height, width, _ = values.shape
    _, out_h, out_w, _ = call.output_shape()
    stride_h, stride_w = call.options["stride_h"], call.options["stride_w"]
    pad_top, pad_left = transpose_conv_padding(
        call.options["padding"], (out_h, out_w), (filter_height, filter_width), (stride_h, stride_w)
    )
    full_h = max((height - 1) * stride_h + filter_height, pad_top + out_h)
    full_w = max((width - 1) * stride_w + filter_width, pad_left + out_w)
    scratch = np.zeros((batch, full_h, full_w, out_channels), dtype=np.int64)
    centered = (values.astype(np.int64) - input_zero_point).reshape(-1, depth)
    for ky in range(filter_height):
        for kx in range(filter_width):
            contribution = exact_matmul(centered, filters[:, ky, kx, :].T).reshape(batch, height, width, -1)
            scratch[
                :,
                ky : ky + (height - 1) * stride_h + 1 : stride_h,
                kx : kx + (width - 1) * stride_w + 1 : stride_w,
            ] += contribution
    accumulator = scratch[:, pad_top : pad_top + out_h, pad_left : pad_left + out_w] + _bias(
        call, 3, out_channels
    )
    multipliers, shifts = per_channel_multipliers(
        input_scale, call.inputs[1].quantization.scales, output_scale, out_channels
    )
    low, high = output_range(call)
    return [requantize_to_int8(accumulator, multipliers, shifts, output_zero_point, low, high)]


def transpose_conv_padding(padding, output_size, filter_size, strides):
    """(top, left) padding of TRANSPOSE_CONV: that of a forward conv over the output, as TFLite's Prepare
    computes it."""
    if padding == "VALID":
        return 0, 0
    (out_h, out_w), (filter_height, filter_width), (stride_h, stride_w) = output_size, filter_size, strides
    pad_top, _ = same_padding(out_h, filter_height, stride_h, 1, -(-out_h // stride_h))
    pad_left, _ = same_padding(out_w, filter_width, stride_w, 1, -(-out_w // stride_w))
    return pad_top, pad_left


def fully_connected(call):
    values, weights = call.arrays[0], np.asarray(call.arrays[1], dtype=np.int64)
    input_scale, input_zero_point = scale_and_zero_point(call.inputs[0])
    output_scale, output_zero_point = scale_and_zero_point(call.outputs[0])
    units, depth = weights.shape
    weight_quantization = call.inputs[1].quantization
    weight_offset = 0 if weight_quantization.is_per_channel else -int(weight_quantization.zero_points[0])
    rows = (values.astype(np.int64) - input_zero_point).reshape(-1, depth)
    accumulator = exact_matmul(rows, (weights + weight_offset).T) + _bias(call, 2, units)
    low, high = output_range(call)
    filter_scales = np.asarray(weight_quantization.scales, dtype=np.float64)
    if call.flavor == "tflite":
        output = _requantize_in_double(
            accumulator, input_scale, filter_scales, output_scale, output_zero_point
        )
    else:
        multipliers, shifts = micro_fully_connected_multipliers(input_scale, filter_scales, output_scale, units)
        output = (
            arithmetic.multiply_by_quantized_multiplier(accumulator, multipliers, shifts) + output_zero_point
        )
    output = to_int8(np.clip(output, low, high))
    return [output.reshape(call.output_shape())]


def micro_fully_connected_multipliers(input_scale, filter_scales, output_scale, units):
    """TFLite Micro's FULLY_CONNECTED (multiplier, shift): scalars per tensor, arrays per channel."""
    filter_scales = np.asarray(filter_scales, dtype=np.float64)
    if filter_scales.size == 1:
        # TFLite Micro multiplies the two float scales in float32 before dividing in double.
        real = np.float64(np.float32(input_scale) * np.float32(filter_scales[0])) / np.float64(output_scale)
        return arithmetic.quantize_multiplier(real)
    return per_channel_multipliers(input_scale, filter_scales, output_scale, units)


def _requantize_in_double(accumulator, input_scale, filter_scales, output_scale, output_zero_point):
    """TFLite's current reference FULLY_CONNECTED: round(double(acc) * s_in * s_w / s_out), half away."""
    real = np.float64(input_scale) * filter_scales / np.float64(output_scale)
    scaled = accumulator.astype(np.float64) * real
    truncated = np.trunc(scaled)
    rounded = truncated + np.sign(scaled) * (np.abs(scaled - truncated) >= 0.5)
    return rounded.astype(np.int64) + output_zero_point


def batch_matmul(call):
    """BATCH_MATMUL (reference_ops::BatchMatMul<int8_t, int32_t>, both runtimes): the exact sum of
    (x - zp_x) * (y - zp_y) over the depth, MBQM with QuantizeMultiplier(double(float32(s_x * s_y)) / s_out)
    (GetQuantizedConvolutionMultipler), + zp_out, clamped to int8. Batch axes broadcast, adj_x / adj_y
    transpose the last two axes; either operand may be a constant."""
    rank = len(call.outputs[0].shape)
    operands = []
    for position, adjoint in ((0, "adj_x"), (1, "adj_y")):
        values = call.per_image(position)
        # Right-align the batch axes of operands of different rank, after the images axis.
        values = values.reshape(values.shape[0], *([1] * (rank + 1 - values.ndim)), *values.shape[1:])
        if call.options.get(adjoint, False):
            values = np.swapaxes(values, -1, -2)
        operands.append(values)
    (left_scale, left_zero_point), (right_scale, right_zero_point) = (
        scale_and_zero_point(call.inputs[0]),
        scale_and_zero_point(call.inputs[1]),
    )
    output_scale, output_zero_point = scale_and_zero_point(call.outputs[0])
    left = np.subtract(operands[0], left_zero_point, dtype=np.int64)
    right = np.subtract(operands[1], right_zero_point, dtype=np.int64)
    depth = left.shape[-1]
    bound = depth * int(np.abs(left).max(initial=0)) * int(np.abs(right).max(initial=0))
    dtype = np.float32 if bound <= 2**24 else np.float64 if bound <= 2**53 else np.int64
    accumulator = np.matmul(left.astype(dtype), right.astype(dtype)).astype(np.int64)
    multiplier, shift = batch_matmul_multiplier(left_scale, right_scale, output_scale)
    low, high = output_range(call)
    output = requantize_to_int8(accumulator, multiplier, shift, output_zero_point, low, high)
    return [call.batched_output(output)]


def batch_matmul_multiplier(left_scale, right_scale, output_scale):
    """GetQuantizedConvolutionMultipler: QuantizeMultiplier(double(float32(s_x * s_y)) / double(s_out))."""
    real = np.float64(np.float32(left_scale) * np.float32(right_scale)) / np.float64(output_scale)
    return arithmetic.quantize_multiplier(real)
