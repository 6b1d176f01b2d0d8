"""What an emitter writes into: constant arrays (shared when equal), helper functions, and its layer's C body.

An emitter returns the body of `static void edgecnn_opN(...)`; the parameters are the pointers to its
activation inputs and outputs, named by `input(position)` and `output(position)`. Constants it needs
(weights, biases, multipliers, tables) go through `constant()`, which returns the C name to use.
"""

import hashlib

import numpy as np

C_TYPES = {
    np.dtype(np.int8): "int8_t",
    np.dtype(np.int16): "int16_t",
    np.dtype(np.int32): "int32_t",
    np.dtype(np.uint8): "uint8_t",
    np.dtype(np.uint16): "uint16_t",
}
VALUES_PER_LINE = {1: 24, 2: 16, 4: 8}


class Constants:
    """The model's const arrays: one definition per distinct content, in first-use order."""

    def __init__(self, prefix):
        self.prefix = prefix
        self._names = {}
        self._definitions = []
        self.total_bytes = 0

    def add(self, values, dtype, hint):
        array = np.ascontiguousarray(np.asarray(values).astype(dtype).reshape(-1))
        key = (array.dtype.str, hashlib.sha256(array.tobytes()).hexdigest())
        if key not in self._names:
            name = f"{self.prefix}{hint}_{len(self._definitions)}"
            self._names[key] = name
            self._definitions.append(_definition(name, array))
            self.total_bytes += array.nbytes
        return self._names[key]

    def source(self):
        return "\n\n".join(self._definitions)


def _definition(name, array):
    c_type = C_TYPES[array.dtype]
    per_line = VALUES_PER_LINE[array.dtype.itemsize]
    values = [str(int(value)) for value in array]
    if array.dtype == np.int32:
        # -2147483648 is not a C int literal (it is the negation of one too large); spell it as an expression.
        values = ["(-2147483647 - 1)" if value == "-2147483648" else value for value in values]
    lines = [", ".join(values[start : start + per_line]) for start in range(0, len(values), per_line)]
    body = ",\n".join("  " + line for line in lines) if lines else "  0"
    size = max(len(values), 1)
    return f"static const {c_type} {name}[{size}] = {{\n{body}\n}};"


class Emission:
    """One layer's view of the generated file while its emitter runs."""

    def __init__(self, layer, constants, prefix):
        self.layer = layer
        self.constants = constants
        self.prefix = prefix
        self.helpers = []
        self.comment = ""
        # Activation inputs (positions) are the function's parameters, in order; constants are arrays.
        self.parameter_positions = layer.activation_positions()

    def input(self, position):
        """A `const int8_t *` C expression for input `position`: a parameter, or the constant's array."""
        tensor = self.layer.inputs[position]
        if tensor.is_constant:
            return self.constant(tensor.data, np.int8, "operand")
        return f"input{self.parameter_positions.index(position)}"

    def output(self, position=0):
        return f"output{position}"

    def constant(self, values, dtype, hint):
        return self.constants.add(values, dtype, hint)

    def helper(self, name):
        """Mark a helper of edgecnn.codegen.helpers as used; returns its C name."""
        if name not in self.helpers:
            self.helpers.append(name)
        return f"{self.prefix}{name}"

    def describe(self, text):
        """A one-line comment put above the layer's function."""
        self.comment = text
