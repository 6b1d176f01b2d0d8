"""The model as the C compiler sees it: checked once, then one Layer per op for the emitters.

The NumPy interpreter's `micro` flavor (TFLite Micro's arithmetic) loads and checks the model; on top of that
the C target needs a full-int8 model (int8 input and outputs, int8 tensors between ops), one input, static
shapes and an emitter for every op. Each failure names the op (index and name) or tensor.
"""

import dataclasses

import numpy as np

from edgecnn import tflite
from edgecnn.errors import UnsupportedModelError
from edgecnn.reference import Interpreter
from edgecnn.reference.kernels_common import Call

INT8 = np.dtype(np.int8)
FULL_INT8_HINT = "--target c needs a full-int8 model: quantize with --io int8"


@dataclasses.dataclass
class Layer:
    """One op: its tflite Operator and tensors, and the interpreter that defines its arithmetic."""

    operator: object
    inputs: list  # tflite.Tensor or None (an absent optional input), by input position
    outputs: list
    interpreter: Interpreter

    @property
    def index(self):
        return self.operator.index

    @property
    def name(self):
        return self.operator.name

    @property
    def options(self):
        return self.operator.options

    def call(self):
        """The interpreter's Call record without activations: what its parameter helpers take."""
        arrays = [tensor.data if tensor is not None and tensor.is_constant else None for tensor in self.inputs]
        return Call(self.operator, self.inputs, self.outputs, arrays, self.interpreter.flavor)

    def constant(self, position):
        """The constant input at `position` as a NumPy array, or None when the op has no such input."""
        if position >= len(self.inputs) or self.inputs[position] is None:
            return None
        return self.inputs[position].data

    def activation_positions(self):
        """Input positions whose tensors are computed at run time (not constants, not absent)."""
        return [
            position
            for position, tensor in enumerate(self.inputs)
            if tensor is not None and not tensor.is_constant
        ]

    def run(self, arrays):
        """The interpreter's result for this op on batched arrays of its activation inputs."""
        positions = self.activation_positions()
        given = [None] * len(self.inputs)
        for position, array in zip(positions, arrays):
            given[position] = array
        return self.interpreter.run_operator(self.index, given)


@dataclasses.dataclass
class Graph:
    source: str
    model: object  # edgecnn.tflite Model
    interpreter: Interpreter
    layers: list
    input_index: int
    output_indices: list  # the model's outputs, written back to back into the caller's output buffer

    @property
    def output_index(self):
        return self.output_indices[0]

    @property
    def tensors(self):
        return self.interpreter.subgraph.tensors

    @property
    def subgraph(self):
        return self.interpreter.subgraph


def load_graph(model_path, supported_ops):
    """Read and check a model for the C target; `supported_ops` are the op names that have an emitter."""
    model = tflite.read_model(model_path)
    source = model.source
    if not model.subgraphs or not model.main.operators:
        raise UnsupportedModelError(f"{source}: the model has no ops")
    subgraph = model.main
    if len(subgraph.inputs) != 1:
        raise UnsupportedModelError(
            f"{source}: the model has {len(subgraph.inputs)} inputs; --target c compiles models with one input"
        )
    if len(set(subgraph.outputs)) != len(subgraph.outputs) or set(subgraph.outputs) & set(subgraph.inputs):
        raise UnsupportedModelError(f"{source}: a model output is listed twice or is the model's input")
    _check_full_int8(source, subgraph, subgraph.tensors)
    for operator in subgraph.operators:
        if operator.name not in supported_ops:
            raise UnsupportedModelError(
                f"{source}: op {operator.index} ({operator.name}): not supported by --target c "
                f"(supported: {', '.join(sorted(supported_ops))})"
            )
    interpreter = Interpreter(model_path, flavor="micro")
    subgraph = interpreter.subgraph
    tensors = subgraph.tensors
    layers = [
        Layer(
            operator,
            [tensors[index] if index >= 0 else None for index in operator.inputs],
            [tensors[index] for index in operator.outputs],
            interpreter,
        )
        for operator in subgraph.operators
    ]
    return Graph(source, model, interpreter, layers, subgraph.inputs[0], list(subgraph.outputs))


def _check_full_int8(source, subgraph, tensors):
    for role, index in (("input", subgraph.inputs[0]), *(("output", index) for index in subgraph.outputs)):
        tensor = tensors[index]
        touching = next(
            (
                operator
                for operator in subgraph.operators
                if index in (operator.inputs if role == "input" else operator.outputs)
            ),
            None,
        )
        where = f"op {touching.index} ({touching.name}): " if touching is not None else ""
        if tensor.dtype != INT8:
            raise UnsupportedModelError(
                f"{source}: {where}model {role} tensor {index} ({tensor.name}) is {tensor.type_name}; "
                f"{FULL_INT8_HINT}"
            )
        if any(dimension < 0 for dimension in tensor.shape_signature[1:]):
            raise UnsupportedModelError(
                f"{source}: {where}model {role} tensor {index} ({tensor.name}) has a dynamic shape "
                f"{list(tensor.shape_signature)}; --target c needs static shapes"
            )
    for operator in subgraph.operators:
        for index in (*operator.inputs, *operator.outputs):
            if index < 0 or index >= len(tensors) or tensors[index].is_constant:
                continue
            tensor = tensors[index]
            if tensor.dtype != INT8:
                raise UnsupportedModelError(
                    f"{source}: op {operator.index} ({operator.name}): tensor {index} ({tensor.name}) is "
                    f"{tensor.type_name}; {FULL_INT8_HINT}"
                )
