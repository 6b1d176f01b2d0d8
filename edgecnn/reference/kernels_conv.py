"""CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV and FULLY_CONNECTED on batches of int8 NHWC arrays.

Accumulation is im2col + float64 matmul (exact: the sums of int8 products stay far below 2^53), chunked over
the batch so the patch matrix stays small.
"""

import numpy as np

from edgecnn.reference import arithmetic
from edgecnn.reference.kernels_common import (
    exact_matmul,
    output_range,
    pad_spatial,
    padding_for,
    per_channel_multipliers,
    requantize_to_int8,
    same_padding,
    scale_and_zero_point,
    to_int8,
    window_slices,
)

PATCH_BUDGET_ELEMENTS = 4_000_000


def _bias(call, position, channels):
    if len(call.arrays) > position and call.arrays[position] is not None:
        return np.asarray(call.arrays[position], dtype=np.int64).reshape(-1)
    return np.zeros(channels, dtype=np.int64)


def _chunks(batch_size, elements_per_image):
    step = max(1, PATCH_BUDGET_ELEMENTS // max(elements_per_image, 1))
    return [slice(start, min(start + step, batch_size)) for start in range(0, batch_size, step)]


def conv_2d(call):
    values, filters = call.arrays[0], np.asarray(call.arrays[1], dtype=np.int64)
    input_scale, input_zero_point = scale_and_zero_point(call.inputs[0])
    output_scale, output_zero_point = scale_and_zero_point(call.outputs[0])
    out_channels, filter_height, filter_width, filter_depth = filters.shape
    _, height, width, depth = values.shape
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
    # Filter taps in (ky, kx, c) order, matching the patch layout below.
    weights = filters.reshape(out_channels, -1)
    results = []
    for chunk in _chunks(values.shape[0], out_h * out_w * filter_height * filter_width * depth):
        centered = pad_spatial(values[chunk].astype(np.int64) - input_zero_point, pad_h, pad_w, 0)
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
        patches = np.stack([view for _, _, view in taps], axis=3)  # N, out_h, out_w, taps, depth
        accumulators = []
        for group in range(groups):
            group_patches = patches[..., group * filter_depth : (group + 1) * filter_depth]
            group_patches = group_patches.reshape(-1, filter_height * filter_width * filter_depth)
            group_weights = weights[group * group_channels : (group + 1) * group_channels]
            accumulators.append(exact_matmul(group_patches, group_weights.T))
        accumulator = np.concatenate(accumulators, axis=-1).reshape(-1, out_h, out_w, out_channels) + bias
        results.append(requantize_to_int8(accumulator, multipliers, shifts, output_zero_point, low, high))
    return [np.concatenate(results)]


def depthwise_conv_2d(call):
    values, filters = call.arrays[0], np.asarray(call.arrays[1], dtype=np.int64)
    input_scale, input_zero_point = scale_and_zero_point(call.inputs[0])
    output_scale, output_zero_point = scale_and_zero_point(call.outputs[0])
    _, filter_height, filter_width, out_channels = filters.shape
    _, height, width, depth = values.shape
    _, out_h, out_w, _ = call.output_shape()
    options = call.options
    multiplier = out_channels // depth
    pad_h, pad_w = padding_for(call, height, width, filter_height, filter_width, out_h, out_w)
    multipliers, shifts = per_channel_multipliers(
        input_scale, call.inputs[1].quantization.scales, output_scale, out_channels
    )
    bias = _bias(call, 2, out_channels)
    low, high = output_range(call)
    centered = pad_spatial(values.astype(np.int64) - input_zero_point, pad_h, pad_w, 0)
    accumulator = np.zeros((values.shape[0], out_h, out_w, out_channels), dtype=np.int64)
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
        # Output channel oc = ic * multiplier + m reads input channel ic.
        accumulator += np.repeat(view, multiplier, axis=-1) * filters[0, ky, kx]
    return [requantize_to_int8(accumulator + bias, multipliers, shifts, output_zero_point, low, high)]


def transpose_conv(call):
    values, filters = call.arrays[2], np.asarray(call.arrays[1], dtype=np.int64)
    input_scale, input_zero_point = scale_and_zero_point(call.inputs[2])
    output_scale, output_zero_point = scale_and_zero_point(call.outputs[0])
    out_channels, filter_height, filter_width, depth = filters.shape
    batch, height, width, _ = values.shape
    _, out_h, out_w, _ = call.output_shape()
    stride_h, stride_w = call.options["stride_h"], call.options["stride_w"]
    # Padding is that of a forward conv over the output, as TFLite's Prepare computes it.
    if call.options["padding"] == "VALID":
        pad_top = pad_left = 0
    else:
        pad_top, _ = same_padding(out_h, filter_height, stride_h, 1, -(-out_h // stride_h))
        pad_left, _ = same_padding(out_w, filter_width, stride_w, 1, -(-out_w // stride_w))
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
        if filter_scales.size == 1:
            # TFLite Micro multiplies the two float scales in float32 before dividing in double.
            real = np.float64(np.float32(input_scale) * np.float32(filter_scales[0])) / np.float64(
                output_scale
            )
            multipliers, shifts = arithmetic.quantize_multiplier(real)
        else:
            multipliers, shifts = per_channel_multipliers(input_scale, filter_scales, output_scale, units)
        output = (
            arithmetic.multiply_by_quantized_multiplier(accumulator, multipliers, shifts) + output_zero_point
        )
    output = to_int8(np.clip(output, low, high))
    return [output.reshape(call.output_shape())]


def _requantize_in_double(accumulator, input_scale, filter_scales, output_scale, output_zero_point):
    """TFLite's current reference FULLY_CONNECTED: round(double(acc) * s_in * s_w / s_out), half away."""
    real = np.float64(input_scale) * filter_scales / np.float64(output_scale)
    scaled = accumulator.astype(np.float64) * real
    truncated = np.trunc(scaled)
    rounded = truncated + np.sign(scaled) * (np.abs(scaled - truncated) >= 0.5)
    return rounded.astype(np.int64) + output_zero_point
