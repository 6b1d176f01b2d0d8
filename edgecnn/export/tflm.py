"""TFLite Micro sources for a model: the model array, its op resolver, labels and arena size.

Follows tflite-micro's generate_cc_arrays.py naming (g_<name>_model_data, alignas(16), a size constant in the
header); `legacy_names` gives the xxd-style g_model / g_model_len the Arduino examples expect.
"""

import dataclasses
import hashlib
import pathlib

from edgecnn import artifacts, atomic, tflite
from edgecnn.errors import UnsupportedModelError
from edgecnn.export import arena
from edgecnn.export.c_text import byte_rows, c_identifier, c_string

# TFLite op name -> MicroMutableOpResolver method (tensorflow/lite/micro/micro_mutable_op_resolver.h)
RESOLVER_METHODS = {
    "ADD": "AddAdd",
    "AVERAGE_POOL_2D": "AddAveragePool2D",
    "BATCH_MATMUL": "AddBatchMatMul",
    "CONCATENATION": "AddConcatenation",
    "CONV_2D": "AddConv2D",
    "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D",
    "DEPTH_TO_SPACE": "AddDepthToSpace",
    "DEQUANTIZE": "AddDequantize",
    "EXPAND_DIMS": "AddExpandDims",
    "FULLY_CONNECTED": "AddFullyConnected",
    "GATHER": "AddGather",
    "HARD_SWISH": "AddHardSwish",
    "LEAKY_RELU": "AddLeakyRelu",
    "LOGISTIC": "AddLogistic",
    "MAXIMUM": "AddMaximum",
    "MAX_POOL_2D": "AddMaxPool2D",
    "MEAN": "AddMean",
    "MINIMUM": "AddMinimum",
    "MIRROR_PAD": "AddMirrorPad",
    "MUL": "AddMul",
    "PACK": "AddPack",
    "PAD": "AddPad",
    "PADV2": "AddPadV2",
    "PRELU": "AddPrelu",
    "QUANTIZE": "AddQuantize",
    "REDUCE_MAX": "AddReduceMax",
    "RELU": "AddRelu",
    "RELU6": "AddRelu6",
    "RESHAPE": "AddReshape",
    "RESIZE_BILINEAR": "AddResizeBilinear",
    "RESIZE_NEAREST_NEIGHBOR": "AddResizeNearestNeighbor",
    "SLICE": "AddSlice",
    "SOFTMAX": "AddSoftmax",
    "SPACE_TO_DEPTH": "AddSpaceToDepth",
    "SPLIT": "AddSplit",
    "SPLIT_V": "AddSplitV",
    "SQUEEZE": "AddSqueeze",
    "STRIDED_SLICE": "AddStridedSlice",
    "SUB": "AddSub",
    "SUM": "AddSum",
    "TANH": "AddTanh",
    "TRANSPOSE": "AddTranspose",
    "TRANSPOSE_CONV": "AddTransposeConv",
    "UNPACK": "AddUnpack",
}

BYTES_PER_LINE = 12


@dataclasses.dataclass
class TflmSources:
    """The generated files, name -> text, plus the figures they are built from."""

    files: dict
    arena_bytes: int
    ops: list
    out_dir: pathlib.Path = None  # where write_tflm_sources put them
    arena: object = None  # arena.TflmArena: the figure of each kernel set

    def summary(self):
        return (
            f"wrote {', '.join(sorted(self.files))} to {self.out_dir}\n"
            f"ops: {', '.join(self.ops)}; kTensorArenaSize = {self.arena_bytes} bytes on a 32-bit target "
            f"({self.arena.summary()})"
        )


def generate_tflm_sources(model_path, name=None, labels=None, legacy_names=False):
    """Build model_data.cc/.h, op_resolver.h, labels.h and model_settings.h for `model_path`."""
    model_path = pathlib.Path(model_path)
    model = tflite.read_model(model_path)  # by path, so errors name the file
    data = model_path.read_bytes()
    graph = model.main
    ops = tflite.op_names(model)
    unsupported = [op for op in ops if op not in RESOLVER_METHODS]
    if unsupported:
        raise UnsupportedModelError(
            f"{model_path}: TFLite Micro export does not know the op(s) {', '.join(unsupported)}"
        )
    name = c_identifier(name or model_path.stem)
    if legacy_names:
        array_name, size_name = "g_model", "g_model_len"
    else:
        array_name, size_name = f"g_{name}_model_data", f"g_{name}_model_data_size"
    is_image = len(graph.tensors[graph.inputs[0]].shape) >= 3
    if labels is None:
        labels = artifacts.tflite_labels(model)
    layout = artifacts.tflite_input_layout(model) if is_image else "nhwc"
    figures = arena.tflm_arena(model)
    header_comment = _header_comment(model_path, data, graph, ops, figures)
    files = {
        "model_data.h": _model_header(header_comment, array_name, size_name, len(data), legacy_names),
        "model_data.cc": _model_source(header_comment, array_name, size_name, data, legacy_names),
        "op_resolver.h": _op_resolver(ops),
        "labels.h": _labels_header(labels),
        "model_settings.h": _settings_header(graph, figures, layout),
    }
    return TflmSources(files=files, arena_bytes=figures.recommended_bytes, ops=ops, arena=figures)


def write_tflm_sources(sources, out_dir):
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for file_name, text in sources.files.items():
        atomic.write_text(out_dir / file_name, text)
    sources.out_dir = out_dir
    return sorted(sources.files)


def _quantization_text(tensor):
    quantization = tensor.quantization
    if not quantization.is_quantized:
        return f"{tensor.type_name} {list(tensor.shape)} not quantized"
    return (
        f"{tensor.type_name} {list(tensor.shape)} scale {float(quantization.scales[0]):.9g} "
        f"zero_point {int(quantization.zero_points[0])}"
    )


def _header_comment(model_path, data, graph, ops, figures):
    lines = [
        f"Generated by edgecnn from {model_path.name}; do not edit.",
        f"SHA-256: {hashlib.sha256(data).hexdigest()}",
        f"Size: {len(data)} bytes",
        f"Ops: {', '.join(ops)}",
    ]
    for role, indices in (("Input", graph.inputs), ("Output", graph.outputs)):
        for index in indices:
            lines.append(f"{role} {index}: {_quantization_text(graph.tensors[index])}")
    kernel_sets = (("reference", figures.reference), ("CMSIS-NN (DSP cores)", figures.cmsis_nn),
                   ("CMSIS-NN (Cortex-M55, MVE)", figures.cmsis_nn_mve))
    for kernels, estimate in kernel_sets:
        lines.append(
            f"Arena with {kernels} kernels: {estimate.recommended_bytes()} bytes "
            f"(planned tensors and scratch {estimate.head_bytes}, interpreter overhead {estimate.tail_bytes})"
        )
    return "".join(f"// {line}\n" for line in lines)


def _model_header(comment, array_name, size_name, size, legacy_names):
    guard = "EDGECNN_MODEL_DATA_H_"
    size_type = "unsigned int"
    declaration = (
        f"extern const unsigned int {size_name};\n"
        if legacy_names
        else f"constexpr {size_type} {size_name} = {size};\n"
    )
    return (
        f"{comment}\n#ifndef {guard}\n#define {guard}\n\n"
        f"extern const unsigned char {array_name}[];\n{declaration}\n#endif  // {guard}\n"
    )


def _model_source(comment, array_name, size_name, data, legacy_names):
    size_line = f"const unsigned int {size_name} = {len(data)};\n" if legacy_names else ""
    return (
        f'{comment}\n#include "model_data.h"\n\n'
        f"alignas(16) const unsigned char {array_name}[] = {{\n{byte_rows(data, BYTES_PER_LINE)}\n}};\n{size_line}"
    )


def _op_resolver(ops):
    methods = "".join(
        f"  if (resolver.{RESOLVER_METHODS[op]}() != kTfLiteOk) return kTfLiteError;\n" for op in ops
    )
    return (
        "// Generated by edgecnn; do not edit. Registers exactly the ops the model uses.\n"
        "#ifndef EDGECNN_OP_RESOLVER_H_\n#define EDGECNN_OP_RESOLVER_H_\n\n"
        '#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"\n\n'
        f"constexpr int kNumberOfOps = {len(ops)};\n"
        "using ModelOpResolver = tflite::MicroMutableOpResolver<kNumberOfOps>;\n\n"
        "inline TfLiteStatus RegisterModelOps(ModelOpResolver& resolver) {\n"
        f"{methods}  return kTfLiteOk;\n}}\n\n#endif  // EDGECNN_OP_RESOLVER_H_\n"
    )


def _labels_header(labels):
    entries = "".join(f"    {c_string(label)},\n" for label in labels)
    return (
        "// Generated by edgecnn; do not edit.\n#ifndef EDGECNN_LABELS_H_\n#define EDGECNN_LABELS_H_\n\n"
        f"constexpr int kLabelCount = {len(labels)};\n"
        f"constexpr const char* kLabels[kLabelCount] = {{\n{entries}}};\n\n#endif  // EDGECNN_LABELS_H_\n"
    )


def _arena_constant(figures):
    comment = (
        "// Tensor arena on a 32-bit target: edgecnn's plan of the model's tensors plus TFLite Micro's interpreter\n"
        f"// overhead, enough for the reference kernels ({figures.reference.recommended_bytes()} bytes) and "
        f"CMSIS-NN ({figures.cmsis_nn.recommended_bytes()}).\n"
    )
    if figures.mve_bytes == figures.recommended_bytes:
        return comment + f"constexpr int kTensorArenaSize = {figures.recommended_bytes};\n"
    return (
        comment + "// On a Cortex-M55 with Helium (MVE), CMSIS-NN's scratch buffers are larger.\n"
        f"#if defined(__ARM_FEATURE_MVE)\nconstexpr int kTensorArenaSize = {figures.mve_bytes};\n#else\n"
        f"constexpr int kTensorArenaSize = {figures.recommended_bytes};\n#endif\n"
    )


def _settings_header(graph, figures, layout):
    """Arena size and input geometry; kInputChannelsFirst says the input tensor is (C, H, W), not (H, W, C)."""
    input_tensor = graph.tensors[graph.inputs[0]]
    shape = list(input_tensor.shape)
    dimensions = shape[-3:] if len(shape) >= 3 else [1, 1, shape[-1] if shape else 1]
    if layout == "nchw":
        dimensions = dimensions[1:] + dimensions[:1]
    height, width, channels = dimensions
    return (
        "// Generated by edgecnn; do not edit.\n#ifndef EDGECNN_MODEL_SETTINGS_H_\n"
        "#define EDGECNN_MODEL_SETTINGS_H_\n\n"
        + _arena_constant(figures)
        + f"constexpr int kInputHeight = {height};\nconstexpr int kInputWidth = {width};\n"
        f"constexpr int kInputChannels = {channels};\n"
        f"constexpr bool kInputChannelsFirst = {'true' if layout == 'nchw' else 'false'};\n\n"
        "#endif  // EDGECNN_MODEL_SETTINGS_H_\n"
    )
