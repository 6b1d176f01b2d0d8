"""Write edgecnn_model.h and edgecnn_model.c from a checked graph, its memory plan and the emitters.

The .c file holds, in order: the helpers the layers use, the constant arrays (flash), one static function per
layer, the arena, and edgecnn_invoke calling the layers on their planned offsets. Under -DEDGECNN_TRACE the
invoke also hands every tensor an op writes to `edgecnn_trace` (the tests compare each op with the interpreter).
"""

import hashlib

from edgecnn.codegen import helpers
from edgecnn.codegen.emission import Constants, Emission
from edgecnn.codegen.ops.common import indent, quantization
from edgecnn.export.c_text import c_float, c_string

PREFIX = "edgecnn_"


def function_name(layer):
    return f"{PREFIX}op{layer.index}_{layer.name.lower()}"


def generate(graph, memory_plan, emitters, labels, model_bytes):
    """(header text, source text) for the model."""
    constants = Constants(f"{PREFIX}")
    functions, used_helpers = [], []
    for layer in graph.layers:
        spec = emitters.get(layer.name)
        if spec.alias and layer.index not in memory_plan.copies:
            continue
        emission = Emission(layer, constants, PREFIX)
        body = spec.emit(layer, emission)
        used_helpers += [name for name in emission.helpers if name not in used_helpers]
        functions.append(_function(layer, emission, body, memory_plan))
    header = _header(graph, memory_plan, labels, model_bytes)
    source = _source(graph, memory_plan, emitters, labels, model_bytes, constants, functions, used_helpers)
    return header, source, constants.total_bytes


def _function(layer, emission, body, memory_plan):
    # restrict lets the compiler keep values in registers; it would be wrong where the output overlaps an input.
    qualifier = "" if memory_plan.overlapping(layer) else "restrict "
    parameters = [f"const int8_t *{qualifier}input{number}" for number in range(len(emission.parameter_positions))]
    parameters += [f"int8_t *{qualifier}output{number}" for number in range(len(layer.outputs))]
    comment = f"/* op {layer.index}: {emission.comment or layer.name} */"
    lines = [comment, f"static void {function_name(layer)}({', '.join(parameters)}) {{"]
    lines += indent(body)
    lines.append("}")
    return "\n".join(lines)


def _address(memory_plan, tensor_index):
    buffer = memory_plan.buffer_of[tensor_index]
    base = "output" if buffer.location == "output" else "arena"
    return f"{base} + {buffer.offset}" if buffer.offset else base


def _invoke(graph, memory_plan, emitters):
    input_buffer = memory_plan.buffer_of[graph.input_index]
    lines = [
        "int edgecnn_invoke(const int8_t *input, int8_t *output) {",
        "  int8_t *const arena = edgecnn_arena_bytes();",
        f"  if (input != arena + {input_buffer.offset}) {{",
        f"    memcpy(arena + {input_buffer.offset}, input, EDGECNN_INPUT_BYTES);",
        "  }",
    ]
    for layer in graph.layers:
        spec = emitters.get(layer.name)
        if not spec.alias or layer.index in memory_plan.copies:
            arguments = [
                _address(memory_plan, layer.inputs[position].index) for position in layer.activation_positions()
            ]
            arguments += [_address(memory_plan, tensor.index) for tensor in layer.outputs]
            lines.append(f"  {function_name(layer)}({', '.join(arguments)});")
        for tensor in layer.outputs:
            lines.append(
                f"  EDGECNN_TRACE_TENSOR({tensor.index}, {_address(memory_plan, tensor.index)}, {tensor.nbytes});"
            )
    lines += ["  return 0;", "}"]
    return "\n".join(lines)


def _shape_text(tensor):
    return "x".join(str(size) for size in tensor.shape)


def _output_macros(graph, memory_plan):
    """Where each output sits in the output buffer, for models with several (EDGECNN_OUTPUT_* is output 0)."""
    if len(graph.output_indices) == 1:
        return ""
    lines = [f"#define EDGECNN_OUTPUT_COUNT {len(graph.output_indices)}"]
    for number, index in enumerate(graph.output_indices):
        tensor = graph.tensors[index]
        scale, zero_point = quantization(tensor)
        lines += [
            f"#define EDGECNN_OUTPUT{number}_OFFSET {memory_plan.buffer_of[index].offset}",
            f"#define EDGECNN_OUTPUT{number}_BYTES {tensor.nbytes}",
            f"#define EDGECNN_OUTPUT{number}_SCALE {c_float(scale)}",
            f"#define EDGECNN_OUTPUT{number}_ZERO_POINT {zero_point}",
        ]
    return "\n".join(lines) + "\n"


def _header(graph, memory_plan, labels, model_bytes):
    input_tensor = graph.tensors[graph.input_index]
    output_tensor = graph.tensors[graph.output_index]
    input_scale, input_zero_point = quantization(input_tensor)
    output_scale, output_zero_point = quantization(output_tensor)
    shape = list(input_tensor.shape)
    height, width, channels = (shape[-3:] if len(shape) >= 3 else [1, 1, shape[-1] if shape else 1])
    digest = hashlib.sha256(model_bytes).hexdigest()
    outputs = ", ".join(_shape_text(graph.tensors[index]) for index in graph.output_indices)
    return f"""/* Generated by edgecnn export --target c from {graph.source} (SHA-256 {digest}); do not edit.
 * Input {_shape_text(input_tensor)} int8, output{'s' if len(graph.output_indices) > 1 else ''} {outputs} int8.
 * Activation memory: one static arena of EDGECNN_ARENA_BYTES; the output is written to the caller's buffer. */
#ifndef EDGECNN_MODEL_H_
#define EDGECNN_MODEL_H_

#include <stdint.h>

#define EDGECNN_INPUT_BYTES {input_tensor.nbytes}
#define EDGECNN_OUTPUT_BYTES {memory_plan.output_bytes}
#define EDGECNN_ARENA_BYTES {memory_plan.arena_bytes}
#define EDGECNN_INPUT_HEIGHT {height}
#define EDGECNN_INPUT_WIDTH {width}
#define EDGECNN_INPUT_CHANNELS {channels}
#define EDGECNN_INPUT_SCALE {c_float(input_scale)}
#define EDGECNN_INPUT_ZERO_POINT {input_zero_point}
#define EDGECNN_OUTPUT_SCALE {c_float(output_scale)}
#define EDGECNN_OUTPUT_ZERO_POINT {output_zero_point}
#define EDGECNN_NUM_LABELS {len(labels)}
{_output_macros(graph, memory_plan)}
#ifdef __cplusplus
extern "C" {{
#endif

/* Runs the model on `input` (EDGECNN_INPUT_BYTES, quantized with the input scale and zero point) and writes
 * `output` (EDGECNN_OUTPUT_BYTES). Returns 0 on success. Not reentrant: the arena is static. */
int edgecnn_invoke(const int8_t *input, int8_t *output);

/* Where the input lives inside the arena: quantize straight into it and pass it to edgecnn_invoke to save
 * the copy (and the RAM of a separate input buffer). */
int8_t *edgecnn_input_buffer(void);

extern const char *const edgecnn_labels[];

#ifdef __cplusplus
}}
#endif

#endif /* EDGECNN_MODEL_H_ */
"""


def _source(graph, memory_plan, emitters, labels, model_bytes, constants, functions, used_helpers):
    ops = ", ".join(dict.fromkeys(layer.name for layer in graph.layers))
    input_buffer = memory_plan.buffer_of[graph.input_index]
    label_lines = "\n".join(f"  {c_string(label)}," for label in labels) or '  ""'
    parts = [
        f"""/* Generated by edgecnn export --target c from {graph.source}; do not edit.
 * Ops: {ops}.
 * Arena: {memory_plan.arena_bytes} bytes (TFLite Micro's greedy plan of the same tensors:
 * {memory_plan.greedy_arena_bytes} bytes; peak of live tensors: {memory_plan.peak_live_bytes} bytes). */
#include "edgecnn_model.h"

#include <string.h>

/* The kernels rely on arithmetic right shifts of negative values, as TFLite Micro does. */
typedef char edgecnn_arithmetic_shift_check[((-1) >> 1) == -1 ? 1 : -1];

#ifdef EDGECNN_TRACE
void edgecnn_trace(int tensor_index, const int8_t *data, uint32_t bytes);
#define EDGECNN_TRACE_TENSOR(tensor, data, bytes) edgecnn_trace((tensor), (data), (bytes))
#else
#define EDGECNN_TRACE_TENSOR(tensor, data, bytes) ((void)0)
#endif""",
        helpers.helper_source(used_helpers),
        constants.source(),
        "\n\n".join(functions),
        f"""/* The arena as 32-bit words: 4-byte aligned without compiler extensions. */
static int32_t edgecnn_arena[{max(1, (memory_plan.arena_bytes + 3) // 4)}];

static int8_t *edgecnn_arena_bytes(void) {{
  return (int8_t *)edgecnn_arena;
}}

int8_t *edgecnn_input_buffer(void) {{
  return edgecnn_arena_bytes() + {input_buffer.offset};
}}

const char *const edgecnn_labels[{max(len(labels), 1)}] = {{
{label_lines}
}};""",
        _invoke(graph, memory_plan, emitters),
    ]
    return "\n\n".join(part for part in parts if part) + "\n"
