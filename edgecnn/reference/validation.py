"""Load-time checks: a model the NumPy interpreter cannot run fails before running, naming op and tensor."""

import numpy as np

from edgecnn.errors import UnsupportedModelError

# Inputs that must be constant, by op: (position, what it is).
CONSTANT_INPUTS = {
    "CONV_2D": ((1, "filter"),),
    "DEPTHWISE_CONV_2D": ((1, "filter"),),
    "FULLY_CONNECTED": ((1, "weights"),),
    "TRANSPOSE_CONV": ((0, "output shape"), (1, "filter")),
    "MEAN": ((1, "axis"),),
    "PAD": ((1, "paddings"),),
}
INT8 = np.dtype(np.int8)
DATA_MOVEMENT = ("RESHAPE", "PAD", "CONCATENATION", "MAX_POOL_2D", "AVERAGE_POOL_2D")


def check_model(interpreter):
    """Raise UnsupportedModelError for the first op or tensor the interpreter cannot run."""
    from edgecnn.reference.interpreter import KERNELS

    source, tensors = interpreter.source, interpreter.subgraph.tensors

    def fail(operator, message):
        raise UnsupportedModelError(f"{source}: op {operator.index} ({operator.name}): {message}")

    for index in interpreter.subgraph.inputs:
        tensor = tensors[index]
        if not tensor.shape or tensor.shape[0] != 1:
            raise UnsupportedModelError(
                f"{source}: input tensor {index} ({tensor.name}) has shape {tensor.shape}; "
                "the NumPy interpreter needs a model with batch size 1"
            )
    for operator in interpreter.subgraph.operators:
        if operator.name not in KERNELS:
            fail(
                operator,
                f"op not supported by the NumPy int8 interpreter (supported: {', '.join(sorted(KERNELS))})",
            )
        # A corrupt file can leave an op without outputs or without its first input (found by fuzzing).
        if not operator.outputs:
            fail(operator, "the op has no output tensor")
        if not operator.inputs or operator.inputs[0] < 0:
            fail(operator, "the op has no input tensor")
        for position, what in CONSTANT_INPUTS.get(operator.name, ()):
            if (
                position >= len(operator.inputs)
                or operator.inputs[position] < 0
                or not tensors[operator.inputs[position]].is_constant
            ):
                fail(operator, f"the {what} must be a constant tensor")
        _check_types(operator, tensors, fail)
        _check_op_specifics(operator, tensors, fail)


def _describe(tensor):
    return f"tensor {tensor.index} ({tensor.name}) is {tensor.type_name}"


def _check_types(operator, tensors, fail):
    inputs = [tensors[index] for index in operator.inputs if index >= 0]
    outputs = [tensors[index] for index in operator.outputs]
    for tensor in [*inputs, *outputs]:
        if any(dimension < 0 for dimension in tensor.shape_signature[1:]):
            fail(
                operator,
                f"tensor {tensor.index} ({tensor.name}) has a dynamic shape {tensor.shape_signature}",
            )
    if operator.name == "QUANTIZE":
        if inputs[0].type_name not in ("FLOAT32", "INT8", "UINT8") or outputs[0].type_name not in (
            "INT8",
            "UINT8",
        ):
            fail(
                operator,
                f"quantizes {inputs[0].type_name} to {outputs[0].type_name}; only float32/int8/uint8 "
                "to int8/uint8 is supported",
            )
        return
    if operator.name == "DEQUANTIZE":
        if inputs[0].type_name not in ("INT8", "UINT8") or outputs[0].type_name != "FLOAT32":
            fail(
                operator,
                f"dequantizes {inputs[0].type_name} to {outputs[0].type_name}; "
                "only int8/uint8 to float32 is supported",
            )
        return
    # Filters, biases, shapes, axes and paddings are checked elsewhere; the values flowing through are int8.
    skipped = {1, 2} if operator.name in CONSTANT_INPUTS else set()
    skipped |= {0, 1, 3} if operator.name == "TRANSPOSE_CONV" else set()
    skipped |= {1} if operator.name == "RESHAPE" else set()
    checked = [
        tensors[index]
        for position, index in enumerate(operator.inputs)
        if index >= 0 and position not in skipped
    ]
    for tensor in [*checked, *outputs]:
        if tensor.dtype != INT8:
            hint = " (a float model: quantize it to full int8 first)" if tensor.type_name == "FLOAT32" else ""
            fail(operator, f"{_describe(tensor)}; the NumPy interpreter runs int8 tensors only{hint}")
        if not tensor.quantization.is_quantized:
            fail(operator, f"tensor {tensor.index} ({tensor.name}) has no quantization parameters")
    if operator.name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"):
        weights = tensors[operator.inputs[1]]
        if weights.dtype != INT8:
            fail(operator, f"{_describe(weights)}; int8 weights are required")
        bias_position = 3 if operator.name == "TRANSPOSE_CONV" else 2
        if len(operator.inputs) > bias_position and operator.inputs[bias_position] >= 0:
            bias = tensors[operator.inputs[bias_position]]
            if bias.type_name != "INT32" or not bias.is_constant:
                fail(operator, f"{_describe(bias)}; a constant int32 bias is required")


def _check_op_specifics(operator, tensors, fail):
    name = operator.name
    first_input = tensors[operator.inputs[0]] if operator.inputs and operator.inputs[0] >= 0 else None
    output = tensors[operator.outputs[0]]
    if (
        name in ("CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D")
        and len(first_input.shape) != 4
    ):
        fail(operator, f"input shape {first_input.shape} is not NHWC")
    if name == "CONV_2D":
        depth, filter_depth = first_input.shape[3], tensors[operator.inputs[1]].shape[3]
        if filter_depth == 0 or depth % filter_depth:
            fail(operator, f"input depth {depth} is not a multiple of the filter depth {filter_depth}")
    if name == "MEAN":
        axes = [int(axis) % len(first_input.shape) for axis in tensors[operator.inputs[1]].data.reshape(-1)]
        if 0 in axes:
            fail(operator, "reducing over the batch axis is not supported")
    if name == "PAD":
        paddings = tensors[operator.inputs[1]].data.reshape(-1, 2)
        if paddings.shape[0] and (paddings[0] != 0).any():
            fail(operator, "padding the batch axis is not supported")
    if name == "CONCATENATION":
        if operator.options["axis"] % len(output.shape) == 0:
            fail(operator, "concatenating along the batch axis is not supported")
        expected = _per_tensor(output)
        for index in operator.inputs:
            if _per_tensor(tensors[index]) != expected:
                fail(
                    operator,
                    f"input tensor {index} ({tensors[index].name}) is quantized as "
                    f"{_per_tensor(tensors[index])}, the output as {expected}; they must match",
                )
    if name in ("ADD", "SUB", "MUL"):
        for index in operator.inputs:
            if tensors[index].is_constant and tensors[index].quantization.is_per_channel:
                fail(operator, f"tensor {index} is quantized per channel")
    if name in ("SOFTMAX", "LOGISTIC", "TANH", "HARD_SWISH", "RELU", "RELU6", "LEAKY_RELU", "RESHAPE"):
        if first_input.is_constant:
            fail(operator, "a constant input is not supported")
    if name == "SOFTMAX":
        problem = softmax_scale_problem(operator, tensors)
        if problem:
            fail(operator, problem)


def softmax_scale_problem(operator, tensors):
    """Why an int8 SOFTMAX cannot load in TFLite's reference kernels and TFLite Micro, or None.

    Both compute beta * input_scale * 2^26 in Prepare and abort the process unless it exceeds 1
    (QuantizeMultiplierGreaterThanOne). It happens when the logits have almost no range, as in an untrained model.
    """
    scales = tensors[operator.inputs[0]].quantization.scales
    if not len(scales):
        return None
    beta = float(operator.options.get("beta", 1.0))
    scale = float(scales[0])
    if float(np.float32(beta)) * float(np.float32(scale)) * 2.0**26 > 1.0:
        return None
    return (
        f"its input scale {scale:.3g} (x beta {beta:g}) is at most 2^-26, which makes TFLite's reference kernels "
        "and TFLite Micro abort at load; the logits have almost no range (is the model trained?)"
    )


def _per_tensor(tensor):
    return float(tensor.quantization.scales[0]), int(tensor.quantization.zero_points[0])
