"""The integer primitives of TFLite Micro's kernels as C99 static inline functions, emitted only where used.

Each reproduces the routine of edgecnn/reference/arithmetic.py named in its comment (and through it the
gemmlowp / TFLite C code). Right shifts of negative values are arithmetic, as on every compiler TFLite Micro
supports; the generated file checks that at compile time.
"""

HELPERS = {
    # arithmetic.rounding_divide_by_power_of_two (gemmlowp RoundingDivideByPOT), 0 <= exponent <= 31.
    "rounding_divide": (
        (),
        """static inline int32_t edgecnn_rounding_divide(int32_t x, int32_t exponent) {
  const int32_t mask = (int32_t)((UINT32_C(1) << exponent) - 1u);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}""",
    ),
    # arithmetic.saturating_rounding_doubling_high_mul (gemmlowp SaturatingRoundingDoublingHighMul).
    "high_mul": (
        (),
        """static inline int32_t edgecnn_high_mul(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) {
    return INT32_MAX;
  }
  return (int32_t)(((int64_t)a * b + (INT64_C(1) << 30)) >> 31);
}""",
    ),
    # arithmetic.multiply_by_quantized_multiplier (TFLite MultiplyByQuantizedMultiplier, double rounding).
    "requantize": (
        ("rounding_divide", "high_mul"),
        """static inline int32_t edgecnn_requantize(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t left = shift > 0 ? shift : 0;
  const int32_t right = shift > 0 ? 0 : -shift;
  return edgecnn_rounding_divide(edgecnn_high_mul((int32_t)(x * (INT32_C(1) << left)), multiplier), right);
}""",
    ),
    # arithmetic.rounding_divide_by_power_of_two on int64, for exponents above 31 (SOFTMAX's last step).
    "rounding_divide_64": (
        (),
        """static inline int32_t edgecnn_rounding_divide_64(int64_t x, int32_t exponent) {
  const int64_t mask = (int64_t)((UINT64_C(1) << exponent) - 1u);
  const int64_t remainder = x & mask;
  const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (int32_t)((x >> exponent) + (remainder > threshold ? 1 : 0));
}""",
    ),
    # arithmetic.saturating_rounding_multiply_by_power_of_two for a positive exponent (gemmlowp).
    "saturating_shift_left": (
        (),
        """static inline int32_t edgecnn_saturating_shift_left(int32_t x, int32_t exponent) {
  const int32_t threshold = (int32_t)((UINT32_C(1) << (31 - exponent)) - 1u);
  if (x > threshold) {
    return INT32_MAX;
  }
  if (x < -threshold) {
    return INT32_MIN;
  }
  return (int32_t)((uint32_t)x << exponent);
}""",
    ),
    # arithmetic.one_over_one_plus_x_for_x_in_0_1: gemmlowp's Newton-Raphson reciprocal, raw Q0.31 in and out.
    "one_over_one_plus_x": (
        ("high_mul", "saturating_shift_left"),
        """static inline int32_t edgecnn_one_over_one_plus_x(int32_t a) {
  /* rounding_half_sum(a, INT32_MAX): (a + max) / 2 rounded half away from zero, a >= 0 */
  const int64_t sum = (int64_t)a + INT32_MAX;
  const int32_t half_denominator = (int32_t)((sum + 1) / 2);
  int32_t x = 1515870810 + edgecnn_high_mul(half_denominator, -1010580540);
  int iteration;
  for (iteration = 0; iteration < 3; ++iteration) {
    const int32_t product = edgecnn_high_mul(half_denominator, x);
    const int32_t one_minus_product = (INT32_C(1) << 29) - product;
    x = x + edgecnn_saturating_shift_left(edgecnn_high_mul(x, one_minus_product), 2);
  }
  return edgecnn_saturating_shift_left(x, 1);
}""",
    ),
    # arithmetic.count_leading_zeros_32 for a positive value.
    "leading_zeros": (
        (),
        """static inline int32_t edgecnn_leading_zeros(uint32_t x) {
  int32_t count = 0;
  while (count < 32 && (x & UINT32_C(0x80000000)) == 0u) {
    x <<= 1;
    ++count;
  }
  return count;
}""",
    ),
}


def with_dependencies(names):
    """`names` and everything they call, each once, callees first (the order they must be defined in)."""
    ordered = []

    def visit(name):
        if name in ordered:
            return
        dependencies, _ = HELPERS[name]
        for dependency in dependencies:
            visit(dependency)
        ordered.append(name)

    for name in names:
        visit(name)
    return ordered


def helper_source(names):
    return "\n\n".join(HELPERS[name][1] for name in with_dependencies(names))
