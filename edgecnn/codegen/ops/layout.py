"""Data movement: RESHAPE (no code: the output is the input's bytes), PAD and CONCATENATION.

Outputs are written in increasing address order, block by block.
"""

import numpy as np

from edgecnn.codegen.ops.common import clamp, contiguous_strides, element_count, indent, quantization
from edgecnn.reference.kernels_common import output_range


def emit_copy(layer, emission):
    """RESHAPE where its output cannot share the input's bytes (the model's input to its output)."""
    count = layer.inputs[0].nbytes
    emission.describe(f"{layer.name}: copy {count} bytes")
    return [f"memcpy({emission.output(0)}, {emission.input(0)}, {count});"]


def emit_pad(layer, emission):
    shape = [int(size) for size in layer.inputs[0].shape]
    output_shape = [int(size) for size in layer.outputs[0].shape]
    paddings = np.asarray(layer.constant(1), np.int64).reshape(-1, 2)
    _, fill = quantization(layer.outputs[0])
    emission.describe(
        f"{layer.name} {'x'.join(map(str, shape))} -> {'x'.join(map(str, output_shape))} with {fill}"
    )
    source, output = emission.input(0), emission.output(0)
    rank = len(shape)
    # The innermost axis is copied as one block between two fills; the outer axes loop.
    before, after = int(paddings[-1][0]), int(paddings[-1][1])
    row = shape[-1]
    input_strides = contiguous_strides(shape)
    lines = [f"int8_t *out = {output};"]
    outer = list(range(rank - 1))
    for depth, axis in enumerate(outer):
        lines.append("  " * depth + f"for (int o{axis} = 0; o{axis} < {output_shape[axis]}; ++o{axis}) {{")
    inside = [f"(o{axis} >= {int(paddings[axis][0])} && o{axis} < {int(paddings[axis][0]) + shape[axis]})"
              for axis in outer if paddings[axis].any()]
    offset = " + ".join(
        f"(o{axis} - {int(paddings[axis][0])}) * {input_strides[axis]}" if paddings[axis][0] else
        f"o{axis} * {input_strides[axis]}"
        for axis in outer
    ) or "0"
    copy = []
    if before:
        copy.append(f"memset(out, {fill}, {before});")
    copy.append(f"memcpy(out + {before}, {source} + {offset}, {row});")
    if after:
        copy.append(f"memset(out + {before + row}, {fill}, {after});")
    body = []
    if inside:
        body.append(f"if ({' && '.join(inside)}) {{")
        body += indent(copy)
        body.append("} else {")
        body.append(f"  memset(out, {fill}, {output_shape[-1]});")
        body.append("}")
    else:
        body += copy
    body.append(f"out += {output_shape[-1]};")
    lines += indent(body, len(outer))
    for depth in range(len(outer) - 1, -1, -1):
        lines.append("  " * depth + "}")
    return lines


def emit_concatenation(layer, emission):
    output_shape = [int(size) for size in layer.outputs[0].shape]
    rank = len(output_shape)
    axis = layer.options["axis"] % rank
    low, high = output_range(layer.call())
    outer = element_count(output_shape[:axis])
    emission.describe(
        f"CONCATENATION of {len(layer.inputs)} tensors along axis {axis} into {'x'.join(map(str, output_shape))}"
    )
    output = emission.output(0)
    lines = [f"int8_t *out = {output};", f"for (int outer = 0; outer < {outer}; ++outer) {{"]
    for position, tensor in enumerate(layer.inputs):
        shape = [int(size) for size in tensor.shape]
        shape = [1] * (rank - len(shape)) + shape
        block = element_count(shape[axis:])
        source = emission.input(position)
        if low > -128 or high < 127:
            lines += [
                f"  for (int i = 0; i < {block}; ++i) {{",
                f"    int32_t value = {source}[outer * {block} + i];",
                *indent(clamp("value", low, high), 2),
                "    out[i] = (int8_t)value;",
                "  }",
            ]
        else:
            lines.append(f"  memcpy(out, {source} + outer * {block}, {block});")
        lines.append(f"  out += {block};")
    lines.append("}")
    return lines
