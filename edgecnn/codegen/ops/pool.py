"""MAX_POOL_2D, AVERAGE_POOL_2D and MEAN, as kernels_basic computes them (TFLite Micro's reference kernels).

Pooling windows skip taps outside the input; AVERAGE_POOL_2D divides by the in-image count with C's
truncating division after adding or subtracting half of it. MEAN folds 1/count into its multiplier.
"""

import numpy as np

from edgecnn.codegen.ops.common import clamp, contiguous_strides, indent, plus, quantization
from edgecnn.codegen.ops.conv import _Window, whole_op
from edgecnn.reference import kernels_basic
from edgecnn.reference.kernels_common import output_range


def _pool_window(layer):
    return _Window(layer, layer.options["filter_height"], layer.options["filter_width"])


def _describe(emission, name, window):
    emission.describe(
        f"{name} {window.in_h}x{window.in_w}x{window.in_c} -> {window.out_h}x{window.out_w}x{window.out_c}, "
        f"filter {window.filter_h}x{window.filter_w}, stride {window.stride_h}x{window.stride_w}, "
        f"padding top {window.pad_top} left {window.pad_left}"
    )


def _pool(layer, emission, name, start, step, finish):
    """A pooling op: per output pixel and channel, `start` declares the accumulator `value`, `step` folds
    `x` (each in-image tap) into it and `finish` are the lines after the taps (that may use `count`, their
    number)."""
    window = _pool_window(layer)
    low, high = output_range(layer.call())
    _describe(emission, name, window)
    source, output = emission.input(0), emission.output(0)
    channels = window.in_c
    uses_count = any("count" in line for line in finish)
    pixel = [
        f"int8_t *out = {output} + (oy * {window.out_w} + ox) * {channels};",
        *(["const int32_t count = (y_end - y_begin) * (x_end - x_begin);"] if uses_count else []),
        f"for (int c = 0; c < {channels}; ++c) {{",
        f"  {start}",
        "  for (int ky = y_begin; ky < y_end; ++ky) {",
        "    for (int kx = x_begin; kx < x_end; ++kx) {",
        f"      const int32_t x = {source}[({window.tap_row()} * {window.in_w} + {window.tap_column()}) * "
        f"{channels} + c];",
        f"      {step}",
        "    }",
        "  }",
        *indent(finish),
        *indent(clamp("value", low, high)),
        "  out[c] = (int8_t)value;",
        "}",
    ]
    return whole_op(window, [*window.row_open(), *window.column_open(), *indent(pixel), "}"])


def emit_max_pool_2d(layer, emission):
    # Padding cannot win: the taps outside the input are skipped and the clamp keeps -128 at least.
    return _pool(layer, emission, "MAX_POOL_2D", "int32_t value = -128;", "value = x > value ? x : value;", [])


def emit_average_pool_2d(layer, emission):
    return _pool(
        layer,
        emission,
        "AVERAGE_POOL_2D",
        "int32_t value = 0;",
        "value += x;",
        ["value = value > 0 ? (value + count / 2) / count : (value - count / 2) / count;"],
    )


def pool_overlap(layer):
    return _pool_window(layer).overlap()


def _reduction(layer, emission, name, start, step, finish):
    """Loops over the kept axes (the output, in order), an inner loop nest over the reduced ones.

    `start` declares the accumulator `total`, `step` folds `base[...]` into it, `finish` (lines) sets `value`.
    """
    shape = [int(size) for size in layer.inputs[0].shape] or [1]
    rank = len(shape)
    axes = sorted({int(axis) % rank for axis in np.asarray(layer.constant(1)).reshape(-1)})
    kept = [axis for axis in range(rank) if axis not in axes]
    count = int(np.prod([shape[axis] for axis in axes], dtype=np.int64))
    strides = contiguous_strides(shape)
    emission.describe(f"{name} over axes {axes} of {'x'.join(map(str, shape))} ({count} values each)")
    source, output = emission.input(0), emission.output(0)
    kept_sizes = [shape[axis] for axis in kept] or [1]
    reduced_sizes = [shape[axis] for axis in axes] or [1]
    kept_terms = [f"k{position} * {strides[axis]}" for position, axis in enumerate(kept)]
    reduced_terms = [f"r{position} * {strides[axis]}" for position, axis in enumerate(axes)]
    lines = ["int out_index = 0;"]
    for position, size in enumerate(kept_sizes):
        lines.append("  " * position + f"for (int k{position} = 0; k{position} < {size}; ++k{position}) {{")
    inner = [f"const int8_t *base = {source}{' + ' + ' + '.join(kept_terms) if kept_terms else ''};", start]
    for position, size in enumerate(reduced_sizes):
        inner.append("  " * position + f"for (int r{position} = 0; r{position} < {size}; ++r{position}) {{")
    element = f"base[{' + '.join(reduced_terms) if reduced_terms else '0'}]"
    inner.append("  " * len(reduced_sizes) + step.format(element=element))
    for position in range(len(reduced_sizes) - 1, -1, -1):
        inner.append("  " * position + "}")
    inner += finish(count)
    inner.append(f"{output}[out_index++] = (int8_t)value;")
    lines += indent(inner, len(kept_sizes))
    for position in range(len(kept_sizes) - 1, -1, -1):
        lines.append("  " * position + "}")
    return lines


def _requantized_sum(layer, emission, multiplier_of):
    input_scale, input_zero_point = quantization(layer.inputs[0])
    output_scale, output_zero_point = quantization(layer.outputs[0])
    requantize = emission.helper("requantize")

    def finish(count):
        multiplier, shift = multiplier_of(input_scale, output_scale, count)
        return [
            f"int32_t value = {requantize}(total{plus(-input_zero_point * count)}, {multiplier}, {shift})"
            f"{plus(output_zero_point)};",
            *clamp("value", -128, 127),
        ]

    return _reduction(layer, emission, layer.name, "int32_t total = 0;", "total += {element};", finish)


def emit_mean(layer, emission):
    return _requantized_sum(layer, emission, kernels_basic.mean_multiplier)


def emit_sum(layer, emission):
    def multiplier(input_scale, output_scale, count):
        return kernels_basic.sum_multiplier(input_scale, output_scale)

    return _requantized_sum(layer, emission, multiplier)


def emit_reduce_max(layer, emission):
    return _reduction(
        layer,
        emission,
        "REDUCE_MAX",
        "int32_t total = -128;",
        "total = {element} > total ? {element} : total;",
        lambda count: ["const int32_t value = total;"],
    )
