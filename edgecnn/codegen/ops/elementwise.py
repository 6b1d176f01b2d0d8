"""Element-wise ops: ADD, SUB, MUL (with broadcasting), the one-input ops as 256-entry tables, and SOFTMAX.

A one-input int8 op (LOGISTIC, TANH, HARD_SWISH, RELU, RELU6, LEAKY_RELU, QUANTIZE int8 -> int8) maps each of
the 256 input values to one output value, so its table is computed at export by running the interpreter's own
kernel on all 256 values: exact by construction, and no fixed-point or float code at run time. SOFTMAX keeps
gemmlowp's integer arithmetic, with exp(x - max) tabulated over the 256 possible differences.
"""

import numpy as np

from edgecnn.codegen.ops.common import (
    broadcast_strides,
    clamp,
    coalesced,
    element_count,
    nested_loops,
    plus,
    quantization,
)
from edgecnn.errors import UnsupportedModelError
from edgecnn.reference import activations, arithmetic, kernels_basic
from edgecnn.reference.kernels_common import batched_shape, output_range

INT8_VALUES = np.arange(-128, 128, dtype=np.int64)


def value_table(layer):
    """The op's output for each int8 input value -128..127, from the interpreter's kernel."""
    tensor = layer.inputs[0]
    elements = element_count(tensor.shape)
    images = -(-256 // elements)
    values = np.resize(INT8_VALUES, images * elements).astype(np.int8)
    (result,) = layer.run([values.reshape(batched_shape(tensor.shape, images))])
    result = np.asarray(result).reshape(-1)
    table = np.zeros(256, np.int64)
    table[values.astype(np.int64) + 128] = result
    if not np.array_equal(table[values.astype(np.int64) + 128], result):
        raise UnsupportedModelError(f"op {layer.index} ({layer.name}): the op is not element-wise")
    return table


def emit_table(layer, emission):
    table = emission.constant(value_table(layer), np.int8, layer.name.lower())
    count = element_count(layer.inputs[0].shape)
    emission.describe(f"{layer.name} on {count} values, as a 256-entry table computed at export")
    source, output = emission.input(0), emission.output(0)
    return [
        f"for (int index = 0; index < {count}; ++index) {{",
        f"  {output}[index] = {table}[{source}[index] + 128];",
        "}",
    ]


def in_place_first(layer):
    """A one-input element-wise op may write over its input: element i is read before it is written."""
    return {0: 0}


def _binary_loops(layer, emission, body):
    """Loops over the output with offsets `a` and `b` into the two operands (broadcast right-aligned) and `o`
    into the output."""
    output_shape = [int(size) for size in layer.outputs[0].shape] or [1]
    first = broadcast_strides(layer.inputs[0].shape, output_shape)
    second = broadcast_strides(layer.inputs[1].shape, output_shape)
    own = broadcast_strides(output_shape, output_shape)
    shape, strides = coalesced(output_shape, first, second, own)
    return nested_loops(shape, strides, ["a", "b", "o"], body)


def binary_in_place(layer):
    """In place over an input of the output's own shape: output element i reads only element i of it."""
    output_shape = tuple(layer.outputs[0].shape)
    allowed = {}
    for position, tensor in enumerate(layer.inputs[:2]):
        if tensor is not None and not tensor.is_constant and tuple(tensor.shape) == output_shape:
            allowed[position] = 0
    return allowed


def _add_or_subtract(layer, emission, sign):
    parameters = kernels_basic.add_parameters(layer.call())
    low, high = output_range(layer.call())
    requantize = emission.helper("requantize")
    first, second, output = emission.input(0), emission.input(1), emission.output(0)
    left_shift = 1 << kernels_basic.ADD_LEFT_SHIFT
    emission.describe(
        f"{layer.name} {'x'.join(map(str, layer.outputs[0].shape))}: both inputs rescaled (x {left_shift}) to "
        "twice the larger input scale, summed, requantized"
    )
    body = [
        f"const int32_t x1 = ({first}[a]{plus(-parameters.first_zero_point)}) * {left_shift};",
        f"const int32_t x2 = ({second}[b]{plus(-parameters.second_zero_point)}) * {left_shift};",
        f"const int32_t s1 = {requantize}(x1, {parameters.first_multiplier}, {parameters.first_shift});",
        f"const int32_t s2 = {requantize}(x2, {parameters.second_multiplier}, {parameters.second_shift});",
        f"int32_t value = {requantize}(s1 {'+' if sign > 0 else '-'} s2, {parameters.output_multiplier}, "
        f"{parameters.output_shift}){plus(parameters.output_zero_point)};",
        *clamp("value", low, high),
        f"{output}[o] = (int8_t)value;",
    ]
    return _binary_loops(layer, emission, body)


def emit_add(layer, emission):
    return _add_or_subtract(layer, emission, 1)


def emit_sub(layer, emission):
    return _add_or_subtract(layer, emission, -1)


def emit_mul(layer, emission):
    _, first_zero_point = quantization(layer.inputs[0])
    _, second_zero_point = quantization(layer.inputs[1])
    _, output_zero_point = quantization(layer.outputs[0])
    multiplier, shift = kernels_basic.mul_multiplier(layer.call())
    low, high = output_range(layer.call())
    requantize = emission.helper("requantize")
    first, second, output = emission.input(0), emission.input(1), emission.output(0)
    emission.describe(f"MUL {'x'.join(map(str, layer.outputs[0].shape))}")
    body = [
        f"const int32_t product = ({first}[a]{plus(-first_zero_point)}) * ({second}[b]{plus(-second_zero_point)});",
        f"int32_t value = {requantize}(product, {multiplier}, {shift}){plus(output_zero_point)};",
        *clamp("value", low, high),
        f"{output}[o] = (int8_t)value;",
    ]
    return _binary_loops(layer, emission, body)


def emit_softmax(layer, emission):
    input_scale, _ = quantization(layer.inputs[0])
    beta = layer.options.get("beta", 1.0)
    multiplier, left_shift, diff_min = activations.softmax_parameters(input_scale, beta)
    # exp(d) for every difference d = x - max in -255..0 that takes part (d >= diff_min), in Q0.31.
    differences = np.arange(0, min(256, -diff_min + 1), dtype=np.int64)
    scaled = arithmetic.multiply_by_quantized_multiplier(-differences, multiplier, left_shift)
    exps = arithmetic.exp_on_negative_values(scaled, 5)
    table = emission.constant(exps, np.int32, "exp")
    shape = [int(size) for size in layer.inputs[0].shape] or [1]
    depth = shape[-1]
    rows = element_count(shape) // depth
    entries = len(differences)
    divide = emission.helper("rounding_divide")
    divide_64 = emission.helper("rounding_divide_64")
    high_mul = emission.helper("high_mul")
    reciprocal = emission.helper("one_over_one_plus_x")
    leading_zeros = emission.helper("leading_zeros")
    emission.describe(f"SOFTMAX over {rows} rows of {depth} (gemmlowp fixed point, exp tabulated)")
    source, output = emission.input(0), emission.output(0)
    return [
        f"for (int row = 0; row < {rows}; ++row) {{",
        f"  const int8_t *x = {source} + row * {depth};",
        f"  int8_t *out = {output} + row * {depth};",
        "  int32_t max = x[0];",
        f"  for (int i = 1; i < {depth}; ++i) {{",
        "    max = x[i] > max ? x[i] : max;",
        "  }",
        "  int32_t sum = 0;",
        f"  for (int i = 0; i < {depth}; ++i) {{",
        "    const int32_t difference = max - x[i];",
        f"    if (difference < {entries}) {{",
        f"      sum += {divide}({table}[difference], 12);",
        "    }",
        "  }",
        f"  const int32_t headroom = {leading_zeros}((uint32_t)sum);",
        "  const int32_t shifted = (int32_t)(((uint32_t)sum << headroom) - UINT32_C(0x80000000));",
        f"  const int32_t scale = {reciprocal}(shifted);",
        "  const int32_t exponent = 12 - headroom + 23;",
        f"  for (int i = 0; i < {depth}; ++i) {{",
        "    const int32_t difference = max - x[i];",
        "    int32_t value = -128;",
        f"    if (difference < {entries}) {{",
        f"      value = {divide_64}({high_mul}(scale, {table}[difference]), exponent) - 128;",
        "    }",
        "    value = value > 127 ? 127 : value;",
        "    out[i] = (int8_t)value;",
        "  }",
        "}",
    ]


def _raw_choice(layer, emission, comparison):
    first, second, output = emission.input(0), emission.input(1), emission.output(0)
    emission.describe(f"{layer.name} {'x'.join(map(str, layer.outputs[0].shape))} (raw values, no requantization)")
    body = [f"{output}[o] = {first}[a] {comparison} {second}[b] ? {first}[a] : {second}[b];"]
    return _binary_loops(layer, emission, body)


def emit_maximum(layer, emission):
    return _raw_choice(layer, emission, ">")


def emit_minimum(layer, emission):
    return _raw_choice(layer, emission, "<")


def emit_prelu(layer, emission):
    input_scale, input_zero_point = quantization(layer.inputs[0])
    alpha_scale, alpha_zero_point = quantization(layer.inputs[1])
    output_scale, output_zero_point = quantization(layer.outputs[0])
    identity_multiplier, identity_shift, alpha_multiplier, alpha_shift = activations.prelu_multipliers(
        input_scale, alpha_scale, output_scale, flavor=layer.interpreter.flavor
    )
    requantize = emission.helper("requantize")
    first, second, output = emission.input(0), emission.input(1), emission.output(0)
    emission.describe(f"PRELU {'x'.join(map(str, layer.outputs[0].shape))}")
    body = [
        f"const int32_t x = {first}[a]{plus(-input_zero_point)};",
        f"const int32_t alpha = {second}[b]{plus(-alpha_zero_point)};",
        f"int32_t value = (x >= 0 ? {requantize}(x, {identity_multiplier}, {identity_shift}) : "
        f"{requantize}(x * alpha, {alpha_multiplier}, {alpha_shift})){plus(output_zero_point)};",
        *clamp("value", -128, 127),
        f"{output}[o] = (int8_t)value;",
    ]
    return _binary_loops(layer, emission, body)
