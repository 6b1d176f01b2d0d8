"""Size and cost of a Keras CNN, computed from its layers: parameters, MACs, weight bytes, receptive field.

- parameters: every weight Keras holds (trainable or not), as keras' count_params().
- macs: multiply-accumulates of Conv2D, DepthwiseConv2D and Dense layers for one image, from output shapes:
  conv = out_h * out_w * out_channels * kh * kw * in_channels / groups; depthwise = out_h * out_w *
  out_channels * kh * kw; dense = units * input features (times any leading spatial positions). Bias adds,
  batch normalization (folded at conversion), pooling, activations and adds are not counted.
- float32_bytes: 4 bytes per parameter, the weights of the float model.
- int8_bytes: the weights of the full-int8 model: 1 byte per conv/depthwise/dense kernel value and 4 bytes per
  bias value (int32); batch normalization folds into the preceding layer as an int32 bias per channel (only
  when that layer has no bias of its own); conv kernels and biases carry a scale and zero point (12 bytes) per
  output channel, dense ones per tensor. Activation tensors' parameters, names and the flatbuffer's own
  structure are excluded (a few kB, more for deep models with many small layers).
- receptive_field: input pixels seen by one position of the last feature map, through conv/depthwise/pool
  layers: rf += (effective_kernel - 1) * jump; jump *= stride. At merges (Add, Concatenate) the longest path
  wins. Reported per axis as the larger of height and width; it can exceed the input size.
"""

import dataclasses
import math

from edgecnn.errors import UnsupportedModelError
from edgecnn.zoo.registry import load_keras

# A float32 scale and an int64 zero point per quantized channel, as TFLite stores them.
QUANTIZATION_PARAMETER_BYTES = 4 + 8


@dataclasses.dataclass(frozen=True)
class ModelSummary:
    parameters: int
    macs: int
    float32_bytes: int
    int8_bytes: int
    receptive_field: int

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class _Field:
    """Receptive field and jump (input pixels between neighbouring positions) along height and width."""

    size: tuple = (1, 1)
    jump: tuple = (1, 1)

    def through(self, kernel, strides, dilation=(1, 1)):
        size = tuple(
            s + ((k - 1) * d) * j for s, k, d, j in zip(self.size, kernel, dilation, self.jump)
        )
        return _Field(size, tuple(j * s for j, s in zip(self.jump, strides)))


def summarize(model):
    """ModelSummary of a built Keras model (functional or Sequential, nested models included)."""
    keras = load_keras()
    totals = {"macs": 0, "int8_bytes": 0, "receptive_field": 1}
    fields = {id(tensor): _Field() for tensor in model.inputs}
    _walk(model, fields, totals, keras)
    parameters = int(model.count_params())
    return ModelSummary(
        parameters=parameters,
        macs=int(totals["macs"]),
        float32_bytes=4 * parameters,
        int8_bytes=int(totals["int8_bytes"]),
        receptive_field=int(totals["receptive_field"]),
    )


def _walk(model, fields, totals, keras):
    """Visit layers in graph order, carrying receptive fields from each layer's input tensors to its outputs.

    `fields` maps id(KerasTensor) -> _Field for tensors that still have spatial extent; flattening or global
    pooling ends the spatial path, and tensors after it are absent.
    """
    layers = keras.layers
    previous_bias_free = {}  # id(output tensor) -> channels of a kernel layer without bias (for BN folding)
    visited_calls, weighed_layers = set(), set()
    # One pass visits every call in graph order; a layer shared by several calls may need another pass.
    progress = True
    while progress:
        progress = False
        for layer in model.layers:
            if isinstance(layer, layers.InputLayer):
                continue
            for call_key, inputs, outputs in _calls(layer, fields):
                if call_key in visited_calls:
                    continue
                visited_calls.add(call_key)
                progress = True
                if isinstance(layer, keras.Model):
                    _walk_nested(layer, inputs, outputs, fields, totals, keras)
                    continue
                _count_costs(layer, inputs, outputs, previous_bias_free, totals, layers,
                             weights_counted=id(layer) in weighed_layers)
                weighed_layers.add(id(layer))
                field = _through(layer, inputs, outputs, fields, layers)
                for tensor in outputs:
                    fields[id(tensor)] = field
                if field is not None:
                    totals["receptive_field"] = max(totals["receptive_field"], *field.size)


def _walk_nested(model, inputs, outputs, fields, totals, keras):
    for inner_input, outer_input in zip(model.inputs, inputs):
        fields[id(inner_input)] = fields.get(id(outer_input))
    _walk(model, fields, totals, keras)
    for inner_output, outer_output in zip(_as_list(model.outputs), outputs):
        fields[id(outer_output)] = fields.get(id(inner_output))


def _calls(layer, fields):
    """(input tensors, output tensors) of each call of `layer` in the graph being walked.

    A nested model's `layer.input` is its own Input, not the tensor it was called on, so the calls come from
    Keras' graph nodes: those whose inputs the walk has reached. `fields` holds every reached tensor (with
    None for non-spatial ones).
    """
    nodes = getattr(layer, "_inbound_nodes", None)
    if not nodes:
        return [(id(layer), _as_list(layer.input), _as_list(layer.output))]
    calls = []
    for node in nodes:
        inputs, outputs = list(node.input_tensors), list(node.output_tensors)
        if inputs and all(id(tensor) in fields for tensor in inputs):
            calls.append((id(node), inputs, outputs))
    return calls


def _through(layer, inputs, outputs, fields, layers):
    """The receptive field of the layer's output, or None once the spatial path has ended."""
    incoming = [fields[id(tensor)] for tensor in inputs if fields.get(id(tensor)) is not None]
    # Flatten, global pooling and dense layers on vectors end the spatial path.
    if not incoming or len(outputs[0].shape) != 4:
        return None
    field = _merge(incoming)
    if isinstance(layer, (layers.Conv2D, layers.DepthwiseConv2D)):
        return field.through(layer.kernel_size, layer.strides, layer.dilation_rate)
    if isinstance(layer, (layers.MaxPooling2D, layers.AveragePooling2D)):
        return field.through(layer.pool_size, layer.strides)
    if _is_convolution_like(layer):
        raise UnsupportedModelError(
            f"cannot compute the receptive field through layer {layer.name!r} ({type(layer).__name__})"
        )
    return field


def _count_costs(layer, inputs, outputs, previous_bias_free, totals, layers, weights_counted=False):
    """Add the MACs of one call, and the int8 weight bytes unless an earlier call counted them."""
    if isinstance(layer, layers.BatchNormalization):
        source = id(inputs[0])
        if source in previous_bias_free and not weights_counted:
            totals["int8_bytes"] += 4 * previous_bias_free.pop(source)
        return
    if not isinstance(layer, (layers.Conv2D, layers.DepthwiseConv2D, layers.Dense)):
        return
    output_shape = tuple(outputs[0].shape)
    input_shape = tuple(inputs[0].shape)
    kernel_values = math.prod(layer.kernel.shape)
    positions = math.prod(output_shape[1:-1])
    if isinstance(layer, layers.DepthwiseConv2D):
        totals["macs"] += positions * output_shape[-1] * math.prod(layer.kernel_size)
    elif isinstance(layer, layers.Conv2D):
        groups = getattr(layer, "groups", 1)
        taps = math.prod(layer.kernel_size) * input_shape[-1] // groups
        totals["macs"] += positions * output_shape[-1] * taps
    else:
        totals["macs"] += positions * input_shape[-1] * layer.units
    if weights_counted:
        return
    totals["int8_bytes"] += kernel_values
    # Conv kernels and their int32 biases are quantized per output channel: a float32 scale and an int64 zero
    # point each. Dense layers are quantized per tensor.
    channels_quantized = output_shape[-1] if not isinstance(layer, layers.Dense) else 1
    totals["int8_bytes"] += 2 * QUANTIZATION_PARAMETER_BYTES * channels_quantized
    if layer.use_bias:
        totals["int8_bytes"] += 4 * output_shape[-1]
    else:
        previous_bias_free[id(outputs[0])] = output_shape[-1]


def _is_convolution_like(layer):
    """Layers with a spatial kernel or stride that this summary does not model (would silently be wrong)."""
    return hasattr(layer, "kernel_size") or hasattr(layer, "pool_size") or hasattr(layer, "size")


def _merge(fields):
    if len(fields) == 1:
        return fields[0]
    return _Field(
        tuple(max(values) for values in zip(*(field.size for field in fields))),
        tuple(max(values) for values in zip(*(field.jump for field in fields))),
    )


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]
