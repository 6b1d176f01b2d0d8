"""The requantization primitives against hand-worked values and a slow transcription of the C code."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgecnn.reference import arithmetic

INT32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)


# Slow transcriptions of the C code with Python ints, written the way the C reads (nudge, truncation).
def c_divide(numerator, denominator):
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator >= 0) else -quotient


def slow_srdhm(a, b):
    if a == b == -(2**31):
        return 2**31 - 1
    product = a * b
    nudge = (1 << 30) if product >= 0 else 1 - (1 << 30)
    return c_divide(product + nudge, 1 << 31)


def slow_rdbpot(x, exponent):
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def slow_mbqm(x, multiplier, shift):
    left_shift = shift if shift > 0 else 0
    right_shift = 0 if shift > 0 else -shift
    return slow_rdbpot(slow_srdhm(x * (1 << left_shift), multiplier), right_shift)


def slow_quantize_multiplier(real):
    if real == 0:
        return 0, 0
    fraction, exponent = math.frexp(real)
    scaled = fraction * (1 << 31)
    fixed = int(math.floor(abs(scaled) + 0.5)) * (1 if scaled >= 0 else -1)
    if fixed == 1 << 31:
        fixed //= 2
        exponent += 1
    if exponent < -31:
        return 0, 0
    return fixed, exponent


def test_worked_example_multiplier():
    assert arithmetic.quantize_multiplier(0.0034) == (1869169767, -8)
    # Built from float32 the multiplier differs, which is why kernels compute scales in double.
    assert arithmetic.quantize_multiplier(float(np.float32(0.0034)))[0] == 1869169792


@pytest.mark.parametrize(
    "accumulator, double_rounded, single_rounded",
    [(12345, 42, 42), (147, 1, 0), (-147, -1, 0), (2500, 9, 8)],
)
def test_worked_example_accumulators(accumulator, double_rounded, single_rounded):
    multiplier, shift = 1869169767, -8
    assert arithmetic.multiply_by_quantized_multiplier(accumulator, multiplier, shift) == double_rounded
    assert (
        arithmetic.multiply_by_quantized_multiplier_single_rounding(accumulator, multiplier, shift)
        == single_rounded
    )


def test_quantize_multiplier_edges():
    assert arithmetic.quantize_multiplier(0.0) == (0, 0)
    assert arithmetic.quantize_multiplier(1.0) == (2**30, 1)
    assert arithmetic.quantize_multiplier(0.5) == (2**30, 0)
    # Rounds up to 2^31: renormalised to 2^30 with one more shift.
    assert arithmetic.quantize_multiplier(1.0 - 2.0**-40) == (2**30, 1)
    # Below 2^-32 the multiplier is flushed to zero.
    assert arithmetic.quantize_multiplier(2.0**-33) == (0, 0)
    assert arithmetic.quantize_multiplier(2.0**-32) == (2**30, -31)


def test_quantize_multipliers_array_matches_scalar():
    reals = np.array([[0.0034, 0.5], [1.7, 2.0**-20]])
    multipliers, shifts = arithmetic.quantize_multipliers(reals)
    assert multipliers.shape == shifts.shape == (2, 2)
    assert multipliers.dtype == shifts.dtype == np.int64
    for index in np.ndindex(reals.shape):
        assert (multipliers[index], shifts[index]) == arithmetic.quantize_multiplier(reals[index])


def test_srdhm_saturates_and_rounds_half_up():
    int32_min = -(2**31)
    assert arithmetic.saturating_rounding_doubling_high_mul(int32_min, int32_min) == 2**31 - 1
    # a*b = +-2^30 is exactly +-0.5 after the doubling high mul: ties go up.
    assert arithmetic.saturating_rounding_doubling_high_mul(2**15, 2**15) == 1
    assert arithmetic.saturating_rounding_doubling_high_mul(-(2**15), 2**15) == 0
    assert arithmetic.saturating_rounding_doubling_high_mul(-3 * 2**15, 2**15) == -1


def test_rdbpot_rounds_half_away_from_zero():
    values = np.array([5, 6, 7, -5, -6, -7, 0, -1, 1])
    expected = np.array([1, 2, 2, -1, -2, -2, 0, 0, 0])
    np.testing.assert_array_equal(arithmetic.rounding_divide_by_power_of_two(values, 2), expected)
    np.testing.assert_array_equal(arithmetic.rounding_divide_by_power_of_two(values, 0), values)
    np.testing.assert_array_equal(arithmetic.rounding_divide_by_power_of_two([6, 6, 6], [0, 1, 2]), [6, 3, 2])


def test_per_channel_multipliers_broadcast_along_last_axis():
    accumulators = np.array([[12345, 147, 2500], [-147, 0, 99999]])
    multipliers = np.array([1869169767, 1073741824, 1500000000])
    shifts = np.array([-8, 2, -3])
    result = arithmetic.multiply_by_quantized_multiplier(accumulators, multipliers, shifts)
    for row, column in np.ndindex(accumulators.shape):
        assert result[row, column] == slow_mbqm(
            int(accumulators[row, column]), int(multipliers[column]), int(shifts[column])
        )


def test_requantize_clamps_to_activation_range():
    result = arithmetic.requantize(np.array([12345, -99999, 99999]), 1869169767, -8, 10, -100, 120)
    np.testing.assert_array_equal(result, [52, -100, 120])


@pytest.mark.parametrize(
    "name, scale, zero_point, expected",
    [
        ("NONE", 0.05, 3, (-128, 127)),
        ("RELU", 0.05, -20, (-20, 127)),
        ("RELU", 0.05, -128, (-128, 127)),
        ("RELU6", 6.0 / 255.0, -128, (-128, 127)),
        ("RELU6", 0.01, -128, (-128, 127)),
        ("RELU6", 0.1, -28, (-28, 32)),
        ("RELU_N1_TO_1", 0.01, 0, (-100, 100)),
        ("RELU_N1_TO_1", 1.0 / 64, 5, (-59, 69)),
        ("relu", 0.05, -20, (-20, 127)),
    ],
)
def test_activation_range(name, scale, zero_point, expected):
    assert arithmetic.activation_range(name, scale, zero_point) == expected


def test_activation_range_ties_round_away_in_float32():
    # 6 / 0.4 in float32 is 15.000001 -> 15; 6 / 4.0 = 1.5 exactly, a tie, rounds away to 2.
    assert arithmetic.activation_range("RELU6", 4.0, 0) == (0, 2)
    assert arithmetic.activation_range("RELU_N1_TO_1", 2.0 / 3.0, 0) == (-2, 2)


def test_activation_range_rejects_unknown_names():
    with pytest.raises(ValueError, match="TANH"):
        arithmetic.activation_range("TANH", 0.1, 0)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(a=INT32, b=INT32)
def test_srdhm_matches_transcription(a, b):
    assert arithmetic.saturating_rounding_doubling_high_mul(a, b) == slow_srdhm(a, b)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(x=INT32, exponent=st.integers(min_value=0, max_value=31))
def test_rdbpot_matches_transcription(x, exponent):
    assert arithmetic.rounding_divide_by_power_of_two(x, exponent) == slow_rdbpot(x, exponent)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    real=st.floats(min_value=1e-12, max_value=1e3, allow_nan=False, allow_infinity=False),
    x=st.integers(min_value=-(2**20), max_value=2**20),
)
def test_multiplier_and_mbqm_match_transcription(real, x):
    multiplier, shift = arithmetic.quantize_multiplier(real)
    assert (multiplier, shift) == slow_quantize_multiplier(real)
    if shift > 0:
        x >>= shift  # keep x * 2^shift inside int32, as the kernels guarantee
    expected = slow_mbqm(x, multiplier, shift)
    assert arithmetic.multiply_by_quantized_multiplier(x, multiplier, shift) == expected


@settings(max_examples=100, derandomize=True, deadline=None)
@given(
    values=st.lists(INT32, min_size=1, max_size=20),
    multiplier=st.integers(min_value=2**30, max_value=2**31 - 1),
    shift=st.integers(min_value=-31, max_value=0),
)
def test_vectorized_mbqm_matches_elementwise(values, multiplier, shift):
    result = arithmetic.multiply_by_quantized_multiplier(np.array(values, dtype=np.int64), multiplier, shift)
    assert result.tolist() == [slow_mbqm(value, multiplier, shift) for value in values]


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    x=st.integers(min_value=-(2**24), max_value=2**24),
    multiplier=st.integers(min_value=2**30, max_value=2**31 - 1),
    shift=st.integers(min_value=-31, max_value=0),
)
def test_single_and_double_rounding_differ_by_at_most_one(x, multiplier, shift):
    double = arithmetic.multiply_by_quantized_multiplier(x, multiplier, shift)
    single = arithmetic.multiply_by_quantized_multiplier_single_rounding(x, multiplier, shift)
    exact = x * multiplier / 2.0 ** (31 - shift)
    assert abs(int(double) - int(single)) <= 1
    assert abs(int(single) - exact) <= 0.5 + 1e-9


# gemmlowp fixed-point functions: exact at their fixed points, and close to the real functions elsewhere.


def test_fixed_point_identities():
    assert arithmetic.exp_on_negative_values(0, 5) == 2**31 - 1
    assert arithmetic.fixed_point_logistic(0, 4) == 2**30
    assert arithmetic.fixed_point_tanh(0, 4) == 0
    assert arithmetic.one_over_one_plus_x_for_x_in_0_1(0) == 2**31 - 1
    assert arithmetic.rounding_half_sum(3, 4) == 4 and arithmetic.rounding_half_sum(-3, -4) == -4
    leading_zeros = arithmetic.count_leading_zeros_32([0, 1, 2**19, 2**31 - 1])
    np.testing.assert_array_equal(leading_zeros, [32, 31, 12, 1])
    np.testing.assert_array_equal(
        arithmetic.saturating_rounding_multiply_by_power_of_two([2**29, -(2**29), 2**28, -3], 2),
        [2**31 - 1, -(2**31), 2**30, -12],
    )


@pytest.mark.parametrize("integer_bits", [4, 5, 6])
def test_exp_on_negative_values_is_accurate(integer_bits):
    fractional_bits = 31 - integer_bits
    reals = -np.linspace(0, min(2**integer_bits - 1, 16), 2001)[1:]
    raw = np.round(reals * 2**fractional_bits).astype(np.int64)
    result = arithmetic.exp_on_negative_values(raw, integer_bits) / 2**31
    np.testing.assert_allclose(result, np.exp(raw / 2**fractional_bits), rtol=0, atol=2e-8 * 2**integer_bits)


def test_reciprocal_logistic_and_tanh_are_accurate():
    raw = np.round(np.linspace(0, 1, 1001)[1:-1] * 2**31).astype(np.int64)
    fractions = raw / 2**31
    reciprocal = arithmetic.one_over_one_plus_x_for_x_in_0_1(raw) / 2**31
    np.testing.assert_allclose(reciprocal, 1 / (1 + fractions), rtol=0, atol=1e-8)
    ratio = arithmetic.one_minus_x_over_one_plus_x_for_x_in_0_1(raw) / 2**31
    np.testing.assert_allclose(ratio, (1 - fractions) / (1 + fractions), rtol=0, atol=2e-8)
    inputs = np.round(np.linspace(-15.9, 15.9, 3001) * 2**27).astype(np.int64)
    reals = inputs / 2**27
    logistic = arithmetic.fixed_point_logistic(inputs, 4) / 2**31
    np.testing.assert_allclose(logistic, 1 / (1 + np.exp(-reals)), rtol=0, atol=1.5e-7)
    tanh = arithmetic.fixed_point_tanh(inputs, 4) / 2**31
    np.testing.assert_allclose(tanh, np.tanh(reals), rtol=0, atol=1.5e-7)


def test_quantize_float_rounds_half_away_exactly_and_saturates():
    values = np.array([0.49999997, 0.5, -0.5, 2.5, -2.5, 1e10, -1e10, np.inf], np.float32)
    # float32 0.49999997 + 0.5 rounds to 1.0 in float32 arithmetic; TFLite's roundf gives 0.
    assert arithmetic.quantize_float(values, 1.0, 0).tolist() == [0, 1, -1, 3, -3, 127, -128, 127]
    assert arithmetic.quantize_float(np.array([0.0, 1.0]), 1 / 255, -128).tolist() == [-128, 127]
    unsigned = arithmetic.quantize_float(np.array([0.0, 0.5, 1.0]), 1 / 256, 0, np.uint8)
    assert unsigned.dtype == np.uint8 and unsigned.tolist() == [0, 128, 255]
