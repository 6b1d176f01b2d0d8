"""Int8 activation kernels, bit-exact with TFLite's reference kernels ("tflite") and TFLite Micro ("micro").

Every kernel takes raw int8 values (any integer array, any shape) plus the tensors' float32 scales and zero
points as stored in the model, and returns an int8 array of the same shape. Where the two runtimes differ the
`flavor` argument picks one:

- LOGISTIC and TANH: TFLite fills a 256-entry float32 table with libm's expf / tanhf; TFLite Micro evaluates
  gemmlowp's fixed-point logistic / tanh and ignores the output quantization (it assumes 1/256, -128 and
  1/128, 0).
- RELU6: TFLite requantizes to the output scale; TFLite Micro clamps raw values to [Q(0), Q(6)] on the input
  scale without requantizing.
- HARD_SWISH, LEAKY_RELU and RELU: same integer arithmetic, but TFLite combines the float32 scales into
  multipliers in float32 and the installed TFLite Micro build in double, which moves some outputs by one.
- PRELU: same integer arithmetic; TFLite computes the alpha multiplier s_in * s_alpha / s_out in float32,
  TFLite Micro in double.
- SOFTMAX is the same in both.
"""

import functools
import math

import numpy as np

from edgecnn.reference import arithmetic

FLAVORS = ("tflite", "micro")

# Integer bits of the fixed-point formats the kernels use.
_SOFTMAX_SCALED_DIFF_INTEGER_BITS = 5
_SOFTMAX_ACCUMULATION_INTEGER_BITS = 12
_MICRO_SIGMOID_INPUT_INTEGER_BITS = 4


def _check_flavor(flavor):
    if flavor not in FLAVORS:
        raise ValueError(f"unknown flavor {flavor!r}; expected one of {FLAVORS}")


def _int8(values):
    return np.clip(values, arithmetic.INT8_MIN, arithmetic.INT8_MAX).astype(np.int8)


def _float32_division(numerator, denominator):
    """A float32 quotient widened to double, as `double(a / b)` on two floats in C."""
    return float(np.float32(numerator) / np.float32(denominator))


def _real_multiplier(flavor, numerators, denominator):
    """prod(numerators) / denominator from float32 tensor parameters, as each runtime's Prepare computes it.

    TFLite multiplies and divides the float32 values in float32; the installed TFLite Micro build does it in
    double (measured: the two give different multipliers, and outputs, for some scales).
    """
    if flavor == "micro":
        result = 1.0
        for value in numerators:
            result *= float(np.float32(value))
        return result / float(np.float32(denominator))
    result = np.float32(1.0)
    for value in numerators:
        result = np.float32(result * np.float32(value))
    return float(np.float32(result / np.float32(denominator)))


def _float32_round(values):
    """roundf on float32 values: half away from zero (NumPy's round is half to even).

    Adding 0.5 is done in double, where it is exact; in float32 0.49999997 + 0.5 would round up to 1.
    """
    values = np.asarray(values, dtype=np.float32).astype(np.float64)
    return np.copysign(np.floor(np.abs(values) + 0.5), values).astype(np.float32)


@functools.cache
def c_math_function(name):
    """The C library's float function `name` (expf, tanhf) through ctypes, or None where it cannot be loaded.

    TFLite fills its LOGISTIC/TANH tables with the host C library's expf/tanhf, which are not correctly
    rounded (glibc 2.36's tanhf is one ulp off on a fifth of inputs), so calling the same library is the only
    way to reproduce every table entry. Without it, double-precision math rounded to float32 is used.
    """
    import ctypes
    import ctypes.util

    for library_name in ("libm.so.6", ctypes.util.find_library("m")):
        if not library_name:
            continue
        try:
            function = getattr(ctypes.CDLL(library_name), name)
        except (OSError, AttributeError):
            continue
        function.restype = ctypes.c_float
        function.argtypes = [ctypes.c_float]
        return function
    return None


def _apply_c_math(name, double_function, values):
    values = np.asarray(values, dtype=np.float32)
    function = c_math_function(name)
    if function is None:
        return double_function(values.astype(np.float64)).astype(np.float32)
    results = [function(float(value)) for value in values.ravel()]
    return np.array(results, dtype=np.float32).reshape(values.shape)


def float32_exp(values):
    """expf on float32 values, as TFLite's table computes it."""
    return _apply_c_math("expf", np.exp, values)


def float32_tanh(values):
    """tanhf on float32 values, as TFLite's table computes it."""
    return _apply_c_math("tanhf", np.tanh, values)


def _float_lookup_table(function, input_scale, input_zero_point, output_scale, output_zero_point):
    """TFLite's LUTPopulate for int8: entry i holds the output for input value i - 128, all in float32."""
    raw_inputs = np.arange(arithmetic.INT8_MIN, arithmetic.INT8_MAX + 1, dtype=np.int64)
    dequantized = np.float32(input_scale) * (raw_inputs - int(input_zero_point)).astype(np.float32)
    transformed = function(dequantized)
    inverse_output_scale = np.float32(1.0) / np.float32(output_scale)
    rescaled = _float32_round(transformed * inverse_output_scale)
    # C converts `rescaled + zero_point` (a float) to int32 by truncation.
    quantized = np.trunc(rescaled + np.float32(output_zero_point)).astype(np.int64)
    return _int8(quantized)


def _look_up(table, x):
    return table[np.asarray(x, dtype=np.int64) - arithmetic.INT8_MIN]


def _float32_sigmoid(values):
    one = np.float32(1.0)
    return one / (one + float32_exp(-values))


def _micro_sigmoid_input_scaling(input_scale):
    """TFLite Micro's LOGISTIC/TANH Prepare: input rescaled to Q4.27 with frexp, and the saturation radius."""
    fractional_bits = 31 - _MICRO_SIGMOID_INPUT_INTEGER_BITS
    fraction, left_shift = math.frexp(float(np.float32(input_scale)) * 2.0**fractional_bits)
    multiplier = arithmetic.round_half_away_from_zero(fraction * 2**31)
    if multiplier == 2**31:
        # Micro does not renormalize; C's out-of-range double -> int32 cast gives INT32_MIN on x86.
        multiplier = arithmetic.INT32_MIN
    integer_range = (1 << _MICRO_SIGMOID_INPUT_INTEGER_BITS) - 1
    radius = math.floor(integer_range * 2.0**fractional_bits / 2.0**left_shift)
    return multiplier, left_shift, radius


def _micro_sigmoid_like(x, input_scale, input_zero_point, fixed_point_function, output_shift, output_offset):
    multiplier, left_shift, radius = _micro_sigmoid_input_scaling(input_scale)
    centered = np.asarray(x, dtype=np.int64) - int(input_zero_point)
    inside = np.where(np.abs(centered) < radius, centered, 0)
    input_in_q4 = arithmetic.multiply_by_quantized_multiplier(inside, multiplier, left_shift)
    output_in_q0 = fixed_point_function(input_in_q4, _MICRO_SIGMOID_INPUT_INTEGER_BITS)
    value = arithmetic.rounding_divide_by_power_of_two(output_in_q0, output_shift) + output_offset
    value = np.where(centered <= -radius, arithmetic.INT8_MIN, value)
    value = np.where(centered >= radius, arithmetic.INT8_MAX, value)
    return _int8(value)


def logistic(
    x, input_scale, input_zero_point, output_scale=1.0 / 256, output_zero_point=-128, flavor="tflite"
):
    """Int8 LOGISTIC (sigmoid). TFLite requires output scale 1/256 and zero point -128."""
    _check_flavor(flavor)
    if flavor == "micro":
        return _micro_sigmoid_like(
            x, input_scale, input_zero_point, arithmetic.fixed_point_logistic, 31 - 8, arithmetic.INT8_MIN
        )
    table = _float_lookup_table(
        _float32_sigmoid, input_scale, input_zero_point, output_scale, output_zero_point
    )
    return _look_up(table, x)


def tanh(x, input_scale, input_zero_point, output_scale=1.0 / 128, output_zero_point=0, flavor="tflite"):
    """Int8 TANH. The converter gives it output scale 1/128 and zero point 0."""
    _check_flavor(flavor)
    if flavor == "micro":
        return _micro_sigmoid_like(x, input_scale, input_zero_point, arithmetic.fixed_point_tanh, 31 - 7, 0)
    table = _float_lookup_table(float32_tanh, input_scale, input_zero_point, output_scale, output_zero_point)
    return _look_up(table, x)


def softmax_parameters(input_scale, beta=1.0):
    """(input multiplier, left shift, diff_min) of the int8 SOFTMAX Prepare (PreprocessSoftmaxScaling)."""
    scaled_diff_fractional_bits = 31 - _SOFTMAX_SCALED_DIFF_INTEGER_BITS
    real_multiplier = min(
        float(np.float32(beta)) * float(np.float32(input_scale)) * float(1 << scaled_diff_fractional_bits),
        float(2**31 - 1),
    )
    multiplier, left_shift = arithmetic.quantize_multiplier(real_multiplier)
    if left_shift < 0:
        raise ValueError(f"softmax input scale {input_scale} * beta {beta} is too small for the int8 kernel")
    integer_range = (1 << _SOFTMAX_SCALED_DIFF_INTEGER_BITS) - 1
    radius = math.floor(integer_range * float(1 << scaled_diff_fractional_bits) / 2.0**left_shift)
    return multiplier, left_shift, -radius


def softmax(x, input_scale, input_zero_point=0, beta=1.0, flavor="tflite"):
    """Int8 SOFTMAX along the last axis, output scale 1/256 and zero point -128 (gemmlowp fixed point).

    The input zero point cancels out (only differences to the row maximum matter); it is accepted so all
    kernels share one calling convention.
    """
    _check_flavor(flavor)
    del input_zero_point
    multiplier, left_shift, diff_min = softmax_parameters(input_scale, beta)
    x = np.asarray(x, dtype=np.int64)
    difference = x - x.max(axis=-1, keepdims=True)
    counted = difference >= diff_min
    scaled_difference = arithmetic.multiply_by_quantized_multiplier(
        np.where(counted, difference, 0), multiplier, left_shift
    )
    exps = arithmetic.exp_on_negative_values(scaled_difference, _SOFTMAX_SCALED_DIFF_INTEGER_BITS)
    accumulated = arithmetic.rounding_divide_by_power_of_two(exps, _SOFTMAX_ACCUMULATION_INTEGER_BITS)
    sum_of_exps = np.where(counted, accumulated, 0).sum(axis=-1, keepdims=True)

    # GetReciprocal: normalise the sum to [1, 2) and take 1 / (1 + fraction) in Q0.31.
    headroom_plus_one = arithmetic.count_leading_zeros_32(sum_of_exps)
    bits_over_unit = _SOFTMAX_ACCUMULATION_INTEGER_BITS - headroom_plus_one
    shifted_sum_minus_one = (sum_of_exps << headroom_plus_one) - (1 << 31)
    shifted_scale = arithmetic.one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one)

    exponent = bits_over_unit + 31 - 8
    unsaturated = arithmetic.rounding_divide_by_power_of_two(
        arithmetic.saturating_rounding_doubling_high_mul(shifted_scale, exps), exponent
    )
    return _int8(np.where(counted, unsaturated + arithmetic.INT8_MIN, arithmetic.INT8_MIN))


def _int16_multiplier(multiplier):
    """DownScaleInt32ToInt16Multiplier: a Q0.31 multiplier rounded to Q0.15, saturating."""
    if multiplier >= arithmetic.INT32_MAX - (1 << 15):
        return arithmetic.INT16_MAX
    return (multiplier + (1 << 15)) >> 16


def _saturating_left_shift_int16(values, amount):
    return np.clip(values * (1 << amount), arithmetic.INT16_MIN, arithmetic.INT16_MAX)


def hard_swish(x, input_scale, input_zero_point, output_scale, output_zero_point, flavor="tflite"):
    """Int8 HARD_SWISH, x * relu6(x + 3) / 6, in TFLite's 16-bit fixed point (identical in Micro)."""
    _check_flavor(flavor)
    # The input moves to a 128x finer scale; 1/128 times a float32 is exact in float32 and double alike.
    hires_input_scale = np.float32(1.0 / 128.0) * np.float32(input_scale)
    output_multiplier, output_exponent = arithmetic.quantize_multiplier(
        _real_multiplier(flavor, [hires_input_scale], output_scale)
    )
    if output_exponent > 0:
        raise ValueError(f"hard_swish output scale {output_scale} is too small for input scale {input_scale}")
    reluish_multiplier, reluish_exponent = arithmetic.quantize_multiplier(
        _real_multiplier(flavor, [hires_input_scale], 3.0 / 32768.0)
    )
    output_multiplier = _int16_multiplier(output_multiplier)
    reluish_multiplier = _int16_multiplier(reluish_multiplier)

    on_hires_input_scale = (np.asarray(x, dtype=np.int64) - int(input_zero_point)) * (1 << 7)
    on_preshift_output_scale = arithmetic.saturating_rounding_doubling_high_mul_int16(
        on_hires_input_scale, output_multiplier
    )
    reluish = on_hires_input_scale
    if reluish_exponent > 0:
        reluish = _saturating_left_shift_int16(reluish, reluish_exponent - 1)
    reluish = arithmetic.saturating_rounding_doubling_high_mul_int16(reluish, reluish_multiplier)
    if reluish_exponent > 0:
        reluish = _saturating_left_shift_int16(reluish, 1)
    if reluish_exponent < 0:
        reluish = arithmetic.rounding_divide_by_power_of_two(reluish, -reluish_exponent)
    reluish = (reluish + (1 << 15)) >> 1  # from [-1, 1] to [0, 1] on the int16 range
    # SaturatingDoublingHighMul: the product is truncated toward zero, not rounded.
    preshift_output = arithmetic.truncating_divide_by_power_of_two(reluish * on_preshift_output_scale, 15)
    preshift_output = np.where(
        (reluish == arithmetic.INT16_MIN) & (on_preshift_output_scale == arithmetic.INT16_MIN),
        arithmetic.INT16_MAX,
        preshift_output,
    )
    output = arithmetic.rounding_divide_by_power_of_two(preshift_output, -output_exponent)
    return _int8(output + int(output_zero_point))


def leaky_relu(x, input_scale, input_zero_point, output_scale, output_zero_point, alpha, flavor="tflite"):
    """Int8 LEAKY_RELU: an identity multiplier for x >= zero point and an alpha multiplier below it."""
    _check_flavor(flavor)
    alpha_multiplier, alpha_shift = arithmetic.quantize_multiplier(
        _real_multiplier(flavor, [input_scale, alpha], output_scale)
    )
    identity_multiplier, identity_shift = arithmetic.quantize_multiplier(
        _real_multiplier(flavor, [input_scale], output_scale)
    )
    centered = np.asarray(x, dtype=np.int64) - int(input_zero_point)
    identity = arithmetic.multiply_by_quantized_multiplier(centered, identity_multiplier, identity_shift)
    # A negative alpha is applied as the negated product of |multiplier|, as the current kernels do.
    scaled_alpha = arithmetic.multiply_by_quantized_multiplier(centered, abs(alpha_multiplier), alpha_shift)
    if alpha_multiplier < 0:
        scaled_alpha = -scaled_alpha
    return _int8(np.where(centered >= 0, identity, scaled_alpha) + int(output_zero_point))


def _requantized_relu(x, input_scale, input_zero_point, output_scale, output_zero_point, upper_bound, flavor):
    """QuantizedReluX: requantize with s_in / s_out, clamp to [Q(0), Q(upper_bound)] on the output scale."""
    multiplier, shift = arithmetic.quantize_multiplier(_real_multiplier(flavor, [input_scale], output_scale))
    activation_min = max(arithmetic.INT8_MIN, int(output_zero_point))
    activation_max = arithmetic.INT8_MAX
    if upper_bound is not None:
        quantized_upper = arithmetic.round_half_away_from_zero(_float32_division(upper_bound, output_scale))
        activation_max = min(activation_max, int(output_zero_point) + quantized_upper)
    centered = np.asarray(x, dtype=np.int64) - int(input_zero_point)
    value = arithmetic.multiply_by_quantized_multiplier(centered, multiplier, shift) + int(output_zero_point)
    return _int8(np.clip(value, activation_min, activation_max))


def relu(x, input_scale, input_zero_point, output_scale, output_zero_point, flavor="tflite"):
    """Int8 standalone RELU: requantizes when the input and output quantization differ (same in Micro)."""
    _check_flavor(flavor)
    return _requantized_relu(x, input_scale, input_zero_point, output_scale, output_zero_point, None, flavor)


def relu6(x, input_scale, input_zero_point, output_scale, output_zero_point, flavor="tflite"):
    """Int8 standalone RELU6. TFLite requantizes; Micro clamps raw values on the input scale only."""
    _check_flavor(flavor)
    if flavor == "tflite":
        return _requantized_relu(
            x, input_scale, input_zero_point, output_scale, output_zero_point, 6.0, flavor
        )
    six = int(input_zero_point) + arithmetic.round_half_away_from_zero(_float32_division(6.0, input_scale))
    six = min(max(six, arithmetic.INT8_MIN), arithmetic.INT8_MAX)
    return _int8(np.clip(np.asarray(x, dtype=np.int64), int(input_zero_point), six))


def prelu_multipliers(input_scale, alpha_scale, output_scale, flavor="tflite"):
    """PRELU's two (multiplier, shift) pairs: s_in / s_out for x >= zero point, s_in * s_alpha / s_out below.

    TFLite's PreluPrepare computes both in float32 (`input->params.scale * alpha->params.scale / ...` on
    floats), TFLite Micro's CalculatePreluParams in double: the second multiplier, and outputs, can differ.
    """
    _check_flavor(flavor)
    identity = arithmetic.quantize_multiplier(_real_multiplier(flavor, [input_scale], output_scale))
    alpha = arithmetic.quantize_multiplier(_real_multiplier(flavor, [input_scale, alpha_scale], output_scale))
    return (*identity, *alpha)


def prelu(x, alpha, zero_points, multipliers):
    """Int8 PRELU (reference_ops::BroadcastPrelu4DSlow): x and alpha raw int8 values that broadcast,
    zero_points (input, alpha, output), multipliers from prelu_multipliers."""
    input_zero_point, alpha_zero_point, output_zero_point = zero_points
    identity_multiplier, identity_shift, alpha_multiplier, alpha_shift = multipliers
    centered = np.asarray(x, dtype=np.int64) - int(input_zero_point)
    scaled_alpha = np.asarray(alpha, dtype=np.int64) - int(alpha_zero_point)
    identity = arithmetic.multiply_by_quantized_multiplier(centered, identity_multiplier, identity_shift)
    negative = arithmetic.multiply_by_quantized_multiplier(centered * scaled_alpha, alpha_multiplier, alpha_shift)
    return _int8(np.where(centered >= 0, identity, negative) + int(output_zero_point))
