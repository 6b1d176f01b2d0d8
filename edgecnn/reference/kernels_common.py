"""What every int8 kernel shares: the call record, quantization, padding and the requantize epilogue."""

import dataclasses

import numpy as np

from edgecnn.reference import arithmetic


@dataclasses.dataclass
class Call:
    """One op on batched arrays: arrays[i] belongs to operator.inputs[i] (None for an absent input)."""

    operator: object
    inputs: list
    outputs: list
    arrays: list
    flavor: str

    @property
    def options(self):
        return self.operator.options

    @property
    def batch_size(self):
        return self.arrays[0].shape[0]

    def output_shape(self, position=0):
        """The output tensor's shape for the run's batch (see batched_shape)."""
        return batched_shape(self.outputs[position].shape, self.batch_size)


def batched_shape(shape, batch_size):
    """A batch-1 model tensor's shape for a batch of `batch_size`: the leading 1 is replaced, or, when the
    converter dropped the batch axis (a rank-1 RESHAPE output), one is put in front."""
    shape = tuple(shape)
    if shape and shape[0] == 1:
        return (batch_size, *shape[1:])
    return (batch_size, *shape)


def scale_and_zero_point(tensor):
    """Per-tensor (scale as a Python float of the stored float32, zero point as int)."""
    quantization = tensor.quantization
    if not quantization.is_quantized:
        return 1.0, 0
    return float(quantization.scales[0]), int(quantization.zero_points[0])


def output_range(call, position=0):
    """Clamp range of the output, including the op's fused activation."""
    scale, zero_point = scale_and_zero_point(call.outputs[position])
    activation = call.options.get("fused_activation_function", "NONE")
    return arithmetic.activation_range(activation, scale, zero_point)


def to_int8(values):
    return np.asarray(values).astype(np.int8)


def same_padding(in_size, filter_size, stride, dilation, out_size):
    """TFLite ComputePaddingHeightWidth: (pad before, pad after) for the given output size."""
    effective_filter = (filter_size - 1) * dilation + 1
    total = (out_size - 1) * stride + effective_filter - in_size
    before = max(int(total / 2), 0)  # C division truncates toward zero
    after = max(total - before, 0)
    return before, after


def padding_for(call, input_height, input_width, filter_height, filter_width, output_height, output_width):
    options = call.options
    dilation_h = options.get("dilation_h_factor", 1)
    dilation_w = options.get("dilation_w_factor", 1)
    pad_h = same_padding(input_height, filter_height, options["stride_h"], dilation_h, output_height)
    pad_w = same_padding(input_width, filter_width, options["stride_w"], dilation_w, output_width)
    return pad_h, pad_w


def window_slices(
    padded, filter_height, filter_width, stride_h, stride_w, dilation_h, dilation_w, out_h, out_w
):
    """Yield (ky, kx, view (N, out_h, out_w, C)) for every filter tap: loops over taps, never over pixels."""
    for ky in range(filter_height):
        top = ky * dilation_h
        for kx in range(filter_width):
            left = kx * dilation_w
            yield (
                ky,
                kx,
                padded[
                    :,
                    top : top + (out_h - 1) * stride_h + 1 : stride_h,
                    left : left + (out_w - 1) * stride_w + 1 : stride_w,
                ],
            )


def pad_spatial(values, pad_h, pad_w, fill):
    """Pad H and W of an NHWC array, with extra rows/columns after so every window fits."""
    return np.pad(values, ((0, 0), pad_h, pad_w, (0, 0)), constant_values=fill)


def per_channel_multipliers(input_scale, filter_scales, output_scale, channels):
    """QuantizeMultiplier of double(s_in) * double(s_w[c]) / double(s_out), broadcast to `channels`."""
    filter_scales = np.asarray(filter_scales, dtype=np.float64)
    if filter_scales.size == 1:
        filter_scales = np.full(channels, filter_scales.item())
    real = np.float64(input_scale) * filter_scales / np.float64(output_scale)
    return arithmetic.quantize_multipliers(real)


def requantize_to_int8(accumulator, multipliers, shifts, output_zero_point, activation_min, activation_max):
    values = arithmetic.multiply_by_quantized_multiplier(accumulator, multipliers, shifts) + output_zero_point
    return to_int8(np.clip(values, activation_min, activation_max))


def exact_matmul(left, right):
    """Integer matrix product through float64 BLAS: exact while every partial sum stays below 2^53."""
    bound = float(np.abs(left).max(initial=0)) * float(np.abs(right).max(initial=0)) * left.shape[-1]
    if bound >= 2.0**53:
        return np.matmul(left.astype(np.int64), right.astype(np.int64))
    return np.rint(np.matmul(left.astype(np.float64), right.astype(np.float64))).astype(np.int64)
