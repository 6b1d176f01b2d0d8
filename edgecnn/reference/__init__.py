"""Pure-NumPy int8 reference interpreter, bit-exact with TFLite reference kernels and TFLite Micro."""

from edgecnn.reference.interpreter import (
    FLAVORS,
    SUPPORTED_OPS,
    Interpreter,
    OperatorInfo,
    Run,
    TensorInfo,
)
from edgecnn.reference.support import (
    BUILTIN_REF_DEFECTS,
    BUILTIN_REF_UNSUPPORTED_OPS,
    MICRO_LIMITS,
    MICRO_UNSUPPORTED_OPS,
    micro_problems,
)

__all__ = [
    "BUILTIN_REF_DEFECTS",
    "BUILTIN_REF_UNSUPPORTED_OPS",
    "FLAVORS",
    "MICRO_LIMITS",
    "MICRO_UNSUPPORTED_OPS",
    "SUPPORTED_OPS",
    "Interpreter",
    "OperatorInfo",
    "Run",
    "TensorInfo",
    "micro_problems",
]
