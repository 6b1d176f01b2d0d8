"""Write edgecnn_model.h and edgecnn_model.c from a checked graph, its memory plans and the emitters.

The .c file holds, in order: the helpers the layers use, the constant arrays (flash), one static function per
layer, the arena, and edgecnn_invoke calling the layers on their planned offsets. A layer that CMSIS-NN covers
carries both bodies, chosen by -DEDGECNN_USE_CMSIS_NN, and that build has its own plan (its scratch buffers in
the arena). Under -DEDGECNN_TRACE the invoke also hands every tensor an op writes to `edgecnn_trace` (the tests
compare each op with the interpreter).
"""

import dataclasses
import hashlib

from edgecnn.codegen import helpers
from edgecnn.codegen.emission import BOTH, CMSIS, Constants, Emission
from edgecnn.codegen.ops.common import indent, quantization
from edgecnn.codegen.planner import aligned
from edgecnn.export.c_text import c_float, c_string

PREFIX = "edgecnn_"
CMSIS_MACRO = "EDGECNN_USE_CMSIS_NN"
MVE_CONDITION = "defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)"
# The builds, each with its own plan, in the order of the #if that picks one: CMSIS-NN on an MVE CPU (its
# kernels ask for other buffers), CMSIS-NN on any other, and the portable C.
BUILDS = (
    ("mve", f"defined({CMSIS_MACRO}) && {MVE_CONDITION}"),
    ("dsp", f"defined({CMSIS_MACRO})"),
    ("portable", None),
)


@dataclasses.dataclass
class LayerCode:
    """One layer's emitted C: the portable body, and the CMSIS-NN call where CMSIS-NN covers it."""

    layer: object
    emission: Emission
    body: list
    cmsis: object = None  # edgecnn.codegen.cmsis.CmsisCall

    def scratch_bytes(self, build=None):
        """CMSIS-NN's buffer in `build` ("dsp", "mve"), or the largest of them."""
        if self.cmsis is None:
            return 0
        return self.cmsis.scratch.get(build, 0) if build else self.cmsis.largest_scratch


def function_name(layer):
    return f"{PREFIX}op{layer.index}_{layer.name.lower()}"


def emit_layers(graph, emitters, copies):
    """Run every layer's emitter (RESHAPEs that share bytes have none): the constants, helpers and layer code.
    Which constants each build compiles is settled in generate(), by the functions it writes."""
    constants = Constants(PREFIX, CMSIS_MACRO)
    codes, used_helpers = [], []
    for layer in graph.layers:
        spec = emitters.get(layer.name)
        if spec.alias and layer.index not in copies:
            continue
        emission = Emission(layer, constants, PREFIX)
        body = spec.emit(layer, emission)
        emission.build = CMSIS
        cmsis = spec.cmsis(layer, emission) if spec.cmsis is not None else None
        used_helpers += [name for name in emission.helpers if name not in used_helpers]
        codes.append(LayerCode(layer, emission, body, cmsis))
    return codes, constants, used_helpers


def _mark_constants(constants, emission, has_cmsis_body):
    for build, names in emission.used.items():
        for name in names:
            constants.use(name, build if has_cmsis_body else BOTH)


def fused_function(fusion, constants, used_helpers):
    """The fused function of a pair (edgecnn.codegen.fusion): parameters input0 (the producer's input),
    output0 (the consumer's output), ring, and scratch (CMSIS-NN's buffer, in those builds)."""
    from edgecnn.codegen import fusion as fusion_module

    emission = Emission(fusion.consumer, constants, PREFIX)
    portable = fusion_module.fused_lines(fusion, emission)
    emission.build = CMSIS
    cmsis = fusion_module.fused_cmsis_lines(fusion, emission)
    _mark_constants(constants, emission, True)
    used_helpers += [name for name in emission.helpers if name not in used_helpers]
    lines = [
        f"/* ops {fusion.producer.index}-{fusion.consumer.index}: {emission.comment} */",
        f"static void {fused_name(fusion)}(const int8_t *restrict input0, int8_t *restrict output0, "
        "int8_t *restrict ring, int8_t *restrict scratch) {",
        f"#ifdef {CMSIS_MACRO}",
        *indent(cmsis),
        "#else",
        "  (void)scratch;",
        *indent(portable),
        "#endif",
        "}",
    ]
    return "\n".join(lines)


def fused_name(fusion):
    return f"{PREFIX}op{fusion.producer.index}_{fusion.consumer.index}_fused"


def generate(graph, codes, constants, used_helpers, plans, emitters, labels, model_bytes, layout="nhwc"):
    """(header text, source text) for the model; `plans` maps each build of BUILDS to its plan (every build
    fuses the same pairs)."""
    fusions = {fusion.consumer.index: fusion for fusion in plans["portable"].fusions}
    producers = {fusion.producer.index for fusion in fusions.values()}
    functions = []
    for code in codes:
        if code.layer.index in fusions:
            functions.append(fused_function(fusions[code.layer.index], constants, used_helpers))
        elif code.layer.index not in producers:
            _mark_constants(constants, code.emission, code.cmsis is not None)
            functions.append(_function(code, plans))
    header = _header(graph, plans, labels, model_bytes, layout)
    source = _source(graph, codes, plans, emitters, labels, constants, functions, used_helpers)
    return header, source


def _function(code, plans):
    layer, emission = code.layer, code.emission
    # restrict lets the compiler keep values in registers; it would be wrong where the output overlaps an input.
    qualifier = "" if any(plan.overlapping(layer) for plan in plans.values()) else "restrict "
    parameters = [f"const int8_t *{qualifier}input{number}" for number in range(len(emission.parameter_positions))]
    parameters += [f"int8_t *{qualifier}output{number}" for number in range(len(layer.outputs))]
    if code.scratch_bytes():
        parameters.append("int8_t *scratch")
    comment = f"/* op {layer.index}: {emission.comment or layer.name} */"
    lines = [comment, f"static void {function_name(layer)}({', '.join(parameters)}) {{"]
    if code.cmsis is None:
        lines += indent(code.body)
    else:
        # One call for the whole tensor, unless a CMSIS-NN build overlaps the output with the input (row calls).
        overlapped = any(plans[build].overlapping(layer) for build in ("dsp", "mve"))
        cmsis_lines = code.cmsis.lines if overlapped or code.cmsis.whole_lines is None else code.cmsis.whole_lines
        lines.append(f"#ifdef {CMSIS_MACRO}")
        lines += indent(cmsis_lines)
        lines.append("#else")
        if code.scratch_bytes():
            lines.append("  (void)scratch;")
        lines += indent(code.body)
        lines.append("#endif")
    lines.append("}")
    return "\n".join(lines)


def _address(memory_plan, tensor_index):
    buffer = memory_plan.buffer_of[tensor_index]
    base = "output" if buffer.location == "output" else "arena"
    return f"{base} + {buffer.offset}" if buffer.offset else base


def _conditional(variants):
    """#if / #elif / #else around per-build lines: `variants` is [(condition or None, lines)], None last."""
    if len(variants) == 1:
        return variants[0][1]
    lines = []
    for position, (condition, body) in enumerate(variants):
        if condition is None:
            lines.append("#else")
        else:
            lines.append(f"#{'if' if position == 0 else 'elif'} {condition}")
        lines += body
    lines.append("#endif")
    return lines


def _invoke_body(graph, codes, memory_plan, build):
    """The calls of edgecnn_invoke on one build's offsets."""
    input_buffer = memory_plan.buffer_of[graph.input_index]
    lines = [
        f"  if (input != arena + {input_buffer.offset}) {{",
        f"    memcpy(arena + {input_buffer.offset}, input, EDGECNN_INPUT_BYTES);",
        "  }",
    ]
    by_index = {code.layer.index: code for code in codes}
    producers = {fusion.producer.index for fusion in memory_plan.fusions}
    consumers = {fusion.consumer.index: fusion for fusion in memory_plan.fusions}
    for layer in graph.layers:
        code = by_index.get(layer.index)
        if layer.index in producers:
            continue  # its output is traced row by row inside the fused function
        if layer.index in consumers:
            fusion = consumers[layer.index]
            producer = fusion.producer
            scratch = memory_plan.scratch[layer.index]
            ring_bytes = aligned(fusion.ring_bytes(memory_plan.ring_copies))
            arguments = [
                _address(memory_plan, producer.inputs[producer.activation_positions()[0]].index),
                _address(memory_plan, layer.outputs[0].index),
                f"arena + {scratch.offset}",
                f"arena + {scratch.offset + ring_bytes}" if scratch.size > ring_bytes else "0",
            ]
            lines.append(f"  {fused_name(fusion)}({', '.join(arguments)});")
        elif code is not None:
            arguments = [
                _address(memory_plan, layer.inputs[position].index) for position in layer.activation_positions()
            ]
            arguments += [_address(memory_plan, tensor.index) for tensor in layer.outputs]
            if code.scratch_bytes():
                buffer = memory_plan.scratch.get(layer.index)
                arguments.append(f"arena + {buffer.offset}" if buffer is not None else "0")
            lines.append(f"  {function_name(layer)}({', '.join(arguments)});")
        for tensor in layer.outputs:
            lines.append(
                f"  EDGECNN_TRACE_TENSOR({tensor.index}, {_address(memory_plan, tensor.index)}, {tensor.nbytes});"
            )
    return lines


def _invoke(graph, codes, plans):
    variants = [(condition, _invoke_body(graph, codes, plans[build], build)) for build, condition in BUILDS]
    return "\n".join(
        [
            "int edgecnn_invoke(const int8_t *input, int8_t *output) {",
            "  int8_t *const arena = edgecnn_arena_bytes();",
            "  edgecnn_status = 0;",
            *_conditional(variants),
            "  return edgecnn_status;",
            "}",
        ]
    )


def input_offset_lines(graph, plans):
    return _conditional(
        [
            (condition, [f"  return edgecnn_arena_bytes() + {plans[build].buffer_of[graph.input_index].offset};"])
            for build, condition in BUILDS
        ]
    )


def arena_macro_lines(plans):
    return _conditional(
        [(condition, [f"#define EDGECNN_ARENA_BYTES {plans[build].arena_bytes}"]) for build, condition in BUILDS]
    )


def _shape_text(tensor):
    return "x".join(str(size) for size in tensor.shape)


def _output_macros(graph, memory_plan):
    """How many outputs there are and their sizes (an initializer), and for models with several where each sits
    in the output buffer (EDGECNN_OUTPUT_SCALE and _ZERO_POINT are output 0's)."""
    sizes = ", ".join(str(graph.tensors[index].nbytes) for index in graph.output_indices)
    lines = [f"#define EDGECNN_OUTPUT_COUNT {len(graph.output_indices)}", f"#define EDGECNN_OUTPUT_SIZES {{{sizes}}}"]
    if len(graph.output_indices) > 1:
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


def _header(graph, plans, labels, model_bytes, layout):
    memory_plan = plans["portable"]
    input_tensor = graph.tensors[graph.input_index]
    output_tensor = graph.tensors[graph.output_index]
    input_scale, input_zero_point = quantization(input_tensor)
    output_scale, output_zero_point = quantization(output_tensor)
    shape = list(input_tensor.shape)
    dimensions = shape[-3:] if len(shape) >= 3 else [1, 1, shape[-1] if shape else 1]
    if layout == "nchw":
        dimensions = dimensions[1:] + dimensions[:1]
    height, width, channels = dimensions
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
/* The arena of this build: CMSIS-NN's kernels need buffers of their own, and on MVE CPUs other ones. */
{chr(10).join(arena_macro_lines(plans))}
#define EDGECNN_INPUT_HEIGHT {height}
#define EDGECNN_INPUT_WIDTH {width}
#define EDGECNN_INPUT_CHANNELS {channels}
#define EDGECNN_INPUT_CHANNELS_FIRST {1 if layout == "nchw" else 0} /* 1: the input is (C, H, W), as PyTorch's */
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
 * the copy (and the RAM of a separate input buffer). The invoke overwrites it: write it again every time. */
int8_t *edgecnn_input_buffer(void);

extern const char *const edgecnn_labels[];

#ifdef __cplusplus
}}
#endif

#endif /* EDGECNN_MODEL_H_ */
"""


def _source(graph, codes, plans, emitters, labels, constants, functions, used_helpers):
    memory_plan, cmsis_plan = plans["portable"], plans["dsp"]
    ops = ", ".join(dict.fromkeys(layer.name for layer in graph.layers))
    label_lines = "\n".join(f"  {c_string(label)}," for label in labels) or '  ""'
    uses_cmsis = any(code.cmsis is not None for code in codes)
    cmsis_include = (
        f"\n#ifdef {CMSIS_MACRO}\n#include \"arm_nnfunctions.h\"\n#if {MVE_CONDITION}\n"
        "#define EDGECNN_SCRATCH(dsp, mve) (mve)\n#else\n#define EDGECNN_SCRATCH(dsp, mve) (dsp)\n#endif\n#endif\n"
        if uses_cmsis
        else ""
    )
    parts = [
        f"""/* Generated by edgecnn export --target c from {graph.source}; do not edit.
 * Ops: {ops}.
 * Arena: {memory_plan.arena_bytes} bytes, {cmsis_plan.arena_bytes} with CMSIS-NN (TFLite Micro's greedy plan of the
 * same tensors: {memory_plan.greedy_arena_bytes} bytes; peak of live tensors: {memory_plan.peak_live_bytes} bytes). */
#include "edgecnn_model.h"

#include <string.h>
{cmsis_include}
/* The kernels rely on arithmetic right shifts of negative values, as TFLite Micro does. */
typedef char edgecnn_arithmetic_shift_check[((-1) >> 1) == -1 ? 1 : -1];

#ifdef EDGECNN_TRACE
void edgecnn_trace(int tensor_index, uint32_t offset, const int8_t *data, uint32_t bytes);
#define EDGECNN_TRACE_PART(tensor, offset, data, bytes) edgecnn_trace((tensor), (uint32_t)(offset), (data), (bytes))
#else
#define EDGECNN_TRACE_PART(tensor, offset, data, bytes) ((void)0)
#endif
#define EDGECNN_TRACE_TENSOR(tensor, data, bytes) EDGECNN_TRACE_PART((tensor), 0, (data), (bytes))

/* 0, or 1 when a CMSIS-NN call failed or wanted a larger buffer than planned. */
static int edgecnn_status;""",
        helpers.helper_source(used_helpers),
        constants.source(),
        "\n\n".join(functions),
        f"""/* The arena as 32-bit words: 4-byte aligned without compiler extensions. */
static int32_t edgecnn_arena[(EDGECNN_ARENA_BYTES + 3) / 4 + (EDGECNN_ARENA_BYTES == 0)];

static int8_t *edgecnn_arena_bytes(void) {{
  return (int8_t *)edgecnn_arena;
}}

int8_t *edgecnn_input_buffer(void) {{
{chr(10).join(input_offset_lines(graph, plans))}
}}

const char *const edgecnn_labels[{max(len(labels), 1)}] = {{
{label_lines}
}};""",
        _invoke(graph, codes, plans),
    ]
    return "\n\n".join(part for part in parts if part) + "\n"
