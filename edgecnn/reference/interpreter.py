"""The NumPy int8 interpreter: loads a .tflite with edgecnn.tflite, checks every op, runs batches.

flavor "tflite" reproduces TFLite's reference kernels (BUILTIN_REF), "micro" TFLite Micro; the two differ in
FULLY_CONNECTED requantization, LOGISTIC/TANH and the MUL and PRELU multipliers. Where a runtime lacks an op or
supports it only partly, edgecnn.reference.support says so; both flavors still run every op here.
"""

import dataclasses
from typing import Optional

import numpy as np

from edgecnn import tflite
from edgecnn.errors import ConfigurationError
from edgecnn.reference import kernels_basic, kernels_conv, kernels_layout
from edgecnn.reference.kernels_common import Call
from edgecnn.tflite import memory

FLAVORS = ("tflite", "micro")

KERNELS = {
    "CONV_2D": kernels_conv.conv_2d,
    "DEPTHWISE_CONV_2D": kernels_conv.depthwise_conv_2d,
    "FULLY_CONNECTED": kernels_conv.fully_connected,
    "TRANSPOSE_CONV": kernels_conv.transpose_conv,
    "MAX_POOL_2D": kernels_basic.max_pool_2d,
    "AVERAGE_POOL_2D": kernels_basic.average_pool_2d,
    "MEAN": kernels_basic.mean,
    "ADD": kernels_basic.add,
    "SUB": kernels_basic.sub,
    "MUL": kernels_basic.mul,
    "SOFTMAX": kernels_basic.softmax,
    "LOGISTIC": kernels_basic.logistic,
    "TANH": kernels_basic.tanh,
    "HARD_SWISH": kernels_basic.hard_swish,
    "RELU": kernels_basic.relu,
    "RELU6": kernels_basic.relu6,
    "LEAKY_RELU": kernels_basic.leaky_relu,
    "PRELU": kernels_basic.prelu,
    "MAXIMUM": kernels_basic.maximum,
    "MINIMUM": kernels_basic.minimum,
    "SUM": kernels_basic.sum_,
    "REDUCE_MAX": kernels_basic.reduce_max,
    "BATCH_MATMUL": kernels_conv.batch_matmul,
    "RESHAPE": kernels_layout.reshape,
    "SQUEEZE": kernels_layout.reshape,
    "EXPAND_DIMS": kernels_layout.reshape,
    "TRANSPOSE": kernels_layout.transpose,
    "SLICE": kernels_layout.slice_,
    "STRIDED_SLICE": kernels_layout.strided_slice,
    "PACK": kernels_layout.pack,
    "UNPACK": kernels_layout.unpack,
    "SPLIT": kernels_layout.split,
    "SPLIT_V": kernels_layout.split_v,
    "GATHER": kernels_layout.gather,
    "CONCATENATION": kernels_layout.concatenation,
    "DEPTH_TO_SPACE": kernels_layout.depth_to_space,
    "SPACE_TO_DEPTH": kernels_layout.space_to_depth,
    "PAD": kernels_layout.pad,
    "PADV2": kernels_layout.pad,
    "MIRROR_PAD": kernels_layout.mirror_pad,
    "RESIZE_NEAREST_NEIGHBOR": kernels_layout.resize_nearest_neighbor,
    "RESIZE_BILINEAR": kernels_layout.resize_bilinear,
    "QUANTIZE": kernels_basic.quantize,
    "DEQUANTIZE": kernels_basic.dequantize,
}

SUPPORTED_OPS = tuple(KERNELS)


@dataclasses.dataclass(frozen=True)
class TensorInfo:
    index: int
    name: str
    shape: tuple
    dtype: np.dtype
    scale: float
    zero_point: int
    is_constant: bool = False
    scales: Optional[np.ndarray] = None
    zero_points: Optional[np.ndarray] = None
    quantized_dimension: int = 0

    @classmethod
    def of(cls, tensor):
        """The description of an edgecnn.tflite Tensor (its first scale and zero point, and all of them)."""
        quantization = tensor.quantization
        scale = float(quantization.scales[0]) if quantization.is_quantized else 0.0
        zero_point = int(quantization.zero_points[0]) if quantization.zero_points.size else 0
        return cls(
            index=tensor.index,
            name=tensor.name,
            shape=tensor.shape,
            dtype=tensor.dtype,
            scale=scale,
            zero_point=zero_point,
            is_constant=tensor.is_constant,
            scales=quantization.scales,
            zero_points=quantization.zero_points,
            quantized_dimension=quantization.quantized_dimension,
        )

    @property
    def nbytes(self):
        """Size of one batch-1 tensor in bytes."""
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize


@dataclasses.dataclass(frozen=True)
class OperatorInfo:
    index: int
    name: str
    inputs: tuple
    outputs: tuple
    options: dict = dataclasses.field(default_factory=dict, compare=False)


class Run:
    """The result of one batched run: outputs, and the raw activations that were kept."""

    def __init__(self, interpreter, tensors, outputs):
        self.interpreter = interpreter
        self.tensors = tensors
        self.outputs = outputs

    def dequantized(self, tensor_index):
        """The tensor as float32: scale * (q - zero_point), per channel when the tensor has several scales."""
        values = self.tensors[tensor_index]
        info = self.interpreter.tensor_details[tensor_index]
        if np.issubdtype(values.dtype, np.floating) or info.scales is None or info.scales.size == 0:
            return values.astype(np.float32)
        scales = info.scales.astype(np.float64)
        zero_points = info.zero_points.astype(np.int64)
        if scales.size > 1:
            axis = info.quantized_dimension + (values.ndim - len(info.shape))
            broadcast = [1] * values.ndim
            broadcast[axis] = scales.size
            scales, zero_points = scales.reshape(broadcast), zero_points.reshape(broadcast)
        return (scales * (values.astype(np.int64) - zero_points)).astype(np.float32)


class Interpreter:
    """Runs an int8 TFLite model with NumPy; every op is checked when the model is loaded."""

    def __init__(self, path_or_bytes, flavor="tflite"):
        if flavor not in FLAVORS:
            raise ConfigurationError(
                f"unknown interpreter flavor {flavor!r}; expected one of {', '.join(FLAVORS)}"
            )
        self.flavor = flavor
        self.model = tflite.read_model(path_or_bytes)
        self.source = self.model.source
        self.subgraph = self.model.subgraphs[0]
        self._tensors = self.subgraph.tensors
        self.tensor_details = [self._info(tensor) for tensor in self._tensors]
        self.input_details = [self.tensor_details[index] for index in self.subgraph.inputs]
        self.output_details = [self.tensor_details[index] for index in self.subgraph.outputs]
        self.operators = [
            OperatorInfo(op.index, op.name, tuple(op.inputs), tuple(op.outputs), op.options)
            for op in self.subgraph.operators
        ]
        from edgecnn.reference import validation

        validation.check_model(self)
        self._lifetimes = memory.graph_lifetimes(self.subgraph)

    @staticmethod
    def _info(tensor):
        return TensorInfo.of(tensor)

    def lifetimes(self):
        """Activation tensor index -> (first op index, last op index) during which it must be kept."""
        return dict(self._lifetimes)

    def _check_inputs(self, inputs):
        if isinstance(inputs, np.ndarray) or not isinstance(inputs, (list, tuple)):
            inputs = [inputs]
        if len(inputs) != len(self.input_details):
            raise ConfigurationError(
                f"{self.source}: the model has {len(self.input_details)} inputs, got {len(inputs)} arrays"
            )
        checked = []
        for info, array in zip(self.input_details, inputs):
            array = np.asarray(array)
            expected = ("N", *info.shape[1:])
            if array.ndim != len(info.shape) or tuple(array.shape[1:]) != tuple(info.shape[1:]):
                raise ConfigurationError(
                    f"{self.source}: input {info.index} ({info.name}) expects shape {expected}, "
                    f"got {tuple(array.shape)}"
                )
            if array.dtype != info.dtype:
                raise ConfigurationError(
                    f"{self.source}: input {info.index} ({info.name}) expects dtype "
                    f"{np.dtype(info.dtype).name}, got {array.dtype.name}"
                )
            if array.shape[0] == 0:
                raise ConfigurationError(
                    f"{self.source}: input {info.index} ({info.name}) has an empty batch"
                )
            checked.append(array)
        return checked

    def _call(self, operator_index, arrays):
        operator = self.subgraph.operators[operator_index]
        inputs = [self._tensors[index] if index >= 0 else None for index in operator.inputs]
        outputs = [self._tensors[index] for index in operator.outputs]
        call = Call(operator, inputs, outputs, arrays, self.flavor)
        return KERNELS[operator.name](call)

    def run(self, inputs, keep_intermediates=True):
        """Run a batch: `inputs` is one array (N, ...) of the input dtype, or a list (one per input)."""
        arrays = self._check_inputs(inputs)
        values = dict(zip(self.subgraph.inputs, arrays))
        kept = {}
        keep = set(self.subgraph.inputs) | set(self.subgraph.outputs)
        for operator in self.subgraph.operators:
            operands = [self._operand(index, values) for index in operator.inputs]
            for index, result in zip(operator.outputs, self._call(operator.index, operands)):
                values[index] = result
                if keep_intermediates or index in keep:
                    kept[index] = result
            if not keep_intermediates:
                # Inputs after their last use, and outputs no op reads (a SPLIT's unused pieces).
                for index in (*operator.inputs, *operator.outputs):
                    if index in values and self._lifetimes.get(index, (0, -1))[1] <= operator.index:
                        if index not in keep:
                            del values[index]
        for index, array in zip(self.subgraph.inputs, arrays):
            kept[index] = array
        outputs = [values[index] for index in self.subgraph.outputs]
        return Run(self, kept, outputs)

    def _operand(self, index, values):
        if index < 0:
            return None
        tensor = self._tensors[index]
        if tensor.is_constant:
            return tensor.data
        return values[index]

    def run_operator(self, op_index, input_arrays):
        """Run one op on the given arrays (None for constant or absent inputs): for per-op isolation."""
        if not 0 <= op_index < len(self.operators):
            raise ConfigurationError(
                f"{self.source}: no operator {op_index} (the model has {len(self.operators)})"
            )
        operator = self.subgraph.operators[op_index]
        operands = []
        for position, index in enumerate(operator.inputs):
            given = input_arrays[position] if position < len(input_arrays) else None
            if given is None:
                operands.append(
                    self._operand(index, {}) if index < 0 or self._tensors[index].is_constant else None
                )
                if operands[-1] is None and index >= 0:
                    raise ConfigurationError(
                        f"{self.source}: op {op_index} ({operator.name}) needs an array for input "
                        f"tensor {index}"
                    )
            else:
                operands.append(np.asarray(given))
        return self._call(op_index, operands)
