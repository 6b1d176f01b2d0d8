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
    "SUM": ((1, "axis"),),
    "REDUCE_MAX": ((1, "axis"),),
    "PAD": ((1, "paddings"),),
    "PADV2": ((1, "paddings"), (2, "constant value")),
    "MIRROR_PAD": ((1, "paddings"),),
    "TRANSPOSE": ((1, "permutation"),),
    "SLICE": ((1, "begin"), (2, "size")),
    "STRIDED_SLICE": ((1, "begin"), (2, "end"), (3, "strides")),
    "EXPAND_DIMS": ((1, "axis"),),
    "SPLIT": ((0, "axis"),),
    "SPLIT_V": ((1, "size_splits"), (2, "axis")),
    "GATHER": ((1, "indices"),),
    "RESIZE_NEAREST_NEIGHBOR": ((1, "size"),),
    "RESIZE_BILINEAR": ((1, "size"),),
}
# Input positions holding parameters rather than int8 values: not type-checked as activations.
PARAMETER_INPUTS = {"CONV_2D": (2,), "DEPTHWISE_CONV_2D": (2,), "FULLY_CONNECTED": (2,), "TRANSPOSE_CONV": (3,)}
# Constant parameter tensors and the integer types they may have.
INDEX_TYPES = ("INT32", "INT64")
WEIGHTED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV")
INT8 = np.dtype(np.int8)
NHWC_OPS = (
    "CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D", "RESIZE_NEAREST_NEIGHBOR",
    "RESIZE_BILINEAR", "DEPTH_TO_SPACE", "SPACE_TO_DEPTH",
)  # fmt: skip
# Ops that copy or compare raw int8 values: inputs and output must share one scale and zero point.
SAME_QUANTIZATION_OPS = ("CONCATENATION", "PACK")


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
        if all(index < 0 or tensors[index].is_constant for index in operator.inputs):
            fail(operator, "every input is constant (the converter folds such ops; this one was not)")
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
    skipped = {position for position, _ in CONSTANT_INPUTS.get(operator.name, ())}
    skipped |= set(PARAMETER_INPUTS.get(operator.name, ()))
    skipped |= {1} if operator.name == "RESHAPE" else set()
    if operator.name not in WEIGHTED_OPS:
        for position, what in CONSTANT_INPUTS.get(operator.name, ()):
            parameter = tensors[operator.inputs[position]]
            expected = ("INT8",) if what == "constant value" else INDEX_TYPES
            if parameter.type_name not in expected:
                fail(operator, f"the {what} {_describe(parameter)}; expected {' or '.join(expected)}")
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
    if operator.name in WEIGHTED_OPS:
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
    if name in NHWC_OPS and len(first_input.shape) != 4:
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
    if name in SAME_QUANTIZATION_OPS:
        expected = _per_tensor(output)
        for index in operator.inputs:
            if _per_tensor(tensors[index]) != expected:
                fail(
                    operator,
                    f"input tensor {index} ({tensors[index].name}) is quantized as "
                    f"{_per_tensor(tensors[index])}, the output as {expected}; they must match",
                )
    _check_layout_op(operator, tensors, fail)
    if name in ("ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM", "PRELU", "BATCH_MATMUL"):
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


def _constant(tensors, operator, position):
    return [int(value) for value in tensors[operator.inputs[position]].data.reshape(-1)]


def _check_layout_op(operator, tensors, fail):
    """The limits TFLite's Prepare enforces on the data-movement ops, checked up front."""
    name, options = operator.name, operator.options
    shape = tensors[operator.inputs[0]].shape
    rank = len(shape)
    if name == "TRANSPOSE" and sorted(axis % max(rank, 1) for axis in _constant(tensors, operator, 1)) != list(
        range(rank)
    ):
        fail(operator, f"the permutation {_constant(tensors, operator, 1)} is not one of {rank} axes")
    if name == "SLICE":
        for axis, (begin, size) in enumerate(zip(_constant(tensors, operator, 1), _constant(tensors, operator, 2))):
            if begin < 0 or begin > shape[axis] or (size >= 0 and begin + size > shape[axis]) or size < -1:
                fail(operator, f"begin {begin} and size {size} do not fit axis {axis} of size {shape[axis]}")
    if name == "STRIDED_SLICE" and 0 in _constant(tensors, operator, 3):
        fail(operator, "a stride of 0 is not allowed")
    if name in ("MIRROR_PAD", "PADV2"):
        paddings = tensors[operator.inputs[1]].data.reshape(-1, 2)
        if (paddings < 0).any():
            fail(operator, "negative paddings are not supported")
    if name == "MIRROR_PAD":
        # REFLECT leaves the edge out, so it can mirror at most size - 1 values; SYMMETRIC at most size.
        limit = 1 if options.get("mode", "REFLECT") == "REFLECT" else 0
        for axis, (before, after) in enumerate(tensors[operator.inputs[1]].data.reshape(-1, 2)):
            if max(before, after) > shape[axis] - limit:
                fail(operator, f"padding {int(max(before, after))} is too large for axis {axis} of size {shape[axis]}")
    if name == "GATHER":
        if options.get("batch_dims", 0) != 0:
            fail(operator, f"batch_dims {options['batch_dims']} is not supported (only 0)")
        axis = options.get("axis", 0) % max(rank, 1)
        indices = _constant(tensors, operator, 1)
        if any(not 0 <= index < shape[axis] for index in indices):
            fail(operator, f"an index of {indices} is outside axis {axis} of size {shape[axis]}")
    if name == "SPLIT":
        values = tensors[operator.inputs[1]].shape
        axis = _constant(tensors, operator, 0)[0] % max(len(values), 1)
        if values[axis] % len(operator.outputs):
            fail(operator, f"axis {axis} of size {values[axis]} does not split in {len(operator.outputs)}")
    if name == "RESIZE_BILINEAR" and options.get("align_corners") and options.get("half_pixel_centers"):
        fail(operator, "align_corners together with half_pixel_centers is not supported")
    if name in ("DEPTH_TO_SPACE", "SPACE_TO_DEPTH") and options.get("block_size", 0) < 1:
        fail(operator, f"block size {options.get('block_size')} is not positive")


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
