"""The int8 graph as a column of layers: what each op computes, what it costs and where it lives in the arena.

Every figure comes from the .tflite itself (no Keras needed):
- parameters: elements of the op's weight and bias tensors (int8 weights, int32 biases);
- MACs: multiply-accumulates for one image, counted as `edgecnn zoo` counts them: conv = out_h * out_w *
  out_channels * kh * kw * filter_depth, depthwise = out_h * out_w * out_channels * kh * kw, fully connected =
  units * depth, transpose conv = in_h * in_w * in_channels * kh * kw * out_channels;
- receptive field: input pixels one output position sees, through conv, depthwise and pooling ops
  (rf += (effective kernel - 1) * jump; jump *= stride); after a fully connected layer, a reshape to a vector
  or a MEAN it is the whole input;
- arena offset and size: edgecnn.tflite.memory's greedy plan, TFLite Micro's planner.
"""

import dataclasses
from typing import Optional

import numpy as np

from edgecnn.reference.kernels_common import same_padding
from edgecnn.tflite import memory

CONVOLUTIONS = ("CONV_2D", "DEPTHWISE_CONV_2D")
POOLS = ("MAX_POOL_2D", "AVERAGE_POOL_2D")
WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV")
WHOLE_INPUT = "whole input"
# The last name segments TensorFlow gives an op's tensor; the layer's own name is the segment before them.
_OP_SEGMENTS = {
    "Relu", "Relu6", "convolution", "BiasAdd", "MatMul", "MaxPool2d", "AvgPool2d", "Reshape", "Softmax", "add",
    "Add", "Mean", "depthwise", "Sigmoid", "Tanh", "mul", "Pad", "concat", "Identity", "Squeeze",
}


@dataclasses.dataclass
class TensorSummary:
    index: int
    name: str
    shape: tuple
    dtype: str
    scale: float
    zero_point: int
    arena_offset: Optional[int] = None
    arena_bytes: Optional[int] = None
    first_op: Optional[int] = None
    last_op: Optional[int] = None

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Layer:
    """One op of the int8 graph, with the figures the page's layer column shows."""

    op_index: int
    op: str
    name: str  # the Keras layer's name when matched, else the layer name inside the tensor name
    tensor_name: str
    inputs: list  # activation tensor indices read
    output: int  # the tensor it writes
    input_shapes: list
    output_shape: tuple
    kernel: Optional[tuple] = None  # (kh, kw)
    stride: Optional[tuple] = None
    padding: Optional[str] = None
    pads: Optional[tuple] = None  # (top, bottom, left, right)
    dilation: Optional[tuple] = None
    activation: str = "NONE"
    parameters: int = 0
    macs: int = 0
    receptive_field: object = None  # (height, width), WHOLE_INPUT or None when not modelled
    weights: Optional[dict] = None  # tensor index, shape, per-channel scale range
    bias: Optional[int] = None  # tensor index

    def to_dict(self):
        values = dataclasses.asdict(self)
        values["output_shape"] = list(self.output_shape)
        return values


def short_name(tensor_name):
    """The layer name inside a TensorFlow tensor name: ".../tiny_vgg_1/conv_1_1_1/Relu;..." -> "conv_1_1_1"."""
    segments = [segment for segment in tensor_name.split(";")[0].split("/") if segment]
    while len(segments) > 1 and segments[-1].split(":")[0] in _OP_SEGMENTS:
        segments.pop()
    return segments[-1].split(":")[0] if segments else tensor_name


def _layer_name(tensor_name, operator):
    name = short_name(tensor_name)
    if name.startswith(("StatefulPartitionedCall", "Identity", "serving_default")):
        return f"{operator.name.lower()}_{operator.index}"
    return name


def tensor_summaries(interpreter):
    """TensorSummary of every activation tensor (model inputs and op outputs), with its place in the arena."""
    plan = memory.plan_memory(interpreter.subgraph, interpreter.lifetimes())
    planned = {tensor.index: tensor for tensor in plan.tensors}
    summaries = {}
    indices = list(interpreter.subgraph.inputs) + [
        index for operator in interpreter.operators for index in operator.outputs
    ]
    for index in indices:
        info = interpreter.tensor_details[index]
        entry = planned.get(index)
        summaries[index] = TensorSummary(
            index=int(index),
            name=info.name,
            shape=tuple(int(value) for value in info.shape),
            dtype=np.dtype(info.dtype).name,
            scale=float(info.scale),
            zero_point=int(info.zero_point),
            arena_offset=None if entry is None else int(entry.offset),
            arena_bytes=None if entry is None else int(entry.size),
            first_op=None if entry is None else int(entry.first_op),
            last_op=None if entry is None else int(entry.last_op),
        )
    return summaries, plan


def _constant(interpreter, position, operator):
    if position >= len(operator.inputs) or operator.inputs[position] < 0:
        return None
    info = interpreter.tensor_details[operator.inputs[position]]
    return info if info.is_constant else None


def _weights_summary(info):
    scales = np.asarray(info.scales, np.float64)
    return {
        "tensor_index": int(info.index),
        "name": info.name,
        "shape": [int(value) for value in info.shape],
        "channels": int(scales.size),
        "scale_min": float(scales.min()) if scales.size else 0.0,
        "scale_max": float(scales.max()) if scales.size else 0.0,
        "zero_point": int(np.asarray(info.zero_points).reshape(-1)[0]) if np.size(info.zero_points) else 0,
    }


def _field_through(field, kernel, stride, dilation=(1, 1)):
    if not isinstance(field, tuple):
        return field
    (size_h, size_w, jump_h, jump_w) = field
    return (
        size_h + (kernel[0] - 1) * dilation[0] * jump_h,
        size_w + (kernel[1] - 1) * dilation[1] * jump_w,
        jump_h * stride[0],
        jump_w * stride[1],
    )


def _merge_fields(fields):
    known = [field for field in fields if field is not None]
    if not known:
        return None
    if any(field == WHOLE_INPUT for field in known):
        return WHOLE_INPUT
    return tuple(max(values) for values in zip(*known))


def walk(interpreter, tensors):
    """Layer for every op, in execution order."""
    fields = {index: (1, 1, 1, 1) for index in interpreter.subgraph.inputs}
    layers = []
    for operator in interpreter.operators:
        details = interpreter.tensor_details
        activation_inputs = [
            index for index in operator.inputs if index >= 0 and not details[index].is_constant
        ]
        output = operator.outputs[0]
        options = operator.options
        layer = Layer(
            op_index=operator.index,
            op=operator.name,
            name=_layer_name(details[output].name, operator),
            tensor_name=details[output].name,
            inputs=[int(index) for index in activation_inputs],
            output=int(output),
            input_shapes=[list(tensors[index].shape) for index in activation_inputs if index in tensors],
            output_shape=tuple(int(value) for value in details[output].shape),
            activation=options.get("fused_activation_function", "NONE"),
        )
        incoming = _merge_fields([fields.get(index) for index in activation_inputs])
        field = incoming
        if operator.name in WEIGHTED:
            weights = _constant(interpreter, 1, operator)
            bias = _constant(interpreter, 3 if operator.name == "TRANSPOSE_CONV" else 2, operator)
            layer.weights = _weights_summary(weights)
            layer.bias = None if bias is None else int(bias.index)
            layer.parameters = int(np.prod(weights.shape)) + (0 if bias is None else int(np.prod(bias.shape)))
        if operator.name in CONVOLUTIONS or operator.name in POOLS:
            _describe_window(layer, operator, details)
            field = _field_through(incoming, layer.kernel, layer.stride, layer.dilation)
        elif operator.name == "FULLY_CONNECTED":
            units, depth = interpreter.tensor_details[operator.inputs[1]].shape
            layer.macs = int(units) * int(depth)
            field = WHOLE_INPUT if incoming is not None else None
        elif operator.name == "TRANSPOSE_CONV":
            out_channels, kernel_h, kernel_w, depth = interpreter.tensor_details[operator.inputs[1]].shape
            _, in_h, in_w, _ = details[operator.inputs[2]].shape
            layer.kernel = (int(kernel_h), int(kernel_w))
            layer.stride = (options["stride_h"], options["stride_w"])
            layer.padding = options["padding"]
            layer.macs = int(in_h * in_w * depth * kernel_h * kernel_w * out_channels)
            field = None  # not modelled: a transposed conv spreads each input over several outputs
        elif operator.name == "MEAN" or (
            operator.name == "RESHAPE" and len(layer.output_shape) <= 2 and incoming is not None
        ):
            field = WHOLE_INPUT
        for index in operator.outputs:
            fields[index] = field
        layer.receptive_field = field[:2] if isinstance(field, tuple) else field
        if layer.op in CONVOLUTIONS:
            layer.macs = _convolution_macs(layer, interpreter.tensor_details[operator.inputs[1]].shape)
        layers.append(layer)
    return layers


def _describe_window(layer, operator, details):
    """Kernel, stride, dilation and the explicit padding TFLite computes for a conv, depthwise or pool op."""
    options = operator.options
    if operator.name in CONVOLUTIONS:
        filter_shape = details[operator.inputs[1]].shape
        layer.kernel = (int(filter_shape[1]), int(filter_shape[2]))
        layer.dilation = (options["dilation_h_factor"], options["dilation_w_factor"])
    else:
        layer.kernel = (options["filter_height"], options["filter_width"])
        layer.dilation = (1, 1)
    layer.stride = (options["stride_h"], options["stride_w"])
    layer.padding = options["padding"]
    _, in_h, in_w, _ = details[operator.inputs[0]].shape
    _, out_h, out_w, _ = layer.output_shape
    top, bottom = same_padding(in_h, layer.kernel[0], layer.stride[0], layer.dilation[0], out_h)
    left, right = same_padding(in_w, layer.kernel[1], layer.stride[1], layer.dilation[1], out_w)
    layer.pads = (int(top), int(bottom), int(left), int(right))


def _convolution_macs(layer, filter_shape):
    _, out_h, out_w, out_channels = layer.output_shape
    taps = layer.kernel[0] * layer.kernel[1]
    if layer.op == "CONV_2D":
        taps *= int(filter_shape[3])
    return int(out_h * out_w * out_channels * taps)
