"""Read TFLite flatbuffers with NumPy and the standard library only (no TensorFlow, no flatbuffers)."""

from edgecnn.tflite.model import (
    Model,
    Operator,
    OperatorCode,
    Quantization,
    SubGraph,
    Tensor,
    op_names,
    read_model,
)
from edgecnn.tflite.schema import BUILTIN_OPERATORS

__all__ = [
    "BUILTIN_OPERATORS",
    "Model",
    "Operator",
    "OperatorCode",
    "Quantization",
    "SubGraph",
    "Tensor",
    "op_names",
    "read_model",
]
