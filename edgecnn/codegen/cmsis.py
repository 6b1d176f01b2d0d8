"""Calls to Arm's CMSIS-NN for the layers it covers, compiled in with -DEDGECNN_USE_CMSIS_NN.

Each function returns the C that replaces a layer's portable body (a CmsisCall), or None where CMSIS-NN does
not cover the layer's configuration; the parameters are those TFLite Micro's kernels/cmsis_nn/*.cc pass. A
layer that needs a buffer gets `scratch` planned in the arena, sized by cmsis_buffers.py (Python twins of
CMSIS-NN's *_get_buffer_size functions) for its DSP build (Cortex-M4/M7/M33; plain C needs no more) and its MVE
build (Cortex-M55), each with a plan of its own; the generated code checks CMSIS-NN's own answer against the
reservation before each call, so a CMSIS-NN that wants more makes edgecnn_invoke fail instead of overwriting
memory.
"""
import dataclasses

import numpy as np

from edgecnn.codegen.cmsis_buffers import convolve_buffer_bytes, depthwise_buffer_bytes
from edgecnn.codegen.ops.common import indent, nhwc, quantization
from edgecnn.reference import activations, kernels_basic, kernels_conv
from edgecnn.reference.kernels_common import output_range, padding_for, per_channel_multipliers


@dataclasses.dataclass
class CmsisCall:
    lines: list
    scratch: dict = dataclasses.field(default_factory=dict)  # build ("dsp", "mve") -> buffer bytes
    # Builds ("dsp", "mve") where the overlaps the portable loop allows hold for CMSIS-NN's loop order too:
    # convolutions called row by row (RowCall), the DSP pooling kernels (output pixels in row order, each from
    # the rows above) and every element-wise kernel (each block is read before it is written). A whole-tensor
    # call would not do: arm_convolve_1x1_s8_fast sweeps all pixels once per block of output channels,
    # arm_convolve_s8 once per group, the MVE kernels work in blocks of channels.
    keeps_overlap: tuple = ()
    # The same layer as one call over the whole tensor, where the plan lets its output share no bytes with its
    # input (fewer calls); None where there is no such form.
    whole_lines: list = None

    @property
    def largest_scratch(self):
        return max(self.scratch.values(), default=0)


def _geometry(layer, filter_h, filter_w, filter_c):
    in_h, in_w, in_c = nhwc(layer.inputs[0])
    out_h, out_w, _ = nhwc(layer.outputs[0])
    options = layer.options
    (pad_top, _), (pad_left, _) = padding_for(layer.call(), in_h, in_w, filter_h, filter_w, out_h, out_w)
    return {
        "input": (in_h, in_w, in_c),
        "output": (out_h, out_w),
        "filter": (filter_h, filter_w, filter_c),
        "padding": (pad_top, pad_left),
        "stride": (options["stride_h"], options["stride_w"]),
        "dilation": (options.get("dilation_h_factor", 1), options.get("dilation_w_factor", 1)),
    }


def _dims(n, h, w, c):
    return f"{{{n}, {h}, {w}, {c}}}"


def _call_checked(call):
    return [f"if ({call} != ARM_CMSIS_NN_SUCCESS) {{", "  edgecnn_status = 1;", "}"]


def _buffer_check(size_call, reserved):
    """Stop (edgecnn_invoke returns 1) where CMSIS-NN wants more than the plan reserved for this build."""
    return [f"if ({size_call} > {reserved}) {{", "  edgecnn_status = 1;", "  return;", "}"]


@dataclasses.dataclass
class RowCall:
    """A conv or depthwise layer as one CMSIS-NN call per output row: the call reads the slab of input rows that
    row's window covers (with the padding it has at the top) and writes that row alone. Each call touches only
    its row, whatever order CMSIS-NN's kernel computes pixels and channels in, so the portable build's overlaps
    and fusions hold for it too."""

    layer: object
    kind: str  # "convolve" or "depthwise_conv"
    filter_channels: int
    out_channels: int
    scratch: dict  # build -> bytes
    extra_parameter: str = ""  # depthwise: ch_mult

    def lines(self, emission, input_row, output_row, scratch="scratch"):
        """C for output row `oy`: input rows through `input_row(expression)`, the row written at `output_row`.
        check_lines() must have run before the first row."""
        geometry = self._geometry()
        in_h, (stride_h, pad_top) = geometry["input"][0], (geometry["stride"][0], geometry["padding"][0])
        rows = [
            f"const int in_y0 = oy * {stride_h} - {pad_top};",
            "const int first = in_y0 > 0 ? in_y0 : 0;",
            f"const int end = in_y0 + {self._span()} < {in_h} ? in_y0 + {self._span()} : {in_h};",
        ]
        declarations = self._declarations(emission, "first - in_y0", "end - first", 1, scratch)
        return rows + declarations + self._invocation(emission, input_row("first"), output_row)

    def check_lines(self, emission):
        """Before the row calls, once: CMSIS-NN's buffer for a row is no larger than the plan reserved."""
        rows = min(self._span(), self._geometry()["input"][0])
        declarations = self._declarations(emission, 0, rows, 1, "0")
        needed = ("parameters", "input_dims", "filter_dims", "output_dims")
        kept = [line for line in declarations if any(f" {name} = " in line for name in needed)]
        return ["{", *indent(kept + self._check()), "}"]

    def whole_call(self, emission):
        """The layer as one call over the whole tensor."""
        geometry = self._geometry()
        declarations = self._declarations(
            emission, geometry["padding"][0], geometry["input"][0], geometry["output"][0], "scratch"
        )
        return declarations + self._check() + self._invocation(emission, emission.input(0), emission.output(0))

    def _span(self):
        return (self.layer.constant(1).shape[1] - 1) * self._geometry()["dilation"][0] + 1

    def _geometry(self):
        filter_h, filter_w = self.layer.constant(1).shape[1:3]
        return _geometry(self.layer, filter_h, filter_w, self.filter_channels)

    def _function(self):
        return f"arm_{self.kind}_wrapper_s8"

    def _declarations(self, emission, pad_top, input_rows, output_rows, scratch):
        layer, out_channels = self.layer, self.out_channels
        names = per_channel_constants(layer, emission, out_channels)
        filter_h, filter_w = layer.constant(1).shape[1:3]
        _, in_w, in_c = nhwc(layer.inputs[0])
        _, out_w, _ = nhwc(layer.outputs[0])
        geometry = self._geometry()
        (stride_h, stride_w), pad_left = geometry["stride"], geometry["padding"][1]
        dilation_h, dilation_w = geometry["dilation"]
        _, input_zero_point = quantization(layer.inputs[0])
        _, output_zero_point = quantization(layer.outputs[0])
        low, high = output_range(layer.call())
        structure = "dw_conv" if self.kind == "depthwise_conv" else "conv"
        return [
            f"const cmsis_nn_context context = {{{scratch if any(self.scratch.values()) else '0'}, "
            f"{max(self.scratch.values())}}};",
            f"const cmsis_nn_{structure}_params parameters = {{{-input_zero_point}, {output_zero_point}, "
            f"{self.extra_parameter}{{{stride_w}, {stride_h}}}, {{{pad_left}, {pad_top}}}, "
            f"{{{dilation_w}, {dilation_h}}}, {{{low}, {high}}}}};",
            f"const cmsis_nn_per_channel_quant_params quantization = {{(int32_t *){names['multiplier']}, "
            f"(int32_t *){names['shift']}}};",
            f"const cmsis_nn_dims input_dims = {{1, {input_rows}, {in_w}, {in_c}}};",
            f"const cmsis_nn_dims filter_dims = {_dims(1, filter_h, filter_w, self.filter_channels)};",
            f"const cmsis_nn_dims bias_dims = {_dims(1, 1, 1, out_channels)};",
            f"const cmsis_nn_dims output_dims = {_dims(1, output_rows, out_w, out_channels)};",
        ]

    def _check(self):
        reserved = "EDGECNN_SCRATCH(" + ", ".join(str(self.scratch[build]) for build in ("dsp", "mve")) + ")"
        return _buffer_check(
            f"{self._function()}_get_buffer_size(&parameters, &input_dims, &filter_dims, &output_dims)", reserved
        )

    def _invocation(self, emission, source, target):
        names = per_channel_constants(self.layer, emission, self.out_channels)
        return _call_checked(
            f"{self._function()}(&context, &parameters, &quantization, &input_dims, {source}, &filter_dims, "
            f"{names['filter']}, &bias_dims, {names['bias']}, &output_dims, {target})"
        )

    def whole(self, emission):
        """The layer: the row calls in order."""
        from edgecnn.codegen.ops import conv

        window = conv.window_of(self.layer)
        input_row = conv.contiguous_rows(emission.input(0), window.input_row_bytes)
        output_row = f"{emission.output(0)} + oy * {window.output_row_bytes}"
        return self.check_lines(emission) + conv.whole_op(window, self.lines(emission, input_row, output_row))


def _row_geometries(layer, filter_h, filter_w, filter_channels):
    """The geometries of the calls: a slab as tall as the window, a single row (the 1xN kernels), the whole."""
    full = _geometry(layer, filter_h, filter_w, filter_channels)
    out_w = full["output"][1]
    span = (filter_h - 1) * full["dilation"][0] + 1
    slab = dict(full, input=(min(span, full["input"][0]), *full["input"][1:]), output=(1, out_w))
    return [slab, dict(slab, input=(1, *full["input"][1:])), full]


def conv_2d_row_call(layer):
    out_channels, filter_h, filter_w, filter_depth = layer.constant(1).shape
    geometries = _row_geometries(layer, filter_h, filter_w, filter_depth)
    scratch = {
        build: max(convolve_buffer_bytes(geometry, build == "mve") for geometry in geometries)
        for build in ("dsp", "mve")
    }
    return RowCall(layer, "convolve", filter_depth, out_channels, scratch)


def depthwise_conv_2d_row_call(layer):
    _, filter_h, filter_w, out_channels = layer.constant(1).shape
    _, _, in_c = nhwc(layer.inputs[0])
    geometries = _row_geometries(layer, filter_h, filter_w, out_channels)
    scratch = {
        build: max(depthwise_buffer_bytes(geometry, build == "mve") for geometry in geometries)
        for build in ("dsp", "mve")
    }
    return RowCall(layer, "depthwise_conv", out_channels, out_channels, scratch, f"{out_channels // in_c}, ")


ROW_CALLS = {"CONV_2D": conv_2d_row_call, "DEPTHWISE_CONV_2D": depthwise_conv_2d_row_call}


def conv_2d(layer, emission):
    row_call = conv_2d_row_call(layer)
    return CmsisCall(row_call.whole(emission), row_call.scratch, ("dsp", "mve"), row_call.whole_call(emission))


def depthwise_conv_2d(layer, emission):
    row_call = depthwise_conv_2d_row_call(layer)
    return CmsisCall(row_call.whole(emission), row_call.scratch, ("dsp", "mve"), row_call.whole_call(emission))


def fully_connected(layer, emission):
    weights = layer.constant(1)
    units, depth = weights.shape
    weight_quantization = layer.inputs[1].quantization
    if not weight_quantization.is_per_channel and int(weight_quantization.zero_points[0]) != 0:
        return None  # CMSIS-NN requires filter_offset 0
    rows = layer.inputs[0].nbytes // depth
    input_scale, input_zero_point = quantization(layer.inputs[0])
    output_scale, output_zero_point = quantization(layer.outputs[0])
    multipliers, shifts = kernels_conv.micro_fully_connected_multipliers(
        input_scale, weight_quantization.scales, output_scale, units
    )
    low, high = output_range(layer.call())
    bias = layer.constant(2)
    bias = np.zeros(units, np.int64) if bias is None else np.asarray(bias, np.int64).reshape(-1)
    # MVE builds read the kernel sums (arm_vector_sum_s8: bias + zp term per unit) from the context buffer;
    # TFLite Micro computes them in Prepare, here they are constants.
    sums = bias + (-input_zero_point) * np.asarray(weights, np.int64).sum(axis=1)
    kernel_sums = emission.constant(sums, np.int32, "kernel_sums")
    names = {
        "weights": emission.constant(weights, np.int8, "weights"),
        "bias": emission.constant(bias, np.int32, "bias"),
    }
    common = [
        f"const cmsis_nn_context context = {{(void *){kernel_sums}, {4 * units}}};",
        f"const cmsis_nn_fc_params parameters = {{{-input_zero_point}, 0, {output_zero_point}, {{{low}, {high}}}}};",
        f"const cmsis_nn_dims input_dims = {_dims(rows, 1, 1, depth)};",
        f"const cmsis_nn_dims filter_dims = {_dims(depth, 1, 1, units)};",
        f"const cmsis_nn_dims bias_dims = {_dims(1, 1, 1, units)};",
        f"const cmsis_nn_dims output_dims = {_dims(rows, 1, 1, units)};",
    ]
    arguments = (
        f"&context, &parameters, &quantization, &input_dims, {emission.input(0)}, &filter_dims, "
        f"{names['weights']}, &bias_dims, {names['bias']}, &output_dims, {emission.output(0)}"
    )
    if np.ndim(multipliers):
        multiplier = emission.constant(multipliers, np.int32, "multiplier")
        shift = emission.constant(shifts, np.int32, "shift")
        quant = (
            f"const cmsis_nn_per_channel_quant_params quantization = {{(int32_t *){multiplier}, "
            f"(int32_t *){shift}}};"
        )
        call = f"arm_fully_connected_per_channel_s8({arguments})"
    else:
        quant = f"const cmsis_nn_per_tensor_quant_params quantization = {{{int(multipliers)}, {int(shifts)}}};"
        call = f"arm_fully_connected_s8({arguments})"
    return CmsisCall([*common, quant, *_call_checked(call)])


def _pool(layer, emission, function):
    in_h, in_w, channels = nhwc(layer.inputs[0])
    out_h, out_w, _ = nhwc(layer.outputs[0])
    options = layer.options
    filter_h, filter_w = options["filter_height"], options["filter_width"]
    (pad_top, _), (pad_left, _) = padding_for(layer.call(), in_h, in_w, filter_h, filter_w, out_h, out_w)
    low, high = output_range(layer.call())
    scratch = {"dsp": 4 * channels, "mve": 0} if function == "arm_avgpool_s8" else {}
    lines = [
        f"const cmsis_nn_context context = {{{'scratch' if scratch else '0'}, {scratch.get('dsp', 0)}}};",
        f"const cmsis_nn_pool_params parameters = {{{{{options['stride_w']}, {options['stride_h']}}}, "
        f"{{{pad_left}, {pad_top}}}, {{{low}, {high}}}}};",
        f"const cmsis_nn_dims input_dims = {_dims(1, in_h, in_w, channels)};",
        f"const cmsis_nn_dims filter_dims = {_dims(1, filter_h, filter_w, 1)};",
        f"const cmsis_nn_dims output_dims = {_dims(1, out_h, out_w, channels)};",
    ]
    if scratch:
        lines += _buffer_check(
            f"arm_avgpool_s8_get_buffer_size({out_w}, {channels})", f"EDGECNN_SCRATCH({4 * channels}, 0)"
        )
    lines += _call_checked(
        f"{function}(&context, &parameters, &input_dims, {emission.input(0)}, &filter_dims, &output_dims, "
        f"{emission.output(0)})"
    )
    return CmsisCall(lines, scratch, ("dsp",))


def average_pool_2d(layer, emission):
    return _pool(layer, emission, "arm_avgpool_s8")


def max_pool_2d(layer, emission):
    return _pool(layer, emission, "arm_max_pool_s8")


def _same_shapes(layer):
    shapes = [tuple(tensor.shape) for tensor in (*layer.inputs[:2], layer.outputs[0])]
    return len(set(shapes)) == 1


def add(layer, emission):
    if not _same_shapes(layer):
        return None  # TFLite Micro broadcasts with its reference kernel
    parameters = kernels_basic.add_parameters(layer.call())
    low, high = output_range(layer.call())
    count = layer.outputs[0].nbytes
    call = (
        f"arm_elementwise_add_s8({emission.input(0)}, {emission.input(1)}, {-parameters.first_zero_point}, "
        f"{parameters.first_multiplier}, {parameters.first_shift}, {-parameters.second_zero_point}, "
        f"{parameters.second_multiplier}, {parameters.second_shift}, {kernels_basic.ADD_LEFT_SHIFT}, "
        f"{emission.output(0)}, {parameters.output_zero_point}, {parameters.output_multiplier}, "
        f"{parameters.output_shift}, {low}, {high}, {count})"
    )
    return CmsisCall(_call_checked(call), keeps_overlap=("dsp", "mve"))


def mul(layer, emission):
    if not _same_shapes(layer):
        return None
    _, first_zero_point = quantization(layer.inputs[0])
    _, second_zero_point = quantization(layer.inputs[1])
    _, output_zero_point = quantization(layer.outputs[0])
    multiplier, shift = kernels_basic.mul_multiplier(layer.call())
    low, high = output_range(layer.call())
    call = (
        f"arm_elementwise_mul_s8({emission.input(0)}, {emission.input(1)}, {-first_zero_point}, "
        f"{-second_zero_point}, {emission.output(0)}, {output_zero_point}, {multiplier}, {shift}, {low}, {high}, "
        f"{layer.outputs[0].nbytes})"
    )
    return CmsisCall(_call_checked(call), keeps_overlap=("dsp", "mve"))


def softmax(layer, emission):
    input_scale, _ = quantization(layer.inputs[0])
    multiplier, left_shift, diff_min = activations.softmax_parameters(input_scale, layer.options.get("beta", 1.0))
    shape = [int(size) for size in layer.inputs[0].shape] or [1]
    depth = shape[-1]
    rows = layer.inputs[0].nbytes // depth
    return CmsisCall(
        [
            f"arm_softmax_s8({emission.input(0)}, {rows}, {depth}, {multiplier}, {left_shift}, {diff_min}, "
            f"{emission.output(0)});"
        ]
    )


def per_channel_constants(layer, emission, out_channels, filter_position=1, bias_position=2):
    """The conv's constant arrays; equal contents share one definition with the portable body's."""
    input_scale, _ = quantization(layer.inputs[0])
    output_scale, _ = quantization(layer.outputs[0])
    multipliers, shifts = per_channel_multipliers(
        input_scale, layer.inputs[filter_position].quantization.scales, output_scale, out_channels
    )
    bias = layer.constant(bias_position)
    bias = np.zeros(out_channels, np.int64) if bias is None else np.asarray(bias, np.int64).reshape(-1)
    return {
        "filter": emission.constant(layer.constant(filter_position), np.int8, "filter"),
        "bias": emission.constant(bias, np.int32, "bias"),
        "multiplier": emission.constant(multipliers, np.int32, "multiplier"),
        "shift": emission.constant(shifts, np.int32, "shift"),
    }
