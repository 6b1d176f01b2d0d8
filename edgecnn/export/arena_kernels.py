"""What each op's kernel asks the arena for while it is prepared: persistent buffers (the tail) and scratch
buffers (planned in the head with the tensors, alive while the op runs).

Reference kernels: tensorflow/lite/micro/kernels/*.cc. CMSIS-NN kernels: kernels/cmsis_nn/*.cc, whose scratch
sizes are CMSIS-NN's *_get_buffer_size() functions; they depend on the core: "dsp" for Cortex-M4/M7/M33 (the DSP
extension), "mve" for Cortex-M55 (Helium). Sizes are for the 32-bit build; the 64-bit host build asks for the
same buffers.
"""

REFERENCE = "reference"
CMSIS_NN = "cmsis-nn"
CMSIS_NN_ARCHITECTURES = ("dsp", "mve")
# CMSIS-NN's thresholds (Include/arm_nnsupportfunctions.h)
CH_IN_BLOCK_MVE = 124
REVERSE_TCOL_EFFICIENT_THRESHOLD = 16
DW_ONE_INPUT_CHANNEL_THRESHOLD_MVE = 8  # CONVERT_DW_CONV_WITH_ONE_INPUT_CH_AND_OUTPUT_CH_ABOVE_THRESHOLD with gcc


def persistent_buffers(graph, operator, kernels, architecture=None):
    """Byte counts of the buffers the op's Prepare allocates in the tail, in order."""
    tensors = graph.tensors
    name = operator.name
    if name in ("CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV") and _is_quantized(tensors[_activation(operator)]):
        weights = tensors[operator.inputs[1]]
        channels = weights.shape[3] if name == "DEPTHWISE_CONV_2D" else weights.shape[0]
        return [4 * channels, 4 * channels]  # per-channel output multipliers and shifts
    if name == "FULLY_CONNECTED":
        buffers = []
        weights = tensors[operator.inputs[1]]
        if weights.quantization.is_per_channel:
            buffers += [4 * weights.quantization.scales.size] * 2
        if kernels == CMSIS_NN and architecture == "mve" and _cmsis_fully_connected_kernel_sums(graph, operator):
            buffers.append(4 * _output_depth(graph, operator))
        return buffers
    if name == "SOFTMAX" and tensors[operator.inputs[0]].type_name == "INT16":
        return [2 * 513, 2 * 513]  # exp and reciprocal lookup tables
    if name in ("GATHER", "DEPTH_TO_SPACE", "SPACE_TO_DEPTH") or (name == "RESHAPE" and _reshape_stretches(
            graph, operator)):
        return [_dims_bytes(tensors[operator.outputs[0]])]  # CreateWritableTensorDimsWithCopy
    if name == "BATCH_MATMUL":
        return _batch_matmul_buffers(graph, operator)
    return []


def _dims_bytes(tensor):
    """A TfLiteIntArray of the tensor's rank: the output dims an op rewrites, copied out of the flatbuffer."""
    return 4 + 4 * len(tensor.shape)


def _reshape_stretches(graph, operator):
    shape = graph.tensors[operator.inputs[1]].data if len(operator.inputs) > 1 and operator.inputs[1] >= 0 else None
    if shape is None:
        shape = operator.options.get("new_shape") or []
    return any(int(value) == -1 for value in list(shape))


def _batch_matmul_buffers(graph, operator):
    """The quantization parameters, a transposed copy (eval tensor, dims, data) of each operand the kernel
    transposes, and the output dims."""
    tensors = graph.tensors
    left, right = tensors[operator.inputs[0]], tensors[operator.inputs[1]]
    buffers = [28] if left.type_name in ("INT8", "INT16") else []
    transposed = ([left] if operator.options.get("adj_x") else []) + ([] if operator.options.get("adj_y") else [right])
    for tensor in transposed:
        buffers += [12, _dims_bytes(tensor), tensor.nbytes]
    return buffers + [_dims_bytes(tensors[operator.outputs[0]])]


def scratch_buffers(graph, operator, kernels, architecture=None):
    """Byte counts of the scratch buffers the op requests (planned in the head, alive during the op)."""
    tensors = graph.tensors
    name = operator.name
    if name in ("MEAN", "SUM"):
        source, axis, output = (tensors[index] for index in (operator.inputs[0], operator.inputs[1],
                                                               operator.outputs[0]))
        requests = [4 * _elements(output.shape)] if source.type_name in ("INT8", "INT16") else []
        return requests + [4 * len(source.shape), 4 * _elements(axis.shape)]
    if name == "REDUCE_MAX":
        source, axis = tensors[operator.inputs[0]], tensors[operator.inputs[1]]
        return [4 * len(source.shape), 4 * _elements(axis.shape)]
    if name == "MIRROR_PAD":
        return [4 * len(tensors[operator.inputs[0]].shape)] * 2
    if kernels == CMSIS_NN:
        sizes = _cmsis_scratch(graph, operator, architecture)
        if sizes is not None:
            return sizes
    if name == "TRANSPOSE_CONV" and tensors[operator.inputs[2]].type_name == "INT8":
        return [4 * _elements(tensors[operator.outputs[0]].shape)]  # int32 accumulators
    return []


def _cmsis_scratch(graph, operator, architecture):
    """CMSIS-NN's requests for the ops it implements; None for ops that keep the reference kernel's."""
    tensors = graph.tensors
    name = operator.name
    if name not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "TRANSPOSE_CONV"):
        return None
    source = tensors[_activation(operator)]
    if source.type_name != "INT8":
        return []
    if name == "CONV_2D":
        size = _convolve_wrapper_buffer(graph, operator, architecture)
    elif name == "DEPTHWISE_CONV_2D":
        size = _depthwise_wrapper_buffer(graph, operator, architecture)
    elif name == "FULLY_CONNECTED":
        return _cmsis_fully_connected_scratch(graph, operator, architecture)
    elif name == "AVERAGE_POOL_2D":
        size = 4 * tensors[operator.outputs[0]].shape[-1] if architecture == "dsp" else 0
    else:
        # Two requests whatever their sizes: the accumulators and the reversed filter (0 when not reversed).
        return list(_transpose_conv_buffers(graph, operator, architecture))
    return [size] if size > 0 else []


def _conv_geometry(graph, operator):
    """(input N, H, W, C), (filter H, W, C), (output H, W, C), strides, dilations, paddings (h, w)."""
    tensors = graph.tensors
    options = operator.options
    source, weights, output = (tensors[index] for index in (operator.inputs[0], operator.inputs[1],
                                                           operator.outputs[0]))
    strides = (options.get("stride_h", 1), options.get("stride_w", 1))
    dilations = (options.get("dilation_h_factor", 1), options.get("dilation_w_factor", 1))
    paddings = tuple(
        _padding(options.get("padding"), source.shape[axis], weights.shape[axis], strides[axis - 1],
                 dilations[axis - 1], output.shape[axis])
        for axis in (1, 2)
    )
    return source.shape, weights.shape, output.shape, strides, dilations, paddings


def _padding(kind, size, kernel, stride, dilation, output):
    """TFLite's ComputePaddingHeightWidth for one axis: the leading padding of SAME, 0 for VALID."""
    if kind != "SAME":
        return 0
    effective = (kernel - 1) * dilation + 1
    total = max((output - 1) * stride + effective - size, 0)
    return total // 2


def _convolve_wrapper_buffer(graph, operator, architecture):
    source, weights, output, strides, dilations, paddings = _conv_geometry(graph, operator)
    channels, kernel_h, kernel_w = source[3], weights[1], weights[2]
    filter_channels = weights[3]
    if paddings == (0, 0) and (kernel_h, kernel_w) == (1, 1) and dilations == (1, 1) and channels == filter_channels:
        return 0  # 1x1: arm_convolve_1x1_s8_fast needs no buffer with gcc, the strided 1x1 none at all
    one_by_n = (source[1] == 1 and dilations[1] == 1 and kernel_h == 1 and (strides[1] * channels) % 4 == 0
                and channels == filter_channels)
    if architecture == "mve":
        if one_by_n:
            size = _one_by_n_buffer_mve(source, weights, output, strides, paddings)
            if size is not None:
                return size
        return _convolve_buffer_mve(channels, kernel_h, kernel_w)
    columns = kernel_h * kernel_w * channels
    return 2 * (columns + (-columns) % 4) * 2  # two im2col columns of int16, padded to 4


def _convolve_buffer_mve(channels, kernel_h, kernel_w):
    return 4 * ((channels * kernel_h * kernel_w + 15) // 16) * 16


def _one_by_n_buffer_mve(source, weights, output, strides, paddings):
    input_x, channels, kernel_x, output_x, stride_x, pad_x = (source[2], source[3], weights[2], output[2],
                                                              strides[1], paddings[1])
    total_pad = (output_x - 1) * stride_x + kernel_x - input_x
    asymmetric = total_pad % 2
    right = max(1, (pad_x + asymmetric + stride_x - 1) // stride_x) if pad_x + asymmetric else 0
    left = max(1, (pad_x + stride_x - 1) // stride_x) if pad_x else 0
    middle = max(output_x - (right + left), 0)
    if right + middle + left != output_x:
        return None
    pad_left = pad_x * channels
    pad_right = right * channels if asymmetric else pad_left
    left_elements = kernel_x * channels
    return max(left_elements + pad_left, left_elements - channels + pad_right)


def _depthwise_wrapper_buffer(graph, operator, architecture):
    source, weights, output, _, dilations, paddings = _conv_geometry(graph, operator)
    in_channels, out_channels, kernel_h, kernel_w = source[3], output[3], weights[1], weights[2]
    unit = in_channels == out_channels and source[0] == 1 and dilations == (1, 1)
    if architecture == "mve":
        if in_channels == 1 and out_channels > DW_ONE_INPUT_CHANNEL_THRESHOLD_MVE:
            # Run as a convolution: its buffer plus the reordered weights.
            return _convolve_buffer_mve(1, kernel_h, kernel_w) + out_channels * kernel_h * kernel_w
        return 4 * CH_IN_BLOCK_MVE * kernel_w * kernel_h if unit else 0
    if not unit or ((kernel_h, kernel_w) == (3, 3) and max(paddings) <= 1):
        return 0
    return in_channels * kernel_w * kernel_h * 2


def _cmsis_fully_connected_scratch(graph, operator, architecture):
    tensors = graph.tensors
    weights = tensors[operator.inputs[1]]
    output = tensors[operator.outputs[0]]
    depth = weights.shape[-1]
    if len(output.shape) > 2 and depth % 4 == 0:  # run as a 1x1 convolution
        requests = [] if weights.quantization.is_per_channel else [8 * output.shape[-1]]
        return requests  # arm_convolve_1x1_s8_fast_get_buffer_size is 0 with gcc
    if architecture == "mve" and not _cmsis_fully_connected_kernel_sums(graph, operator):
        return [4 * output.shape[-1]]
    return []


def _cmsis_fully_connected_kernel_sums(graph, operator):
    """CMSIS-NN precomputes kernel sums into a persistent buffer when weights and bias are constants (MVE)."""
    tensors = graph.tensors
    output = tensors[operator.outputs[0]]
    if len(output.shape) > 2 and tensors[operator.inputs[1]].shape[-1] % 4 == 0:
        return False
    bias = operator.inputs[2] if len(operator.inputs) > 2 else -1
    return tensors[operator.inputs[1]].is_constant and (bias < 0 or tensors[bias].is_constant)


def _output_depth(graph, operator):
    return graph.tensors[operator.outputs[0]].shape[-1]


def _transpose_conv_buffers(graph, operator, architecture):
    """arm_transpose_conv_s8_get_buffer_size and ..._get_reverse_conv_buffer_size."""
    tensors = graph.tensors
    options = operator.options
    weights, source, output = (tensors[index] for index in (operator.inputs[1], operator.inputs[2],
                                                           operator.outputs[0]))
    stride_h, stride_w = options.get("stride_h", 1), options.get("stride_w", 1)
    kernel_h, kernel_w, channels = weights.shape[1], weights.shape[2], source.shape[3]
    if stride_h <= 2 and stride_w <= 2 and channels > REVERSE_TCOL_EFFICIENT_THRESHOLD:
        if architecture == "mve":
            size = _convolve_buffer_mve(channels, kernel_h, kernel_w)
        else:
            columns = kernel_h * kernel_w * channels
            size = 2 * (columns + (-columns) % 4) * 2
        return size, channels * kernel_w * kernel_h * output.shape[3]
    buffer_x = ((source.shape[2] - 1) * stride_w + max(kernel_w, stride_h)) * output.shape[3]
    return buffer_x * max(kernel_h, stride_h) * 4, 0


def _activation(operator):
    return operator.inputs[2] if operator.name == "TRANSPOSE_CONV" else operator.inputs[0]


def _is_quantized(tensor):
    return tensor.type_name != "FLOAT32"


def _elements(shape):
    count = 1
    for dimension in shape:
        count *= int(dimension)
    return count
