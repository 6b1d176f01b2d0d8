"""CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV as C loops with constant bounds (FULLY_CONNECTED: matmul.py).

The arithmetic is kernels_conv's (TFLite Micro's reference_integer_ops): acc = bias + sum over in-image taps of
w * (x - zp_in), requantized per channel with MultiplyByQuantizedMultiplier, + zp_out, clamped. Output pixels
are computed in row-major order, each from the input rows its window covers, which is what lets the planner
overlap an output with the input rows already consumed (row_overlap_distance).
"""

import numpy as np

from edgecnn.codegen.ops.common import (
    clamp,
    indent,
    needs_padding,
    nhwc,
    plus,
    quantization,
    row_overlap_distance,
    window_bounds,
)
from edgecnn.reference import kernels_conv
from edgecnn.reference.kernels_common import output_range, padding_for, per_channel_multipliers


def _bias(layer, position, channels):
    bias = layer.constant(position)
    return np.zeros(channels, np.int64) if bias is None else np.asarray(bias, np.int64).reshape(-1)


def compact_type(values):
    """The smallest of int16 and int32 that holds `values`: flash for the portable build's biases."""
    return np.int16 if np.abs(np.asarray(values, np.int64)).max(initial=0) < 2**15 else np.int32


def _requantize_lines(emission, accumulator, multiplier, shift, zero_point, low, high, target):
    requantize = emission.helper("requantize")
    lines = [f"{accumulator} = {requantize}({accumulator}, {multiplier}, {shift}) + {zero_point};"]
    lines += clamp(accumulator, low, high)
    lines.append(f"{target} = (int8_t){accumulator};")
    return lines


class _Window:
    """A 2-D window op's geometry (conv, depthwise, pooling): sizes, strides, dilations and padding."""

    def __init__(self, layer, filter_height, filter_width):
        options = layer.options
        self.in_h, self.in_w, self.in_c = nhwc(layer.inputs[0])
        self.out_h, self.out_w, self.out_c = nhwc(layer.outputs[0])
        self.filter_h, self.filter_w = filter_height, filter_width
        self.stride_h, self.stride_w = options["stride_h"], options["stride_w"]
        self.dilation_h = options.get("dilation_h_factor", 1)
        self.dilation_w = options.get("dilation_w_factor", 1)
        (self.pad_top, _), (self.pad_left, _) = padding_for(
            layer.call(), self.in_h, self.in_w, filter_height, filter_width, self.out_h, self.out_w
        )
        self.padded_h = needs_padding(
            self.in_h, self.out_h, self.stride_h, self.pad_top, self.filter_h, self.dilation_h
        )
        self.padded_w = needs_padding(
            self.in_w, self.out_w, self.stride_w, self.pad_left, self.filter_w, self.dilation_w
        )

    def row_open(self):
        """Declarations for output row `oy`: the window's first input row in_y0 and its taps ky in
        [y_begin, y_end) inside the input."""
        return window_bounds(
            "y", "oy", self.stride_h, self.pad_top, self.filter_h, self.dilation_h, self.in_h, self.padded_h
        )

    def column_open(self):
        """The loop over the row's output pixels `ox`, with each window's taps kx in [x_begin, x_end)."""
        return [f"for (int ox = 0; ox < {self.out_w}; ++ox) {{"] + indent(
            window_bounds(
                "x", "ox", self.stride_w, self.pad_left, self.filter_w, self.dilation_w, self.in_w, self.padded_w
            )
        )

    @property
    def input_row_bytes(self):
        return self.in_w * self.in_c

    @property
    def output_row_bytes(self):
        return self.out_w * self.out_c

    def first_row_needed(self, row):
        return max(0, row * self.stride_h - self.pad_top)

    def last_row_needed(self, row):
        return min(self.in_h - 1, row * self.stride_h - self.pad_top + (self.filter_h - 1) * self.dilation_h)

    def tap_row(self):
        return "(in_y0 + ky)" if self.dilation_h == 1 else f"(in_y0 + ky * {self.dilation_h})"

    def tap_column(self):
        return "(in_x0 + kx)" if self.dilation_w == 1 else f"(in_x0 + kx * {self.dilation_w})"

    def overlap(self):
        """{0: bytes the output must start below the input} for row-by-row computation."""
        return {
            0: row_overlap_distance(
                self.out_h, self.output_row_bytes, self.input_row_bytes, lambda row: row * self.stride_h - self.pad_top
            )
        }


class _ConvConstants:
    """A conv or depthwise layer's quantization and the C names of its constant arrays."""

    def __init__(self, layer, emission, out_channels):
        input_scale, self.input_zero_point = quantization(layer.inputs[0])
        output_scale, self.output_zero_point = quantization(layer.outputs[0])
        multipliers, shifts = per_channel_multipliers(
            input_scale, layer.inputs[1].quantization.scales, output_scale, out_channels
        )
        self.low, self.high = output_range(layer.call())
        self.weights = emission.constant(layer.constant(1), np.int8, "filter")
        bias = _bias(layer, 2, out_channels)
        self.bias = emission.constant(bias, compact_type(bias), "bias")
        self.multiplier = emission.constant(multipliers, np.int32, "multiplier")
        self.shift = emission.constant(shifts, np.int8, "shift")  # -31..30: one byte each in flash

    def requantize(self, emission):
        """Lines turning `acc` into output channel `oc` of the pixel at `out`."""
        return _requantize_lines(
            emission, "acc", f"{self.multiplier}[oc]", f"{self.shift}[oc]", self.output_zero_point, self.low,
            self.high, "out[oc]",
        )


def _describe_window(emission, name, window, out_channels, extra=""):
    emission.describe(
        f"{name} {window.in_h}x{window.in_w}x{window.in_c} -> {window.out_h}x{window.out_w}x{out_channels}, "
        f"filter {window.filter_h}x{window.filter_w}, stride {window.stride_h}x{window.stride_w}, dilation "
        f"{window.dilation_h}x{window.dilation_w}, padding top {window.pad_top} left {window.pad_left}{extra}"
    )


def _row_lines(window, output_row, pixel):
    """Output row `oy`: its window bounds, then `pixel` (lines for pixel `ox` at `out`) over the row."""
    return [*window.row_open(), f"int8_t *out_row = {output_row};", *window.column_open(), *indent(pixel), "}"]


def grouped(expression):
    """`expression` safe to multiply: a name or an already parenthesized expression as it is."""
    if expression.isidentifier() or (expression.startswith("(") and expression.endswith(")")):
        return expression
    return f"({expression})"


def contiguous_rows(base, row_bytes):
    """Input row `expression` of a tensor stored whole at `base`."""
    return lambda expression: f"{base} + {grouped(expression)} * {row_bytes}"


def whole_op(window, row_lines):
    """The op as one loop over its output rows."""
    return [f"for (int oy = 0; oy < {window.out_h}; ++oy) {{", *indent(row_lines), "}"]


def conv_2d_rows(layer, emission, input_row, output_row):
    """C computing output row `oy` of a CONV_2D: input rows through `input_row(expression)`, the output row
    starting at `output_row` (both C pointer expressions)."""
    filters = layer.constant(1)
    out_channels, filter_h, filter_w, filter_depth = filters.shape
    window = _Window(layer, filter_h, filter_w)
    groups = window.in_c // filter_depth
    group_channels = out_channels // groups
    constants = _ConvConstants(layer, emission, out_channels)
    _describe_window(emission, "CONV_2D", window, out_channels, f", {groups} groups" if groups > 1 else "")
    group_offset = f" + (oc / {group_channels}) * {filter_depth}" if groups > 1 else ""
    pixel = [
        f"int8_t *out = out_row + ox * {out_channels};",
        f"for (int oc = 0; oc < {out_channels}; ++oc) {{",
        f"  const int8_t *filter = {constants.weights} + oc * {filter_h * filter_w * filter_depth};",
        f"  int32_t acc = {constants.bias}[oc];",
        "  for (int ky = y_begin; ky < y_end; ++ky) {",
        f"    const int8_t *row = {input_row(window.tap_row())}{group_offset};",
        "    for (int kx = x_begin; kx < x_end; ++kx) {",
        f"      const int8_t *x = row + {window.tap_column()} * {window.in_c};",
        f"      const int8_t *w = filter + (ky * {filter_w} + kx) * {filter_depth};",
        f"      for (int ic = 0; ic < {filter_depth}; ++ic) {{",
        f"        acc += (x[ic]{plus(-constants.input_zero_point)}) * w[ic];",
        "      }",
        "    }",
        "  }",
        *indent(constants.requantize(emission)),
        "}",
    ]
    return _row_lines(window, output_row, pixel)


def emit_conv_2d(layer, emission):
    window = _Window(layer, layer.constant(1).shape[1], layer.constant(1).shape[2])
    rows = contiguous_rows(emission.input(0), window.input_row_bytes)
    output_row = f"{emission.output(0)} + oy * {window.output_row_bytes}"
    return whole_op(window, conv_2d_rows(layer, emission, rows, output_row))


def overlap_conv_2d(layer):
    filters = layer.constant(1)
    return _Window(layer, filters.shape[1], filters.shape[2]).overlap()


def depthwise_conv_2d_rows(layer, emission, input_row, output_row):
    """C computing output row `oy` of a DEPTHWISE_CONV_2D (see conv_2d_rows)."""
    _, filter_h, filter_w, out_channels = layer.constant(1).shape
    window = _Window(layer, filter_h, filter_w)
    depth_multiplier = out_channels // window.in_c
    constants = _ConvConstants(layer, emission, out_channels)
    _describe_window(
        emission, "DEPTHWISE_CONV_2D", window, out_channels,
        f", multiplier {depth_multiplier}" if depth_multiplier > 1 else "",
    )
    channel = "oc" if depth_multiplier == 1 else f"(oc / {depth_multiplier})"
    pixel = [
        f"int8_t *out = out_row + ox * {out_channels};",
        f"for (int oc = 0; oc < {out_channels}; ++oc) {{",
        f"  int32_t acc = {constants.bias}[oc];",
        "  for (int ky = y_begin; ky < y_end; ++ky) {",
        f"    const int8_t *row = {input_row(window.tap_row())} + {channel};",
        "    for (int kx = x_begin; kx < x_end; ++kx) {",
        f"      const int32_t x = row[{window.tap_column()} * {window.in_c}];",
        f"      acc += (x{plus(-constants.input_zero_point)}) * "
        f"{constants.weights}[(ky * {filter_w} + kx) * {out_channels} + oc];",
        "    }",
        "  }",
        *indent(constants.requantize(emission)),
        "}",
    ]
    return _row_lines(window, output_row, pixel)


def emit_depthwise_conv_2d(layer, emission):
    window = _Window(layer, layer.constant(1).shape[1], layer.constant(1).shape[2])
    rows = contiguous_rows(emission.input(0), window.input_row_bytes)
    output_row = f"{emission.output(0)} + oy * {window.output_row_bytes}"
    return whole_op(window, depthwise_conv_2d_rows(layer, emission, rows, output_row))


def window_of(layer):
    """The _Window of a conv or depthwise layer."""
    filters = layer.constant(1)
    return _Window(layer, filters.shape[1], filters.shape[2])


def overlap_depthwise_conv_2d(layer):
    filters = layer.constant(1)
    return _Window(layer, filters.shape[1], filters.shape[2]).overlap()


def emit_transpose_conv(layer, emission):
    filters = np.asarray(layer.constant(1))
    out_channels, filter_h, filter_w, depth = filters.shape
    in_h, in_w, in_c = nhwc(layer.inputs[2])
    out_h, out_w, _ = nhwc(layer.outputs[0])
    stride_h, stride_w = layer.options["stride_h"], layer.options["stride_w"]
    pad_top, pad_left = kernels_conv.transpose_conv_padding(
        layer.options["padding"], (out_h, out_w), (filter_h, filter_w), (stride_h, stride_w)
    )
    input_scale, input_zero_point = quantization(layer.inputs[2])
    output_scale, output_zero_point = quantization(layer.outputs[0])
    multipliers, shifts = per_channel_multipliers(
        input_scale, layer.inputs[1].quantization.scales, output_scale, out_channels
    )
    low, high = output_range(layer.call())
    weights = emission.constant(filters, np.int8, "filter")
    bias_values = _bias(layer, 3, out_channels)
    bias = emission.constant(bias_values, compact_type(bias_values), "bias")
    multiplier = emission.constant(multipliers, np.int32, "multiplier")
    shift = emission.constant(shifts, np.int8, "shift")
    emission.describe(
        f"TRANSPOSE_CONV {in_h}x{in_w}x{in_c} -> {out_h}x{out_w}x{out_channels}, filter {filter_h}x{filter_w}, "
        f"stride {stride_h}x{stride_w}, padding top {pad_top} left {pad_left}"
    )
    source, output = emission.input(2), emission.output(0)
    # Each output pixel gathers the input pixels whose scattered taps land on it: iy * stride + ky = oy + pad.
    return [
        f"for (int oy = 0; oy < {out_h}; ++oy) {{",
        f"  for (int ox = 0; ox < {out_w}; ++ox) {{",
        f"    int8_t *out = {output} + (oy * {out_w} + ox) * {out_channels};",
        f"    for (int oc = 0; oc < {out_channels}; ++oc) {{",
        f"      int32_t acc = {bias}[oc];",
        f"      const int y_limit = oy + {pad_top + 1} < {filter_h} ? oy + {pad_top + 1} : {filter_h};",
        f"      for (int ky = (oy + {pad_top}) % {stride_h}; ky < y_limit; ky += {stride_h}) {{",
        f"        const int iy = (oy + {pad_top} - ky) / {stride_h};",
        f"        if (iy >= {in_h}) {{",
        "          continue;",
        "        }",
        f"        const int x_limit = ox + {pad_left + 1} < {filter_w} ? ox + {pad_left + 1} : {filter_w};",
        f"        for (int kx = (ox + {pad_left}) % {stride_w}; kx < x_limit; kx += {stride_w}) {{",
        f"          const int ix = (ox + {pad_left} - kx) / {stride_w};",
        f"          if (ix >= {in_w}) {{",
        "            continue;",
        "          }",
        f"          const int8_t *x = {source} + (iy * {in_w} + ix) * {in_c};",
        f"          const int8_t *w = {weights} + ((oc * {filter_h} + ky) * {filter_w} + kx) * {depth};",
        f"          for (int ic = 0; ic < {depth}; ++ic) {{",
        f"            acc += (x[ic]{plus(-input_zero_point)}) * w[ic];",
        "          }",
        "        }",
        "      }",
        *indent(
            _requantize_lines(
                emission, "acc", f"{multiplier}[oc]", f"{shift}[oc]", output_zero_point, low, high, "out[oc]"
            ),
            3,
        ),
        "    }",
        "  }",
        "}",
    ]
