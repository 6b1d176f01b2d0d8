"""What makes a converted model full int8, and its input/output type.

`require_full_int8` is the check after a conversion that may leave float ops (litert-torch keeps every op its
PT2E quantizer does not annotate in float32, between DEQUANTIZE and QUANTIZE): the model must load and allocate
in LiteRT, every op must run on integer tensors, and its input and output must be int8.

`set_io_type` gives such a model uint8 or float32 input and output the way TFLite's converter does for Keras
models: a QUANTIZE (uint8 or float32 -> int8) before the first op, a QUANTIZE (int8 -> uint8) or DEQUANTIZE
(int8 -> float32) after the last; uint8 keeps the scale and adds 128 to the zero point.
"""

import copy

from edgecnn import extras, tflite
from edgecnn.errors import ConfigurationError, UnsupportedModelError, short_reason

IO_TYPES = ("int8", "uint8", "float32")
FLOAT_TYPES = ("FLOAT32", "FLOAT16", "FLOAT64", "BFLOAT16")
# BuiltinOperator and TensorType values of the TFLite schema, and the op versions TFLite's converter writes.
QUANTIZE, DEQUANTIZE = 114, 6
TENSOR_TYPES = {"int8": 9, "uint8": 3, "float32": 0}
OP_VERSIONS = {QUANTIZE: 1, DEQUANTIZE: 2}


def float_ops(model):
    """The ops of the main graph that read or write a float tensor."""
    graph = model.main
    found = []
    for operator in graph.operators:
        tensors = [graph.tensors[index] for index in (*operator.inputs, *operator.outputs) if index >= 0]
        if any(tensor.type_name in FLOAT_TYPES for tensor in tensors):
            found.append(operator)
    return found


def require_full_int8(tflite_bytes, where, locate=None, hint=""):
    """Raise UnsupportedModelError naming the float ops, or why LiteRT cannot run the model, unless full int8.

    `locate` turns a tensor name into where it comes from in the source model (or None); `hint` says how to fix
    float ops, for the converter at hand.
    """
    interpreter_module = extras.require("ai_edge_litert.interpreter", "checking the converted model")
    try:
        with extras.quiet_native_output():
            interpreter_module.Interpreter(model_content=bytes(tflite_bytes)).allocate_tensors()
    except Exception as error:  # noqa: BLE001 - ValueError (unknown op) or RuntimeError (a kernel's Prepare)
        reason = short_reason(str(error).strip() or type(error).__name__, 200)
        raise UnsupportedModelError(f"{where} converts, but LiteRT cannot run the result: {reason}") from error
    model = tflite.read_model(bytes(tflite_bytes))
    graph = model.main
    floats = float_ops(model)
    if floats:
        names = ", ".join(f"op {operator.index} ({operator.name})" for operator in floats[:4])
        more = f" and {len(floats) - 4} more" if len(floats) > 4 else ""
        computing = [operator for operator in floats if operator.name not in ("QUANTIZE", "DEQUANTIZE")]
        first = (computing or floats)[0]
        source = locate(graph.tensors[first.outputs[0]].name) if locate and first.outputs else None
        location = f"in {source}" if source else None
        if location is None and first.outputs and first.outputs[0] in graph.outputs:
            location = "the model's output"
        raise UnsupportedModelError(
            f"{where} converts, but not to full int8: {names}{more} run in float"
            + (f" (op {first.index}, {location})" if location else "")
            + (f"; {hint}" if hint else "")
        )
    for kind, indices in (("input", graph.inputs), ("output", graph.outputs)):
        for index in indices:
            tensor = graph.tensors[index]
            if tensor.type_name != "INT8" or not tensor.quantization.is_quantized:
                raise UnsupportedModelError(
                    f"{where} converts, but its {kind} {tensor.name!r} is {tensor.type_name}, not quantized int8"
                )


def set_io_type(tflite_bytes, io_type):
    """The full-int8 model with `io_type` input and output ("int8" returns it unchanged)."""
    if io_type not in IO_TYPES:
        raise ConfigurationError(f"unknown --io {io_type!r}; use one of {', '.join(IO_TYPES)}")
    if io_type == "int8":
        return bytes(tflite_bytes)
    flatbuffer_utils = extras.flatbuffer_utils("changing the model's input and output type")
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(tflite_bytes))
    schema = flatbuffer_utils.schema_fb
    graph = model.subgraphs[0]
    renamed = {}
    for position, index in enumerate(graph.inputs):
        outer = _boundary_tensor(model, schema, graph, index, io_type)
        graph.operators.insert(0, _operator(model, schema, QUANTIZE, outer, index))
        graph.inputs[position] = renamed[index] = outer
    for position, index in enumerate(graph.outputs):
        outer = _boundary_tensor(model, schema, graph, index, io_type)
        code = QUANTIZE if io_type == "uint8" else DEQUANTIZE
        graph.operators.append(_operator(model, schema, code, index, outer))
        graph.outputs[position] = renamed[index] = outer
    for signature in model.signatureDefs or []:
        for entry in (*(signature.inputs or []), *(signature.outputs or [])):
            entry.tensorIndex = renamed.get(entry.tensorIndex, entry.tensorIndex)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _boundary_tensor(model, schema, graph, index, io_type):
    """A new tensor like int8 tensor `index`, in `io_type`; it takes the old name, the int8 one gets "_int8"."""
    inner = graph.tensors[index]
    outer = copy.deepcopy(inner)
    outer.type = TENSOR_TYPES[io_type]
    if io_type == "float32":
        outer.quantization = None
    else:
        outer.quantization.zeroPoint = [int(point) + 128 for point in inner.quantization.zeroPoint]
    model.buffers.append(schema.BufferT())
    outer.buffer = len(model.buffers) - 1
    name = inner.name.decode("utf-8") if isinstance(inner.name, bytes) else inner.name
    inner.name = f"{name}_int8"
    graph.tensors.append(outer)
    return len(graph.tensors) - 1


def _operator(model, schema, builtin_code, input_index, output_index):
    operator = schema.OperatorT()
    operator.opcodeIndex = _opcode_index(model, schema, builtin_code)
    operator.inputs = [input_index]
    operator.outputs = [output_index]
    return operator


def _opcode_index(model, schema, builtin_code):
    for position, code in enumerate(model.operatorCodes):
        if max(code.builtinCode, code.deprecatedBuiltinCode) == builtin_code:
            code.version = max(code.version, OP_VERSIONS[builtin_code])
            return position
    code = schema.OperatorCodeT()
    code.builtinCode = builtin_code
    code.deprecatedBuiltinCode = min(builtin_code, 127)
    code.version = OP_VERSIONS[builtin_code]
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1
