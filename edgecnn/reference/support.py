"""Which ops of the NumPy interpreter the two runtimes it reproduces lack, or support only in part.

Both flavors run every op of interpreter.KERNELS with the reference kernels' arithmetic; these tables say where
a comparison can only be with one runtime, so that `verify` can tell "TFLite Micro has no X: compared with the
reference kernels only". The facts were measured on the pip packages (tflite_micro, ai-edge-litert 2.3) with
single-op int8 models (tests/reference/test_interpreter_converter_ops.py) and read in their sources.
"""

# Op -> why the pip TFLite Micro cannot run it. Every op of the interpreter is registered there (its
# _runtime.so exports Register_<OP> for each, and each single-op model runs), so none is listed today.
MICRO_UNSUPPORTED_OPS = {}

# Op -> the cases TFLite Micro rejects at load although it has the op (its Prepare checks).
MICRO_LIMITS = {
    "STRIDED_SLICE": "at most 4-D input, and ellipsis_mask / new_axis_mask are ignored (strided_slice_common.cc)",
    "TRANSPOSE": "at most 5-D input (transpose_common.cc)",
    "SLICE": "at most 5-D input (slice.cc)",
    "PAD": "at most 5-D input (pad_common.cc)",
    "PADV2": "at most 5-D input (pad_common.cc)",
    "BATCH_MATMUL": "operands of at most 5-D (batch_matmul.cc)",
    "GATHER": "int32 indices only (gather.cc)",
    "REDUCE_MAX": "input and output with the same scale and zero point (reduce_common.cc)",
}

# Op -> why LiteRT's BUILTIN_REF resolver cannot run its int8 version (register_ref.cc registers only version 1).
BUILTIN_REF_UNSUPPORTED_OPS = {
    "DEPTH_TO_SPACE": "BUILTIN_REF registers DEPTH_TO_SPACE version 1 (float32/uint8) only; an int8 model "
    '(version 2) fails with "Didn\'t find op for builtin opcode DEPTH_TO_SPACE version 2"',
}

# Op -> how BUILTIN_REF's int8 kernel goes wrong, where the interpreter follows the kernel's evident intent (the
# reference header's arithmetic, which TFLite Micro and the optimized TFLite kernel compute) instead.
BUILTIN_REF_DEFECTS = {
    "SUM": "ai-edge-litert's reference QuantizedMeanOrSum<int8_t> passes GetTensorData<uint8_t> (reduce.cc): "
    "int8 inputs are summed as uint8 bit patterns and the result clamped to 0..255; TFLite Micro and the "
    "optimized kernel sum the int8 values",
}


def micro_problems(interpreter):
    """(op index, op name, reason) for every op of `interpreter`'s model that TFLite Micro lacks or rejects."""
    tensors = interpreter.subgraph.tensors
    problems = []
    for operator in interpreter.subgraph.operators:
        reason = MICRO_UNSUPPORTED_OPS.get(operator.name) or _micro_limit_problem(operator, tensors)
        if reason:
            problems.append((operator.index, operator.name, reason))
    return problems


def _micro_limit_problem(operator, tensors):
    name, options = operator.name, operator.options
    shapes = [tensors[index].shape for index in operator.inputs if index >= 0]
    if name == "STRIDED_SLICE":
        if len(shapes[0]) > 4:
            return f"TFLite Micro's STRIDED_SLICE takes at most 4-D input, this one is {len(shapes[0])}-D"
        if options.get("ellipsis_mask") or options.get("new_axis_mask"):
            return "TFLite Micro's STRIDED_SLICE ignores ellipsis_mask and new_axis_mask"
    limits = {"TRANSPOSE": 5, "SLICE": 5, "PAD": 5, "PADV2": 5, "BATCH_MATMUL": 5}
    if name in limits and max(len(shape) for shape in shapes[:2]) > limits[name]:
        return f"TFLite Micro's {name} takes at most {limits[name]}-D tensors"
    if name == "GATHER" and tensors[operator.inputs[1]].type_name != "INT32":
        return "TFLite Micro's GATHER takes int32 indices only"
    if name == "REDUCE_MAX":
        first, output = tensors[operator.inputs[0]].quantization, tensors[operator.outputs[0]].quantization
        if (float(first.scales[0]), int(first.zero_points[0])) != (
            float(output.scales[0]),
            int(output.zero_points[0]),
        ):
            return "TFLite Micro's REDUCE_MAX needs the input's scale and zero point on its output"
    return None
