"""Pure-NumPy int8 reference interpreter, bit-exact with TFLite reference kernels and TFLite Micro."""

from edgecnn.reference.interpreter import (
    FLAVORS,
    SUPPORTED_OPS,
    Interpreter,
    OperatorInfo,
    Run,
    TensorInfo,
)

__all__ = ["FLAVORS", "SUPPORTED_OPS", "Interpreter", "OperatorInfo", "Run", "TensorInfo"]
