"""FULLY_CONNECTED and BATCH_MATMUL as C loops with constant bounds, with kernels_conv's arithmetic (TFLite
Micro's reference_integer_ops): int32 sums of w * (x - zp_in) plus bias, requantized and clamped."""

import numpy as np

from edgecnn.codegen.ops.common import broadcast_strides, indent, plus, quantization
from edgecnn.codegen.ops.conv import _bias, _requantize_lines, compact_type
from edgecnn.reference import kernels_conv
from edgecnn.reference.kernels_common import output_range


def emit_fully_connected(layer, emission):
    weights = np.asarray(layer.constant(1), np.int64)
    units, depth = weights.shape
    rows = layer.inputs[0].nbytes // depth
    input_scale, input_zero_point = quantization(layer.inputs[0])
    output_scale, output_zero_point = quantization(layer.outputs[0])
    weight_quantization = layer.inputs[1].quantization
    weight_offset = 0 if weight_quantization.is_per_channel else -int(weight_quantization.zero_points[0])
    multipliers, shifts = kernels_conv.micro_fully_connected_multipliers(
        input_scale, weight_quantization.scales, output_scale, units
    )
    low, high = output_range(layer.call())
    # sum_k (w + w_off) * (x - zp_in) = sum_k (w + w_off) * x - zp_in * sum_k (w + w_off): the second term
    # is a constant per unit, folded into the bias at export (exact: integer arithmetic).
    folded_bias = _bias(layer, 2, units) - input_zero_point * (weights + weight_offset).sum(axis=1)
    if np.abs(folded_bias).max(initial=0) >= 2**31:
        folded_bias = None
    weight_array = emission.constant(weights, np.int8, "weights")
    per_channel = np.ndim(multipliers) > 0
    if per_channel:
        multiplier = emission.constant(multipliers, np.int32, "multiplier") + "[unit]"
        shift = emission.constant(shifts, np.int8, "shift") + "[unit]"
    else:
        multiplier, shift = str(int(multipliers)), str(int(shifts))
    emission.describe(
        f"FULLY_CONNECTED {rows}x{depth} -> {rows}x{units}"
        + (", per-channel weights" if per_channel else "")
    )
    source, output = emission.input(0), emission.output(0)
    if folded_bias is not None:
        bias = emission.constant(folded_bias, compact_type(folded_bias), "bias")
        term = f"(w[k]{plus(weight_offset)}) * x[k]" if weight_offset else "w[k] * x[k]"
    else:
        bias_values = _bias(layer, 2, units)
        bias = emission.constant(bias_values, compact_type(bias_values), "bias")
        term = f"(w[k]{plus(weight_offset)}) * (x[k]{plus(-input_zero_point)})"
    return [
        f"for (int row = 0; row < {rows}; ++row) {{",
        f"  const int8_t *x = {source} + row * {depth};",
        f"  for (int unit = 0; unit < {units}; ++unit) {{",
        f"    const int8_t *w = {weight_array} + unit * {depth};",
        f"    int32_t acc = {bias}[unit];",
        f"    for (int k = 0; k < {depth}; ++k) {{",
        f"      acc += {term};",
        "    }",
        *indent(
            _requantize_lines(
                emission, "acc", multiplier, shift, output_zero_point, low, high, f"{output}[row * {units} + unit]"
            ),
            2,
        ),
        "  }",
        "}",
    ]


def emit_batch_matmul(layer, emission):
    """BATCH_MATMUL: for each (broadcast) batch, out[r][c] = sum_k (x[r][k] - zp_x) * (y[k][c] - zp_y)."""
    output_shape = [int(size) for size in layer.outputs[0].shape]
    rank = len(output_shape)
    rows, columns = output_shape[-2], output_shape[-1]
    batch_shape = output_shape[:-2]
    operands = []
    for position, adjoint in ((0, "adj_x"), (1, "adj_y")):
        own_shape = [int(size) for size in layer.inputs[position].shape]
        shape = [1] * (rank - len(own_shape)) + own_shape
        inner = shape[-2:]
        # Strides of the last two axes as (row/k, k/column) of the product, after the adjoint's swap.
        first, second = inner[1], 1
        if layer.options.get(adjoint, False):
            first, second = second, first
        batch_strides = broadcast_strides(shape[:-2], batch_shape) if batch_shape else []
        matrix = inner[0] * inner[1]
        operands.append((first, second, [stride * matrix for stride in batch_strides]))
    depth = layer.inputs[0].shape[-2] if layer.options.get("adj_x", False) else layer.inputs[0].shape[-1]
    (left_scale, left_zero_point), (right_scale, right_zero_point) = (
        quantization(layer.inputs[0]),
        quantization(layer.inputs[1]),
    )
    output_scale, output_zero_point = quantization(layer.outputs[0])
    multiplier, shift = kernels_conv.batch_matmul_multiplier(left_scale, right_scale, output_scale)
    low, high = output_range(layer.call())
    left, right, output = emission.input(0), emission.input(1), emission.output(0)
    batches = 1
    for size in batch_shape:
        batches *= size
    offsets = []
    for _, _, batch_strides in operands:
        grid = np.indices(batch_shape).reshape(len(batch_shape), -1) if batch_shape else np.zeros((0, 1), int)
        offsets.append((np.asarray(batch_strides, np.int64).reshape(-1, 1) * grid).sum(axis=0))
    left_offset = emission.constant(offsets[0], np.int32, "batch_offsets") + "[batch]" if batches > 1 else "0"
    right_offset = emission.constant(offsets[1], np.int32, "batch_offsets") + "[batch]" if batches > 1 else "0"
    (left_row, left_k, _), (right_k, right_column, _) = operands
    emission.describe(f"BATCH_MATMUL {batches} x ({rows}x{depth} . {depth}x{columns})")
    return [
        f"for (int batch = 0; batch < {batches}; ++batch) {{",
        f"  const int8_t *x = {left} + {left_offset};",
        f"  const int8_t *y = {right} + {right_offset};",
        f"  int8_t *out = {output} + batch * {rows * columns};",
        f"  for (int row = 0; row < {rows}; ++row) {{",
        f"    for (int column = 0; column < {columns}; ++column) {{",
        "      int32_t acc = 0;",
        f"      for (int k = 0; k < {depth}; ++k) {{",
        f"        acc += (x[row * {left_row} + k * {left_k}]{plus(-left_zero_point)}) * "
        f"(y[k * {right_k} + column * {right_column}]{plus(-right_zero_point)});",
        "      }",
        *indent(
            _requantize_lines(
                emission, "acc", multiplier, shift, output_zero_point, low, high, f"out[row * {columns} + column]"
            ),
            3,
        ),
        "    }",
        "  }",
        "}",
    ]
