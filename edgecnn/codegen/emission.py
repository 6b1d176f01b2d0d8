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


PORTABLE, CMSIS, BOTH = "portable", "cmsis", "both"


class Constants:
    """The model's const arrays: one definition per distinct content, in first-use order, each compiled in the
    builds that use it (an array only CMSIS-NN's call reads would be an unused variable without it)."""

    def __init__(self, prefix, cmsis_macro):
        self.prefix = prefix
        self.cmsis_macro = cmsis_macro
        self._names = {}
        self._definitions = {}  # name -> C text
        self._builds = {}  # name -> set of PORTABLE / CMSIS
        self._sizes = {}

    def add(self, values, dtype, hint):
        array = np.ascontiguousarray(np.asarray(values).astype(dtype).reshape(-1))
        key = (array.dtype.str, hashlib.sha256(array.tobytes()).hexdigest())
        if key not in self._names:
            name = f"{self.prefix}{hint}_{len(self._definitions)}"
            self._names[key] = name
            self._definitions[name] = _definition(name, array)
            self._builds[name] = set()
            self._sizes[name] = array.nbytes
        return self._names[key]

    def use(self, name, build):
        self._builds[name] |= {PORTABLE, CMSIS} if build == BOTH else {build}

    def bytes_in(self, build):
        """Flash the arrays take in one build (PORTABLE or CMSIS)."""
        return sum(size for name, size in self._sizes.items() if build in self._builds[name])

    @property
    def total_bytes(self):
        return self.bytes_in(PORTABLE)

    def source(self):
        parts = []
        for name, text in self._definitions.items():
            builds = self._builds[name]
            if builds == {CMSIS}:
                text = f"#ifdef {self.cmsis_macro}\n{text}\n#endif"
            elif builds == {PORTABLE}:
                text = f"#ifndef {self.cmsis_macro}\n{text}\n#endif"
            elif not builds:
                continue
            parts.append(text)
        return "\n\n".join(parts)


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
        self.build = PORTABLE  # which body the emitter is writing: constants are recorded per build
        self.used = {PORTABLE: [], CMSIS: []}
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
        name = self.constants.add(values, dtype, hint)
        self.used[self.build].append(name)
        return name

    def helper(self, name):
        """Mark a helper of edgecnn.codegen.helpers as used; returns its C name."""
        if name not in self.helpers:
            self.helpers.append(name)
        return f"{self.prefix}{name}"

    def describe(self, text):
        """A one-line comment put above the layer's function."""
        self.comment = text
