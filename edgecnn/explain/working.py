"""One output element of an int8 convolution worked out in integers, step by step, as TFLite computes it.

Every step calls the primitive the NumPy interpreter's kernels use (edgecnn.reference.arithmetic,
kernels_common), so the worked value is the interpreter's value; `worked_example` checks that it is. The page's
JavaScript repeats the same steps for any clicked element and must give the same integers (tests check it).
"""

import math

import numpy as np

from edgecnn.errors import ConfigurationError
from edgecnn.explain.graph import CONVOLUTIONS, short_name
from edgecnn.reference import arithmetic
from edgecnn.reference.kernels_common import per_channel_multipliers


def parse_element(text):
    """"LAYER,Y,X,C" -> (layer, y, x, c); LAYER is an op index or a layer name."""
    parts = [part.strip() for part in str(text).split(",")]
    if len(parts) != 4 or not all(part.lstrip("-").isdigit() for part in parts[1:]) or not parts[0]:
        raise ConfigurationError(f"--element takes LAYER,Y,X,C (an op index or layer name, then three integers), "
                                 f"got {text!r}")
    return parts[0], int(parts[1]), int(parts[2]), int(parts[3])


def _names(layer):
    return {layer.name, short_name(layer.tensor_name)}


def has_layer(layers, name):
    return any(name in _names(layer) for layer in layers)


def find_layer(layers, name_or_index, where="--element"):
    """The convolution layer an op index or a layer name stands for."""
    convolutions = [layer for layer in layers if layer.op in CONVOLUTIONS]
    listing = ", ".join(f"{layer.op_index} ({layer.name})" for layer in convolutions) or "none"
    if str(name_or_index).isdigit():
        matches = [layer for layer in layers if layer.op_index == int(name_or_index)]
    else:
        matches = [layer for layer in layers if name_or_index in _names(layer)]
    if not matches:
        raise ConfigurationError(f"{where}: the model has no layer {name_or_index!r}; its convolutions are ops "
                                 f"{listing}")
    if len(matches) > 1:
        raise ConfigurationError(f"{where}: several layers are named {name_or_index!r}; give the op index "
                                 f"({', '.join(str(layer.op_index) for layer in matches)})")
    layer = matches[0]
    if layer.op not in CONVOLUTIONS:
        raise ConfigurationError(f"{where}: op {layer.op_index} ({layer.name}) is {layer.op}, not a convolution; "
                                 f"the worked example needs a CONV_2D or DEPTHWISE_CONV_2D: ops {listing}")
    return layer


def check_position(layer, y, x, channel, where="--element"):
    _, height, width, channels = layer.output_shape
    for axis, value, size in (("Y", y, height), ("X", x, width), ("C", channel, channels)):
        if not 0 <= value < size:
            raise ConfigurationError(
                f"{where}: {axis}={value} is outside op {layer.op_index} ({layer.name}), whose output is "
                f"{height}x{width}x{channels} (Y 0..{height - 1}, X 0..{width - 1}, C 0..{channels - 1})"
            )


def default_position(layer, run):
    """The centre pixel, in the channel where it is largest: a textbook example that the ReLU did not zero."""
    _, height, width, _ = layer.output_shape
    y, x = height // 2, width // 2
    channel = int(np.argmax(run.tensors[layer.output][0, y, x]))
    return y, x, channel


def _float_activation(value, activation):
    if activation in ("RELU", "RELU6"):
        value = max(value, 0.0)
    if activation == "RELU6":
        value = min(value, 6.0)
    if activation == "RELU_N1_TO_1":
        value = min(max(value, -1.0), 1.0)
    return value


def worked_example(interpreter, run, layer, y, x, channel, keras_value=None):
    """Every step of output element (y, x, channel) of a CONV_2D or DEPTHWISE_CONV_2D layer, as a dict."""
    check_position(layer, y, x, channel)
    operator = interpreter.operators[layer.op_index]
    details = interpreter.tensor_details
    input_info, output_info = details[operator.inputs[0]], details[operator.outputs[0]]
    filter_info = details[operator.inputs[1]]
    filters = np.asarray(interpreter.subgraph.tensors[operator.inputs[1]].data, np.int64)
    has_bias = len(operator.inputs) > 2 and operator.inputs[2] >= 0
    biases = interpreter.subgraph.tensors[operator.inputs[2]].data if has_bias else None
    values = run.tensors[operator.inputs[0]][0]
    height, width, depth = values.shape
    input_scale, input_zero_point = float(input_info.scale), int(input_info.zero_point)
    output_scale, output_zero_point = float(output_info.scale), int(output_info.zero_point)
    out_channels = layer.output_shape[3]
    filter_scales = np.broadcast_to(np.asarray(filter_info.scales, np.float64), (out_channels,))
    filter_scale = float(filter_scales[channel])
    if layer.op == "CONV_2D":
        filter_depth = filters.shape[3]
        group = channel // (out_channels // (depth // filter_depth))
        input_channels = [group * filter_depth + index for index in range(filter_depth)]
    else:
        input_channels = [channel // (out_channels // depth)]
    top, _, left, _ = layer.pads
    origin_y, origin_x = y * layer.stride[0] - top, x * layer.stride[1] - left
    taps = []
    for ky in range(layer.kernel[0]):
        for kx in range(layer.kernel[1]):
            iy, ix = origin_y + ky * layer.dilation[0], origin_x + kx * layer.dilation[1]
            inside = 0 <= iy < height and 0 <= ix < width
            for position, input_channel in enumerate(input_channels):
                if layer.op == "CONV_2D":
                    weight = int(filters[channel, ky, kx, position])
                else:
                    weight = int(filters[0, ky, kx, channel])
                quantized = int(values[iy, ix, input_channel]) if inside else None
                # Padding holds the zero point, so it adds nothing: TFLite skips those taps.
                centered = quantized - input_zero_point if inside else 0
                taps.append({"ky": ky, "kx": kx, "input_channel": input_channel, "iy": iy, "ix": ix,
                             "inside": inside, "q": quantized, "centered": centered, "weight": weight,
                             "product": weight * centered})
    sum_of_products = sum(tap["product"] for tap in taps)
    bias = int(biases[channel]) if has_bias else 0
    accumulator = sum_of_products + bias
    real_multiplier = float(np.float64(input_scale) * np.float64(filter_scale) / np.float64(output_scale))
    fraction, exponent = math.frexp(real_multiplier)
    multiplier, shift = arithmetic.quantize_multiplier(real_multiplier)
    kernel_multipliers, kernel_shifts = per_channel_multipliers(
        input_scale, filter_info.scales, output_scale, out_channels
    )
    assert (multiplier, shift) == (int(kernel_multipliers[channel]), int(kernel_shifts[channel]))
    left_shift, right_shift = max(shift, 0), max(-shift, 0)
    shifted = accumulator * 2**left_shift
    high = int(arithmetic.saturating_rounding_doubling_high_mul(shifted, multiplier))
    mask = (1 << right_shift) - 1
    remainder, threshold = high & mask, (mask >> 1) + (1 if high < 0 else 0)
    scaled = int(arithmetic.rounding_divide_by_power_of_two(high, right_shift))
    assert scaled == int(arithmetic.multiply_by_quantized_multiplier(accumulator, multiplier, shift))
    with_zero_point = scaled + output_zero_point
    low, high_limit = arithmetic.activation_range(layer.activation, output_scale, output_zero_point)
    output = min(max(with_zero_point, low), high_limit)
    interpreter_output = int(run.tensors[layer.output][0, y, x, channel])
    if output != interpreter_output:
        raise AssertionError(
            f"worked example of op {layer.op_index} at ({y}, {x}, {channel}) gives {output}, the interpreter "
            f"{interpreter_output}: a bug in edgecnn.explain"
        )
    float_sum = sum(
        input_scale * tap["centered"] * filter_scale * tap["weight"] for tap in taps if tap["inside"]
    )
    float_bias = input_scale * filter_scale * bias
    float_activated = _float_activation(float_sum + float_bias, layer.activation)
    float_in_lsb = output_zero_point + float_activated / output_scale
    example = {
        "op_index": layer.op_index, "op": layer.op, "layer": layer.name, "y": y, "x": x, "channel": channel,
        "input_scale": input_scale, "input_zero_point": input_zero_point, "filter_scale": filter_scale,
        "filter_zero_point": 0, "output_scale": output_scale, "output_zero_point": output_zero_point,
        "window_origin": [origin_y, origin_x], "input_channels": input_channels, "taps": taps,
        "sum_of_products": sum_of_products, "bias": bias, "accumulator": accumulator,
        "real_multiplier": real_multiplier, "fraction": fraction, "exponent": exponent,
        "multiplier": multiplier, "shift": shift, "left_shift": left_shift, "right_shift": right_shift,
        "shifted": shifted, "wide_product": str(shifted * multiplier), "high": high, "remainder": remainder,
        "threshold": threshold, "round_up": remainder > threshold, "scaled": scaled,
        "with_zero_point": with_zero_point, "activation": layer.activation, "clamp": [low, high_limit],
        "output": output, "interpreter_output": interpreter_output,
        "exact_scaled": accumulator * real_multiplier,
        "float": {"sum": float_sum, "bias": float_bias, "value": float_sum + float_bias,
                  "activated": float_activated, "in_lsb": float_in_lsb,
                  "difference_lsb": output - float_in_lsb,
                  "dequantized_output": output_scale * (output - output_zero_point)},
        "keras": None,
    }
    if keras_value is not None:
        keras_in_lsb = output_zero_point + float(keras_value) / output_scale
        example["keras"] = {"value": float(keras_value), "in_lsb": keras_in_lsb,
                            "difference_lsb": output - keras_in_lsb}
    return example


def describe(example):
    """The worked example as a few lines of text for the terminal."""
    taps = example["taps"]
    inside = [tap for tap in taps if tap["inside"]]
    lines = [
        f"op {example['op_index']} {example['op']} ({example['layer']}), output element "
        f"y={example['y']} x={example['x']} c={example['channel']}:",
        f"  {len(taps)} taps ({len(taps) - len(inside)} in padding): sum of w * (q - {example['input_zero_point']})"
        f" = {example['sum_of_products']}; + bias {example['bias']} = accumulator {example['accumulator']}",
        f"  multiplier {example['input_scale']:.6g} * {example['filter_scale']:.6g} / {example['output_scale']:.6g}"
        f" = {example['real_multiplier']:.9g} -> M = {example['multiplier']}, shift {example['shift']}",
        f"  SRDHM({example['shifted']}, M) = {example['high']}; rounding divide by 2^{example['right_shift']}"
        f" = {example['scaled']}; + zero point {example['output_zero_point']} = {example['with_zero_point']};"
        f" clamp to [{example['clamp'][0]}, {example['clamp'][1]}] = {example['output']}",
        f"  interpreter: {example['interpreter_output']}; float from the dequantized numbers: "
        f"{example['float']['activated']:.6g} = {example['float']['in_lsb']:.3f} in output LSB, "
        f"difference {example['float']['difference_lsb']:+.3f} LSB",
    ]
    if example["keras"] is not None:
        lines.append(f"  Keras float model: {example['keras']['value']:.6g}, difference "
                     f"{example['keras']['difference_lsb']:+.3f} LSB")
    return "\n".join(lines)
