"""RESHAPE, SQUEEZE and EXPAND_DIMS (no code: the output is the input's bytes, copied only where the planner
cannot share them) and CONCATENATION (blocks copied in output order, clamped to a fused activation).
"""

from edgecnn.codegen.ops.common import clamp, element_count, indent
from edgecnn.reference.kernels_common import output_range


def emit_copy(layer, emission):
    """RESHAPE where its output cannot share the input's bytes (the model's input to its output)."""
    count = layer.inputs[0].nbytes
    emission.describe(f"{layer.name}: copy {count} bytes")
    return [f"memcpy({emission.output(0)}, {emission.input(0)}, {count});"]


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
