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
        """Images in the run: the leading axis of the first activation input (constants have none)."""
        for tensor, array in zip(self.inputs, self.arrays):
            if tensor is not None and array is not None and not tensor.is_constant:
                return array.shape[0]
        return self.arrays[0].shape[0]

    def output_shape(self, position=0):
        """The output tensor's shape for the run's batch (see batched_shape)."""
        return batched_shape(self.outputs[position].shape, self.batch_size)

    def per_image(self, position):
        """Input `position` as (N, *model shape): one batch-1 model tensor per image (see batched_shape).

        A constant comes back as (1, *shape), which broadcasts over the images. Kernels written on these views
        treat the model's axis k as axis k + 1 and so handle every axis alike, the model's batch axis included.
        """
        tensor, array = self.inputs[position], np.asarray(self.arrays[position])
        if tensor.is_constant:
            return array.reshape(1, *tensor.shape)
        return array.reshape(self.batch_size, *tensor.shape)

    def batched_output(self, values, position=0):
        """A per-image result (N, *model output shape) in the interpreter's batched layout, contiguous."""
        return np.ascontiguousarray(values).reshape(self.output_shape(position))


def batched_shape(shape, batch_size):
    """A batch-1 model tensor's shape for a batch of `batch_size`: the leading 1 is replaced, or, when the
    converter dropped the batch axis (a rank-1 RESHAPE output) or moved it (TRANSPOSE, PACK), one is put in
    front. Either way the array holds `batch_size` model tensors one after the other."""
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
    values = arithmetic.multiply_by_quantized_multiplier(accumulator, multipliers, shifts)
    if isinstance(values, np.ndarray) and values.ndim and values.flags.writeable:
        values += output_zero_point
        np.clip(values, activation_min, activation_max, out=values)
        return values.astype(np.int8)
    return to_int8(np.clip(values + output_zero_point, activation_min, activation_max))


def requantize_accumulator(
    accumulator, accumulator_bound, bias, multipliers, shifts, output_zero_point, low, high
):
    """int8 clamp(MBQM(accumulator + bias) + zero point) for a (..., channels) integer-valued accumulator."""
    requantizer = Requantizer(
        accumulator.shape[-1], accumulator_bound, bias, multipliers, shifts, output_zero_point, low, high
    )
    return requantizer(accumulator)


class Requantizer:
    """requantize_to_int8(accumulator + bias, ...) for (..., channels) integer-valued accumulators (float or
    int) bounded by `accumulator_bound`, in fewer int64 passes where the per-channel constants allow (see
    _requantize_plan). Build it once per kernel call and apply it to every chunk."""

    def __init__(self, channels, accumulator_bound, bias, multipliers, shifts, output_zero_point, low, high):
        self.channels = channels
        self.arguments = (bias, multipliers, shifts, output_zero_point, low, high)
        self.low, self.high = low, high
        self.plan = _requantize_plan(
            accumulator_bound, bias, multipliers, shifts, output_zero_point, channels
        )
        self._tiled = {}

    def _constants(self, repeat):
        if repeat not in self._tiled:
            multiplier, negative_below, offset, total_shift = (np.tile(row, repeat) for row in self.plan)
            if np.all(total_shift == total_shift[0]):
                total_shift = total_shift[0]  # a scalar shift is twice as fast as a per-element one
            self._tiled[repeat] = multiplier, negative_below, offset, total_shift
        return self._tiled[repeat]

    def __call__(self, accumulator):
        if self.plan is None:
            bias, multipliers, shifts, output_zero_point, low, high = self.arguments
            total = accumulator.astype(np.int64)
            total += bias
            return requantize_to_int8(total, multipliers, shifts, output_zero_point, low, high)
        rows = accumulator.reshape(-1, self.channels)
        # Short per-channel broadcasts are slow in NumPy: fold rows into longer ones where they divide.
        repeat = max(1, 512 // self.channels)
        while rows.shape[0] % repeat:
            repeat -= 1
        multiplier, negative_below, offset, total_shift = self._constants(repeat)
        rows = rows.reshape(-1, self.channels * repeat)
        product = np.multiply(rows, multiplier, dtype=np.int64, casting="unsafe")
        negative = product < negative_below
        product += offset
        product -= negative.astype(np.int64) << 31
        product >>= total_shift
        np.clip(product, self.low, self.high, out=product)
        return product.astype(np.int8).reshape(accumulator.shape)


def _requantize_plan(accumulator_bound, bias, multipliers, shifts, output_zero_point, channels):
    """Per-channel int64 constants (M, U, C, S): MBQM(acc + bias) + zp = floor((acc*M + C - 2^31*n) / 2^S),
    n = [acc*M < U].

    With a = acc + bias, e = -shift >= 0 and h = 2^(e-1) (0 when e = 0), MBQM is
    high = floor((a*M + 2^30) / 2^31), then floor((high + h - [high < 0]) / 2^e). Nested floors merge,
    floor((floor(z / 2^31) + c) / 2^e) = floor((z + c * 2^31) / 2^(31+e)) for integer c, and high < 0
    exactly when a*M < -2^30. So U = -2^30 - bias*M, C = bias*M + 2^30 + h*2^31 + zp*2^(31+e), S = 31 + e.
    None where that is not exact in int64 (a left shift, a negative multiplier, or values too large): the
    caller then falls back to the step-by-step arithmetic.
    """
    multipliers = np.broadcast_to(np.asarray(multipliers, dtype=np.int64), (channels,))
    shifts = np.broadcast_to(np.asarray(shifts, dtype=np.int64), (channels,))
    bias = np.broadcast_to(np.asarray(bias, dtype=np.int64), (channels,))
    bound, zero_point = int(accumulator_bound), int(output_zero_point)
    plan = np.empty((4, channels), dtype=np.int64)
    for channel in range(channels):
        multiplier, shift, offset = int(multipliers[channel]), int(shifts[channel]), int(bias[channel])
        if shift > 0 or not 0 <= multiplier < 2**31 or (bound + abs(offset)) * multiplier >= 2**62:
            return None
        exponent = -shift
        half = (1 << exponent) >> 1
        constant = offset * multiplier + (1 << 30) + half * 2**31 + zero_point * 2 ** (31 + exponent)
        if bound * multiplier + abs(constant) + 2**31 >= 2**63:
            return None
        # With no rounding shift there is no [high < 0] correction: no product is below INT64_MIN.
        negative_below = -(1 << 30) - offset * multiplier if exponent else -(2**63)
        plan[:, channel] = multiplier, negative_below, constant, 31 + exponent
    return plan


def accumulator_bound(input_bound, weight_columns):
    """max over outputs j of input_bound * sum_k |w_kj|: bounds every partial sum of every output.

    `weight_columns` is (K, outputs) or (K,) integer weights; `input_bound` bounds |x_k|.
    """
    weight_columns = np.asarray(weight_columns)
    if weight_columns.size == 0:
        return 0
    return int(input_bound) * int(np.abs(weight_columns.astype(np.int64)).sum(axis=0).max())


def accumulation_dtype(input_bound, weight_columns):
    """The cheapest dtype in which the integer products x_k * w_kj accumulate exactly, summed in any order.

    Every partial sum is bounded by accumulator_bound; float32 holds every integer up to 2^24 exactly, float64
    up to 2^53, and a sum of such integers that stays in that range is never rounded (with or without FMA).
    """
    bound = accumulator_bound(input_bound, weight_columns)
    if bound <= 2**24:
        return np.float32
    if bound <= 2**53:
        return np.float64
    return np.int64


def exact_matmul(left, right):
    """Integer matrix product through float32 or float64 BLAS, exact by accumulation_dtype's bound."""
    left_bound = int(np.abs(np.asarray(left, dtype=np.int64)).max(initial=0))
    dtype = accumulation_dtype(left_bound, right)
    product = np.matmul(np.asarray(left).astype(dtype), np.asarray(right).astype(dtype))
    return product.astype(np.int64)
