"""A static pre-check of a .tflite model against the Edge TPU's documented requirements.

It answers, without edgetpu_compiler (x86-64 Linux only), which ops the compiler can map and where its single
CPU/TPU split falls. Requirements from coral.ai/docs/edgetpu/models-intro:
- every tensor is 8-bit quantized (constant int32 bias, shape and axis tensors are allowed);
- tensor sizes are constant at compile time;
- tensors are 1-, 2- or 3-dimensional; with more dimensions only the 3 innermost may be larger than 1;
- only the ops in the supported-operations table, within their limits;
- the compiler partitions once: the first op it cannot map and every op after it run on the CPU.
The real compiler may still refuse an op this check accepts (it also rejects ops for precision or size reasons
it does not document), so `edgecnn edgetpu compile` remains the final word.
"""

import dataclasses

from edgecnn import tflite

# Edge TPU supported operations (models-intro, compiler 16) -> the limit the table states, or "".
SUPPORTED_OPS = {
    "ADD": "",
    "AVERAGE_POOL_2D": "no fused activation function",
    "CONCATENATION": "no fused activation function",
    "CONV_2D": "same dilation in x and y",
    "DEPTHWISE_CONV_2D": "same dilation in x and y",
    "EXPAND_DIMS": "",
    "FULLY_CONNECTED": "default weights format only",
    "HARD_SWISH": "",
    "L2_NORMALIZATION": "",
    "LOGISTIC": "",
    "LSTM": "unidirectional only",
    "MAXIMUM": "",
    "MAX_POOL_2D": "no fused activation function",
    "MEAN": "no reduction in the batch dimension",
    "MINIMUM": "",
    "MUL": "",
    "PACK": "no packing in the batch dimension",
    "PAD": "no padding in the batch dimension",
    "PRELU": "alpha 1-dimensional: only its innermost dimension above 1 (Keras PReLU: shared_axes=[1, 2])",
    "QUANTIZE": "",
    "REDUCE_MAX": "no reduction in the batch dimension",
    "REDUCE_MIN": "no reduction in the batch dimension",
    "RELU": "",
    "RELU6": "",
    "RELU_N1_TO_1": "",
    "RESHAPE": "",
    "RESIZE_BILINEAR": "3-dimensional input and output",
    "RESIZE_NEAREST_NEIGHBOR": "3-dimensional input and output",
    "RSQRT": "",
    "SLICE": "",
    "SOFTMAX": "1-D input of at most 16,000 elements",
    "SPACE_TO_DEPTH": "",
    "SPLIT": "no split in the batch dimension",
    "SQUARED_DIFFERENCE": "",
    "SQUEEZE": "",
    "STRIDED_SLICE": "",
    "SUB": "",
    "SUM": "no reduction in the batch dimension",
    "TANH": "",
    "TRANSPOSE": "",
    "TRANSPOSE_CONV": "",
}
# Ops the NumPy interpreter runs that the table does not list, so the compiler leaves them (and what follows) on
# the CPU: UNPACK, SPLIT_V, GATHER, DEPTH_TO_SPACE, PADV2, MIRROR_PAD and BATCH_MATMUL.
EIGHT_BIT_TYPES = ("INT8", "UINT8")
SOFTMAX_MAX_ELEMENTS = 16000
NO_FUSED_ACTIVATION_OPS = ("AVERAGE_POOL_2D", "MAX_POOL_2D", "CONCATENATION")
REDUCTION_OPS = ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN")
EDGETPU_CUSTOM_OP = "CUSTOM:edgetpu-custom-op"
# Ops the compiler knows but turns down for their float side; its log says "unsupported data type" for them.
FLOAT_BOUNDARY_OPS = ("DEQUANTIZE",)

# The status texts edgetpu_compiler prints in its operation log, reused so both read the same.
STATUS_MAPPED = "Mapped to Edge TPU"
STATUS_AFTER_SPLIT = "More than one subgraph is not supported"
STATUS_NOT_SUPPORTED = "Operation not supported"
STATUS_DATA_TYPE = "Operation is working on an unsupported data type"


@dataclasses.dataclass
class OpCheck:
    """One op of the main subgraph: can the Edge TPU run it, and why not."""

    index: int
    name: str
    mappable: bool  # the op itself meets the requirements
    runs_on: str  # "edgetpu" or "cpu", after the single split
    status: str
    reasons: list

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass
class EdgeTpuCheck:
    """The result of check_model: per-op verdicts, model-level problems and the split position."""

    model: str
    ops: list
    problems: list  # model-level problems (subgraphs, dynamic input, already compiled)
    split_index: object  # index of the first op that runs on the CPU, or None

    @property
    def maps_fully(self):
        return not self.problems and self.split_index is None

    @property
    def edgetpu_op_count(self):
        return sum(1 for op in self.ops if op.runs_on == "edgetpu")

    def to_dict(self):
        return {
            "model": self.model,
            "maps_fully": self.maps_fully,
            "edgetpu_ops": self.edgetpu_op_count,
            "cpu_ops": len(self.ops) - self.edgetpu_op_count,
            "split_index": self.split_index,
            "problems": list(self.problems),
            "ops": [op.to_dict() for op in self.ops],
        }

    def text(self):
        """A table of every op followed by where the split falls."""
        lines = [f"{self.model}: Edge TPU pre-check", f"{'#':>4}  {'op':<24} {'runs on':<8} status"]
        for op in self.ops:
            detail = f" ({'; '.join(op.reasons)})" if op.reasons else ""
            lines.append(f"{op.index:>4}  {op.name:<24} {op.runs_on:<8} {op.status}{detail}")
        lines.extend(f"problem: {problem}" for problem in self.problems)
        count = len(self.ops)
        if self.maps_fully:
            lines.append(f"all {count} ops map to the Edge TPU")
        elif self.split_index is not None:
            first = self.ops[self.split_index]
            lines.append(
                f"{self.edgetpu_op_count} of {count} ops map to the Edge TPU; the split falls before op "
                f"{first.index} ({first.name}): ops {first.index}..{count - 1} run on the CPU"
            )
        return "\n".join(lines)


def check_model(path_or_bytes):
    """Check a .tflite model (path or bytes) against the Edge TPU requirements."""
    model = tflite.read_model(path_or_bytes)
    graph = model.main
    problems = []
    if len(model.subgraphs) > 1:
        problems.append(f"{len(model.subgraphs)} subgraphs: the Edge TPU compiler handles only the first")
    for index in graph.inputs:
        tensor = graph.tensors[index]
        if any(dimension < 0 for dimension in tensor.shape_signature):
            problems.append(
                f"input tensor {index} ({tensor.name}) has a dynamic shape {list(tensor.shape_signature)}; "
                "convert with a fixed batch of 1"
            )
    if any(operator.name == EDGETPU_CUSTOM_OP for operator in graph.operators):
        problems.append("the model is already compiled for the Edge TPU (it holds an edgetpu-custom-op)")
    ops = []
    split_index = None
    for position, operator in enumerate(graph.operators):
        reasons, status = operator_problems(graph, operator)
        mappable = not reasons
        if not mappable and split_index is None:
            split_index = position
        after_split = split_index is not None
        if after_split and mappable:
            status = STATUS_AFTER_SPLIT
        ops.append(
            OpCheck(
                index=operator.index,
                name=operator.name,
                mappable=mappable,
                runs_on="cpu" if after_split else "edgetpu",
                status=status,
                reasons=reasons,
            )
        )
    return EdgeTpuCheck(model=model.source, ops=ops, problems=problems, split_index=split_index)


def operator_problems(graph, operator):
    """(reasons the op cannot run on the Edge TPU, compiler-style status) for one op."""
    reasons = []
    status = STATUS_MAPPED
    if operator.name == EDGETPU_CUSTOM_OP:
        return [], "Already compiled for the Edge TPU"
    type_reasons = _type_problems(graph, operator)
    if operator.name in FLOAT_BOUNDARY_OPS:
        status = STATUS_DATA_TYPE
    elif operator.name not in SUPPORTED_OPS:
        reasons.append(f"{operator.name} is not in the Edge TPU's supported operations")
        status = STATUS_NOT_SUPPORTED
    if type_reasons and status == STATUS_MAPPED:
        status = STATUS_DATA_TYPE
    reasons.extend(type_reasons)
    shape_reasons = _shape_problems(graph, operator)
    if operator.name in SUPPORTED_OPS:
        shape_reasons.extend(_limit_problems(graph, operator))
    if shape_reasons and status == STATUS_MAPPED:
        status = "Operation is otherwise supported, but not mapped due to a limitation"
    reasons.extend(shape_reasons)
    return reasons, status


def _tensors(graph, operator):
    for role, indices in (("input", operator.inputs), ("output", operator.outputs)):
        for index in indices:
            if index >= 0:
                yield role, graph.tensors[index]


def _type_problems(graph, operator):
    reasons = []
    for role, tensor in _tensors(graph, operator):
        eight_bit = tensor.type_name in EIGHT_BIT_TYPES
        if tensor.is_constant:
            # Bias, shape, axis and padding tensors are int32 constants in a full-int8 model.
            if not eight_bit and tensor.type_name != "INT32":
                reasons.append(
                    f"{role} tensor {tensor.index} ({tensor.name}) is a {tensor.type_name} constant"
                )
            continue
        if not eight_bit:
            reasons.append(f"{role} tensor {tensor.index} ({tensor.name}) is {tensor.type_name}, not 8-bit")
        elif not tensor.quantization.is_quantized:
            reasons.append(f"{role} tensor {tensor.index} ({tensor.name}) has no quantization parameters")
    return reasons


def _shape_problems(graph, operator):
    reasons = []
    for role, tensor in _tensors(graph, operator):
        if any(dimension < 0 for dimension in tensor.shape_signature):
            signature = list(tensor.shape_signature)
            reasons.append(f"{role} tensor {tensor.index} ({tensor.name}) has a dynamic size {signature}")
        # The rank limit is on activations; conv filters are 4-D constants (OHWI) by design.
        if not tensor.is_constant and len(tensor.shape) > 3 and any(d > 1 for d in tensor.shape[:-3]):
            reasons.append(
                f"{role} tensor {tensor.index} ({tensor.name}) of shape {list(tensor.shape)} has a dimension "
                "above 1 outside the 3 innermost"
            )
    return reasons


def _limit_problems(graph, operator):
    """The per-op limits of the supported-operations table that can be read from the model."""
    options = operator.options
    name = operator.name
    reasons = []
    if name in NO_FUSED_ACTIVATION_OPS and options.get("fused_activation_function", "NONE") != "NONE":
        reasons.append(f"fused activation {options['fused_activation_function']} (the table allows none)")
    if name in ("CONV_2D", "DEPTHWISE_CONV_2D") and options.get("dilation_w_factor", 1) != options.get(
        "dilation_h_factor", 1
    ):
        reasons.append("different dilation in x and y")
    if name == "FULLY_CONNECTED" and options.get("weights_format", 0) not in (0, "DEFAULT"):
        reasons.append(f"weights format {options.get('weights_format')} (only the default is supported)")
    if name == "SOFTMAX":
        shape = graph.tensors[operator.inputs[0]].shape
        elements = 1
        for dimension in shape:
            elements *= int(dimension)
        if any(dimension > 1 for dimension in shape[:-1]) or elements > SOFTMAX_MAX_ELEMENTS:
            reasons.append(
                f"input of shape {list(shape)} (the table allows 1-D with at most 16,000 elements)"
            )
    if name in REDUCTION_OPS and len(operator.inputs) > 1:
        axis_tensor = graph.tensors[operator.inputs[1]]
        rank = len(graph.tensors[operator.inputs[0]].shape)
        if axis_tensor.is_constant and rank > 1:
            axes = [int(axis) % rank for axis in axis_tensor.data.reshape(-1)]
            if 0 in axes:
                reasons.append("reduces over the batch dimension")
    if name == "PRELU" and len(operator.inputs) > 1:
        alpha = graph.tensors[operator.inputs[1]]
        if any(dimension > 1 for dimension in alpha.shape[:-1]):
            reasons.append(
                f"alpha of shape {list(alpha.shape)} (the table allows only its innermost dimension above 1)"
            )
    if name in ("PACK", "SPLIT"):
        rank = len(graph.tensors[operator.inputs[1 if name == "SPLIT" else 0]].shape) + (name == "PACK")
        axis_tensor = graph.tensors[operator.inputs[0]] if name == "SPLIT" else None
        if axis_tensor is not None and not axis_tensor.is_constant:
            axis = None
        else:
            axis = int(axis_tensor.data.reshape(-1)[0]) if axis_tensor is not None else options.get("axis", 0)
        if axis is not None and rank and axis % rank == 0:
            reasons.append(f"{'packs' if name == 'PACK' else 'splits'} in the batch dimension")
    if name in ("RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"):
        for role, tensor in _tensors(graph, operator):
            if not tensor.is_constant and len([d for d in tensor.shape if d > 1]) > 3:
                reasons.append(f"{role} tensor {tensor.index} is not 3-dimensional")
    return reasons
