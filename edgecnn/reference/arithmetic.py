"""Integer requantization primitives of TFLite's reference kernels and TFLite Micro.

Everything works on int64 NumPy arrays (or Python ints) and reproduces the C integer arithmetic exactly:
C's `/` truncates and gemmlowp rounds half up or half away from zero, so NumPy's float rounding is never used.
Both the pip TFLite build and TFLite Micro use double rounding (TFLITE_SINGLE_ROUNDING undefined), so
`multiply_by_quantized_multiplier` is the one the kernels use; the single-rounding variant is here to explain
1-LSB differences against builds that define it.
"""

import math

import numpy as np

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
INT16_MIN = -(2**15)
INT16_MAX = 2**15 - 1
INT8_MIN = -128
INT8_MAX = 127

ACTIVATION_NAMES = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def _as_int64(values):
    return np.asarray(values, dtype=np.int64)


def round_half_away_from_zero(value):
    """C's std::round / roundf on one Python float (exact: adding 0.5 to |value| < 2^52 is exact)."""
    magnitude = math.floor(abs(value) + 0.5) if abs(value) < 2**52 else abs(value)
    return int(math.copysign(magnitude, value)) if magnitude else 0


def quantize_float(values, scale, zero_point, dtype=np.int8):
    """TFLite's QUANTIZE of float values: zero_point + round half away from zero of float32(x) / float32(scale).

    The division is in float32 as in TFLite; rounding is done in float64, where adding 0.5 is exact (in float32,
    0.49999997 + 0.5 rounds up to 1). The one implementation used by the runtime, the interpreter and exports.
    """
    limits = np.iinfo(dtype)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ratio = (np.asarray(values, np.float32) / np.float32(scale)).astype(np.float64)
        rounded = np.copysign(np.floor(np.abs(ratio) + 0.5), ratio)
        clipped = np.clip(rounded, limits.min - int(zero_point), limits.max - int(zero_point))
        result = np.nan_to_num(clipped, nan=limits.min - int(zero_point)).astype(np.int64) + int(zero_point)
    return np.clip(result, limits.min, limits.max).astype(dtype)


def quantize_multiplier(real_multiplier):
    """TFLite QuantizeMultiplier: a real multiplier as (Q0.31 int32 multiplier, shift); shift > 0 is left."""
    real_multiplier = float(real_multiplier)
    if real_multiplier == 0.0:
        return 0, 0
    fraction, exponent = math.frexp(real_multiplier)
    multiplier = round_half_away_from_zero(fraction * 2**31)
    if multiplier == 2**31:
        multiplier //= 2
        exponent += 1
    if exponent < -31:
        multiplier, exponent = 0, 0
    return multiplier, exponent


def quantize_multipliers(real_multipliers):
    """quantize_multiplier over an array (per-channel scales): two int64 arrays of the same shape."""
    real_multipliers = np.asarray(real_multipliers, dtype=np.float64)
    pairs = [quantize_multiplier(value) for value in real_multipliers.ravel()]
    multipliers = np.array([pair[0] for pair in pairs], dtype=np.int64).reshape(real_multipliers.shape)
    shifts = np.array([pair[1] for pair in pairs], dtype=np.int64).reshape(real_multipliers.shape)
    return multipliers, shifts


def saturating_rounding_doubling_high_mul(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul on int32 values: round(a*b / 2^31), ties upward.

    gemmlowp adds a sign-dependent nudge and truncates; that equals floor((a*b + 2^30) / 2^31).
    The only saturating case is a = b = INT32_MIN.
    """
    a = _as_int64(a)
    b = _as_int64(b)
    result = (a * b + (1 << 30)) >> 31
    return np.where((a == INT32_MIN) & (b == INT32_MIN), np.int64(INT32_MAX), result)


def saturating_rounding_doubling_high_mul_int16(a, b):
    """The int16 version (used by HARD_SWISH): round(a*b / 2^15), ties upward, saturating for -32768^2."""
    a = _as_int64(a)
    b = _as_int64(b)
    result = (a * b + (1 << 14)) >> 15
    return np.where((a == INT16_MIN) & (b == INT16_MIN), np.int64(INT16_MAX), result)


def rounding_divide_by_power_of_two(x, exponent):
    """gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero (exponent >= 0)."""
    x = _as_int64(x)
    exponent = _as_int64(exponent)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(x, multiplier, shift):
    """TFLite MultiplyByQuantizedMultiplier with double rounding (the default build and TFLite Micro).

    `multiplier` and `shift` may be scalars or per-channel arrays broadcast along the last axis of `x`.
    `x * 2^max(shift, 0)` must fit in int32, as in the C code.
    """
    x = _as_int64(x)
    multiplier = _as_int64(multiplier)
    shift = _as_int64(shift)
    if np.any(multiplier == INT32_MIN):
        # The one input where the high multiply saturates; QuantizeMultiplier never produces it.
        left_shift = np.maximum(shift, 0)
        high = saturating_rounding_doubling_high_mul(x * (np.int64(1) << left_shift), multiplier)
        return rounding_divide_by_power_of_two(high, np.maximum(-shift, 0))
    return _multiply_without_saturation(x, multiplier, shift)


def _multiply_without_saturation(x, multiplier, shift):
    """multiply_by_quantized_multiplier for multipliers other than INT32_MIN, in few int64 passes.

    The high multiply is floor((a*M + 2^30) / 2^31). Dividing by 2^e rounding half away from zero is
    floor((high + 2^(e-1) - [high < 0]) / 2^e) for e > 0 (a negative exact half then rounds down).
    """
    if np.any(shift > 0):
        x = x << np.maximum(shift, 0)
    high = x * multiplier
    if np.shape(shift) != () and np.broadcast_shapes(high.shape, shift.shape) != high.shape:
        high = np.broadcast_to(high, np.broadcast_shapes(high.shape, shift.shape)).copy()
    high += np.int64(1 << 30)
    high >>= 31
    right_shift = np.maximum(-shift, 0)
    if not np.any(right_shift):
        return high
    negative = high < 0
    if not np.all(right_shift):
        negative &= right_shift > 0
    high += (np.int64(1) << right_shift) >> 1
    high -= negative
    high >>= right_shift
    return high


def multiply_by_quantized_multiplier_single_rounding(x, multiplier, shift):
    """The TFLITE_SINGLE_ROUNDING variant: (x*M + 2^(30-shift)) >> (31-shift), one rounding half up."""
    x = _as_int64(x)
    multiplier = _as_int64(multiplier)
    total_shift = 31 - _as_int64(shift)
    return (x * multiplier + (np.int64(1) << (total_shift - 1))) >> total_shift


def requantize(
    accumulator, multiplier, shift, output_zero_point, activation_min=INT8_MIN, activation_max=INT8_MAX
):
    """The common kernel epilogue: clamp(MBQM(acc) + zp_out) to the activation range, as int64."""
    scaled = multiply_by_quantized_multiplier(accumulator, multiplier, shift) + output_zero_point
    return np.clip(scaled, activation_min, activation_max)


def activation_range(activation_name, scale, zero_point, quantized_min=INT8_MIN, quantized_max=INT8_MAX):
    """Clamp range of a fused activation, computed like TFLite: zp + roundf(float32(f) / float32(scale))."""
    name = str(activation_name).upper()
    if name not in ACTIVATION_NAMES:
        raise ValueError(f"unknown fused activation {activation_name!r}; expected one of {ACTIVATION_NAMES}")
    scale32 = np.float32(scale)

    def quantize(value):
        with np.errstate(over="ignore", divide="ignore"):
            ratio = float(np.float32(value) / scale32)
        return int(zero_point) + round_half_away_from_zero(ratio)

    if name == "RELU":
        return max(quantized_min, quantize(0.0)), quantized_max
    if name == "RELU6":
        return max(quantized_min, quantize(0.0)), min(quantized_max, quantize(6.0))
    if name == "RELU_N1_TO_1":
        return max(quantized_min, quantize(-1.0)), min(quantized_max, quantize(1.0))
    return quantized_min, quantized_max


# gemmlowp fixed point (fixedpoint/fixedpoint.h). A raw int32 value with `integer_bits` integer bits
# stands for raw / 2^(31 - integer_bits). The helpers below take and return raw values held in int64 arrays.

_EXP_BARREL_SHIFTER = (  # (power of two p, raw Q0.31 of exp(-2^p))
    (-2, 1672461947),
    (-1, 1302514674),
    (0, 790015084),
    (1, 290630308),
    (2, 39332535),
    (3, 720401),
    (4, 242),
)


def truncating_divide_by_power_of_two(x, exponent):
    """C's `x / 2^exponent` on signed integers: rounds toward zero."""
    x = _as_int64(x)
    return np.where(x >= 0, x >> exponent, -((-x) >> exponent))


def saturating_rounding_multiply_by_power_of_two(x, exponent):
    """gemmlowp SaturatingRoundingMultiplyByPOT on int32: saturating left shift or rounding right shift."""
    x = _as_int64(x)
    if exponent < 0:
        return rounding_divide_by_power_of_two(x, -exponent)
    if exponent == 0:
        return x
    threshold = (1 << (31 - exponent)) - 1
    return np.where(x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN, x << exponent))


def rounding_half_sum(a, b):
    """gemmlowp RoundingHalfSum on int32: (a + b) / 2 rounded half away from zero."""
    total = _as_int64(a) + _as_int64(b)
    return truncating_divide_by_power_of_two(total + np.where(total >= 0, 1, -1), 1)


def count_leading_zeros_32(x):
    """Leading zero bits of non-negative values as uint32 (32 for zero); float64 frexp is exact below 2^53."""
    x = _as_int64(x)
    return 32 - np.frexp(x.astype(np.float64))[1].astype(np.int64)


def _exp_on_interval_between_negative_one_quarter_and_0_excl(a):
    # Taylor expansion of exp around -1/8 in Q0.31.
    constant_term = 1895147668  # exp(-1/8)
    constant_1_over_3 = 715827883
    x = a + (1 << 28)
    x2 = saturating_rounding_doubling_high_mul(x, x)
    x3 = saturating_rounding_doubling_high_mul(x2, x)
    x4 = saturating_rounding_doubling_high_mul(x2, x2)
    x4_over_4 = rounding_divide_by_power_of_two(x4, 2)
    polynomial = rounding_divide_by_power_of_two(
        saturating_rounding_doubling_high_mul(x4_over_4 + x3, constant_1_over_3) + x2, 1
    )
    return constant_term + saturating_rounding_doubling_high_mul(constant_term, x + polynomial)


def exp_on_negative_values(a, integer_bits):
    """gemmlowp exp_on_negative_values: raw Q(integer_bits) input <= 0 -> raw Q0.31 exp(a)."""
    a = _as_int64(a)
    fractional_bits = 31 - integer_bits
    one_quarter = 1 << (fractional_bits - 2)
    a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter
    result = _exp_on_interval_between_negative_one_quarter_and_0_excl(
        saturating_rounding_multiply_by_power_of_two(a_mod_quarter_minus_one_quarter, integer_bits)
    )
    remainder = a_mod_quarter_minus_one_quarter - a
    for power, multiplier in _EXP_BARREL_SHIFTER:
        if integer_bits > power:
            bit_is_set = (remainder & (1 << (fractional_bits + power))) != 0
            result = np.where(bit_is_set, saturating_rounding_doubling_high_mul(result, multiplier), result)
    if integer_bits > 5:
        result = np.where(a < -(1 << (36 - integer_bits)), 0, result)
    return np.where(a == 0, INT32_MAX, result)


def _newton_raphson_reciprocal_of_half_denominator(a):
    # Returns raw Q2.29 of 1 / ((1 + a) / 2) for raw Q0.31 a in (0, 1).
    half_denominator = rounding_half_sum(a, INT32_MAX)
    x = 1515870810 + saturating_rounding_doubling_high_mul(half_denominator, -1010580540)  # 48/17 - 32/17 d
    for _ in range(3):
        half_denominator_times_x = saturating_rounding_doubling_high_mul(half_denominator, x)
        one_minus_half_denominator_times_x = (1 << 29) - half_denominator_times_x
        x = x + saturating_rounding_multiply_by_power_of_two(
            saturating_rounding_doubling_high_mul(x, one_minus_half_denominator_times_x), 2
        )
    return x


def one_over_one_plus_x_for_x_in_0_1(a):
    """gemmlowp one_over_one_plus_x_for_x_in_0_1 on raw Q0.31 values."""
    return saturating_rounding_multiply_by_power_of_two(_newton_raphson_reciprocal_of_half_denominator(a), 1)


def one_minus_x_over_one_plus_x_for_x_in_0_1(a):
    """gemmlowp one_minus_x_over_one_plus_x_for_x_in_0_1 on raw Q0.31 values."""
    x = _newton_raphson_reciprocal_of_half_denominator(a)
    return saturating_rounding_multiply_by_power_of_two(x - (1 << 29), 2)


def fixed_point_logistic(a, integer_bits):
    """gemmlowp logistic: raw Q(integer_bits) input -> raw Q0.31 output."""
    a = _as_int64(a)
    absolute = np.where(a > 0, a, -a)
    if_positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(-absolute, integer_bits))
    if_negative = INT32_MAX - if_positive
    return np.where(a == 0, 1 << 30, np.where(a > 0, if_positive, if_negative))


def fixed_point_tanh(a, integer_bits):
    """gemmlowp tanh: raw Q(integer_bits) input -> raw Q0.31 output."""
    a = _as_int64(a)
    negative_absolute = np.where(a < 0, a, -a)
    # exp(-2|a|): doubling a is free in fixed point, it only adds one integer bit.
    exp_of_minus_twice_absolute = exp_on_negative_values(negative_absolute, integer_bits + 1)
    magnitude = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_of_minus_twice_absolute)
    return np.where(a == 0, 0, np.where(a < 0, -magnitude, magnitude))
