"""C fragments the emitters share: quantization parameters, window bounds, clamps, nested loops, row overlap."""

import math

import numpy as np

from edgecnn.reference.kernels_common import scale_and_zero_point


def quantization(tensor):
    """(scale, zero point) of a per-tensor quantized tensor, as the interpreter reads them."""
    return scale_and_zero_point(tensor)


def element_count(shape):
    return int(np.prod(shape, dtype=np.int64)) if len(shape) else 1


def nhwc(tensor):
    """(height, width, channels) of a batch-1 NHWC tensor."""
    _, height, width, channels = tensor.shape
    return int(height), int(width), int(channels)


def plus(value):
    """` + value` / ` - |value|` for adding a constant in C, nothing for 0."""
    value = int(value)
    if value == 0:
        return ""
    return f" + {value}" if value > 0 else f" - {-value}"


def clamp(variable, low, high):
    """C statements clamping `variable` to [low, high]; nothing for a bound the int8 range already gives."""
    lines = []
    if low > -128 or high < 127:
        lines.append(f"{variable} = {variable} < {low} ? {low} : {variable};")
        lines.append(f"{variable} = {variable} > {high} ? {high} : {variable};")
    else:
        lines.append(f"{variable} = {variable} < -128 ? -128 : {variable};")
        lines.append(f"{variable} = {variable} > 127 ? 127 : {variable};")
    return lines


def window_bounds(axis, output_index, stride, pad, filter_size, dilation, input_size, padded):
    """C declarations of `{axis}_begin`/`{axis}_end` (the filter taps inside the input) and `in_{axis}0`.

    TFLite's kernels skip taps outside the input (for conv, padding counts as the zero point); with no
    padding every tap of every window is inside and the bounds are the constants 0 and filter_size.
    """
    origin = f"in_{axis}0"
    lines = [f"const int {origin} = {output_index} * {stride} - {pad};"]
    if not padded:
        lines.append(f"const int {axis}_begin = 0;")
        lines.append(f"const int {axis}_end = {filter_size};")
        return lines
    if dilation == 1:
        lines.append(f"const int {axis}_begin = {origin} < 0 ? -{origin} : 0;")
        lines.append(
            f"const int {axis}_end = {input_size} - {origin} < {filter_size} ? {input_size} - {origin} : "
            f"{filter_size};"
        )
    else:
        lines.append(f"const int {axis}_begin = {origin} < 0 ? (-{origin} + {dilation - 1}) / {dilation} : 0;")
        lines.append(f"const int {axis}_limit = ({input_size} - {origin} + {dilation - 1}) / {dilation};")
        lines.append(f"const int {axis}_end = {axis}_limit < {filter_size} ? {axis}_limit : {filter_size};")
    return lines


def needs_padding(input_size, output_size, stride, pad_before, filter_size, dilation):
    """Whether some window reaches outside the input (then taps need bounds)."""
    if pad_before > 0:
        return True
    last = (output_size - 1) * stride - pad_before + (filter_size - 1) * dilation
    return last >= input_size


def indent(lines, depth=1):
    prefix = "  " * depth
    return [prefix + line if line else line for line in lines]


def row_overlap_distance(output_rows, output_row_bytes, input_row_bytes, first_row_needed):
    """Bytes the output must start below its input so that, computed row by row in increasing address order,
    no output row overwrites input that is still to be read.

    While output row r is written, input rows from first_row_needed(r) on are still read (by row r itself and
    every later row); the rows before them are dead. Row r ends output_row_bytes * (r + 1) bytes after the
    output's start, so with the output starting D bytes below the input the rows are safe when
    D >= (r + 1) * output_row_bytes - first_row_needed(r) * input_row_bytes for every r.
    """
    distance = 0
    for row in range(output_rows):
        needed = max(0, first_row_needed(row))
        distance = max(distance, (row + 1) * output_row_bytes - needed * input_row_bytes)
    return distance


def coalesced(shape, *stride_lists):
    """Merge adjacent axes that every operand walks contiguously: fewer, longer loops over the same elements.

    `stride_lists` are per-operand element strides over `shape` (0 for a broadcast axis). Returns the merged
    shape and strides, axes of size 1 dropped.
    """
    axes = [(size, [strides[axis] for strides in stride_lists]) for axis, size in enumerate(shape) if size != 1]
    merged = []
    for size, strides in axes:
        if merged:
            previous_size, previous_strides = merged[-1]
            if all(p == s * size for p, s in zip(previous_strides, strides)):
                merged[-1] = (previous_size * size, strides)
                continue
        merged.append((size, strides))
    if not merged:
        return [1], [[0] for _ in stride_lists]
    shape = [size for size, _ in merged]
    strides = [[step[operand] for _, step in merged] for operand in range(len(stride_lists))]
    return shape, strides


def contiguous_strides(shape):
    strides = [1] * len(shape)
    for axis in range(len(shape) - 2, -1, -1):
        strides[axis] = strides[axis + 1] * int(shape[axis + 1])
    return strides


def broadcast_strides(operand_shape, output_shape):
    """Element strides of an operand over the output's axes, right-aligned, 0 where it broadcasts."""
    operand_shape = [int(size) for size in operand_shape]
    rank = len(output_shape)
    padded = [1] * (rank - len(operand_shape)) + operand_shape
    own = contiguous_strides(padded)
    return [0 if padded[axis] == 1 and output_shape[axis] != 1 else own[axis] for axis in range(rank)]


def nested_loops(shape, strides, names, body):
    """C loops over `shape` with one offset per operand: `names[k]` = sum of index * strides[k][axis].

    `body` is a list of C lines using the offsets; the innermost loop runs over the last axis.
    """
    rank = len(shape)
    counters = [f"i{axis}" for axis in range(rank)]
    lines = []
    for axis, counter in enumerate(counters):
        lines.append("  " * axis + f"for (int {counter} = 0; {counter} < {shape[axis]}; ++{counter}) {{")
    inner = []
    for name, step in zip(names, strides):
        terms = [
            counters[axis] if step[axis] == 1 else f"{counters[axis]} * {step[axis]}"
            for axis in range(rank)
            if step[axis]
        ]
        inner.append(f"const int {name} = {' + '.join(terms) if terms else '0'};")
    lines.extend(indent(inner + list(body), rank))
    for axis in range(rank - 1, -1, -1):
        lines.append("  " * axis + "}")
    return lines


def log2_ceiling(value):
    return max(0, math.ceil(math.log2(value))) if value > 0 else 0
