"""Where quantization error enters: each int8 tensor, dequantized, against the float Keras layer it came from.

TFLite tensors are matched to Keras layers by name where the converter kept it (the tensor
"functional_1/conv1_1/Relu;functional_1/conv1_1/convolution" carries the layer "conv1"); a tensor carrying
several layer names (a convolution with its batch norm and activation folded in) belongs to the last of them.
Layers left over are matched by order of matching shapes between named neighbours, marked as a guess.
"""

import math
import re

import numpy as np

from edgecnn import artifacts, extras
from edgecnn.errors import ModelFileError

MATCHED_BY_NAME = "name"
MATCHED_BY_SHAPE = "shape order"
NOT_MATCHED = "-"


def _name_segments(tensor_name):
    return [segment for part in tensor_name.split(";") for segment in re.split(r"[/:]", part) if segment]


def _segment_names_layer(segment, layer_name):
    return segment == layer_name or re.fullmatch(re.escape(layer_name) + r"_\d+", segment) is not None


def _shape_without_batch(shape):
    """Keras shapes lead with None (any batch), TFLite shapes with 1."""
    shape = tuple(shape)
    if len(shape) > 1 and shape[0] in (1, None):
        shape = shape[1:]
    return tuple(-1 if value is None else int(value) for value in shape)


def match_layers(layers, candidates):
    """Map layer position -> (candidate position, how matched).

    `layers`: [(name, output shape without batch)] in model order; `candidates`: [(tensor name, shape without
    batch)] of the int8 model's op outputs in op order.
    """
    owner = {}
    for candidate_position, (tensor_name, _) in enumerate(candidates):
        segments = _name_segments(tensor_name)
        named = [
            layer_position
            for layer_position, (layer_name, _) in enumerate(layers)
            if any(segment == layer_name for segment in segments)
        ]
        if not named:
            named = [
                layer_position
                for layer_position, (layer_name, _) in enumerate(layers)
                if any(_segment_names_layer(segment, layer_name) for segment in segments)
            ]
        if named:
            owner[candidate_position] = max(named)
    matches = {}
    for candidate_position, layer_position in owner.items():
        # A layer's output is the last tensor carrying its name (its fused activation comes after the conv).
        if candidates[candidate_position][1] == layers[layer_position][1]:
            matches[layer_position] = (candidate_position, MATCHED_BY_NAME)
    used = {candidate for candidate, _ in matches.values()}
    previous_candidate = -1
    for layer_position, (_, layer_shape) in enumerate(layers):
        if layer_position in matches:
            previous_candidate = matches[layer_position][0]
            continue
        next_named = min(
            (candidate for position, (candidate, _) in matches.items() if position > layer_position),
            default=len(candidates),
        )
        for candidate_position in range(previous_candidate + 1, next_named):
            if candidate_position in used or candidate_position in owner:
                continue
            if candidates[candidate_position][1] == layer_shape:
                matches[layer_position] = (candidate_position, MATCHED_BY_SHAPE)
                used.add(candidate_position)
                previous_candidate = candidate_position
                break
    return matches


def comparable_layers(model):
    """The Keras layers an int8 tensor can stand for: every layer but the input with a single output."""
    return [
        layer
        for layer in model.layers
        if type(layer).__name__ != "InputLayer" and not isinstance(layer.output, (list, tuple))
    ]


def pair_layers(interpreter, layers):
    """[(tensor index or None, how matched)] for each Keras layer, against the int8 model's op outputs."""
    layer_shapes = [(layer.name, _shape_without_batch(layer.output.shape)) for layer in layers]
    info = {tensor.index: tensor for tensor in interpreter.tensor_details}
    candidate_indices = [
        index for operator in interpreter.operators for index in operator.outputs if info[index].scale
    ]
    candidates = [(info[index].name, _shape_without_batch(info[index].shape)) for index in candidate_indices]
    matches = match_layers(layer_shapes, candidates)
    pairs = []
    for position in range(len(layers)):
        if position in matches:
            candidate_position, matched_by = matches[position]
            pairs.append((int(candidate_indices[candidate_position]), matched_by))
        else:
            pairs.append((None, NOT_MATCHED))
    return pairs


def check_keras_inputs(model, float_inputs, where):
    """The Keras model must take the inputs the int8 model was fed (as floats)."""
    keras_shape = _shape_without_batch(model.inputs[0].shape)
    if len(model.inputs) != len(float_inputs) or keras_shape != tuple(float_inputs[0].shape[1:]):
        raise ModelFileError(
            f"{where}: Keras model takes {keras_shape} inputs, the int8 model {tuple(float_inputs[0].shape[1:])}"
        )


def layer_outputs(model, layers, float_inputs):
    """Each layer's float output for all images, run in chunks the model's fixed batch size allows."""
    keras = extras.require("keras", "comparing with a Keras model")
    probe = keras.Model(model.inputs, [layer.output for layer in layers])
    batch_size = model.inputs[0].shape[0] or 32
    count = len(float_inputs[0])
    chunks = []
    for start in range(0, count, batch_size):
        batch = [values[start : start + batch_size] for values in float_inputs]
        outputs = probe(batch, training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        chunks.append([np.asarray(output) for output in outputs])
    return [np.concatenate([chunk[position] for chunk in chunks]) for position in range(len(layers))]


class ErrorSums:
    """SQNR and cosine similarity accumulated over batches: the sums they are ratios of.

    Both treat everything added as one long vector, so adding images batch by batch gives the figure over all
    of them without holding every activation at once.
    """

    def __init__(self):
        self.signal = self.noise = self.dot = self.reference_norm = self.approximation_norm = 0.0

    def add(self, reference, approximation):
        reference = np.asarray(reference, np.float64).ravel()
        approximation = np.asarray(approximation, np.float64).ravel()
        self.signal += float(np.dot(reference, reference))
        self.noise += float(np.sum((reference - approximation) ** 2))
        self.dot += float(np.dot(reference, approximation))
        self.approximation_norm += float(np.dot(approximation, approximation))
        return self

    @property
    def sqnr_db(self):
        """Signal-to-quantization-noise ratio in dB (inf when identical, None for an all-zero signal)."""
        if self.signal == 0.0:
            return None
        if self.noise == 0.0:
            return math.inf
        return 10.0 * math.log10(self.signal / self.noise)

    @property
    def cosine(self):
        norms = math.sqrt(self.signal) * math.sqrt(self.approximation_norm)
        return None if norms == 0.0 else self.dot / norms


def sqnr_db(reference, approximation):
    """Signal-to-quantization-noise ratio in dB (inf when identical, None for an all-zero signal)."""
    return ErrorSums().add(reference, approximation).sqnr_db


def cosine_similarity(first, second):
    return ErrorSums().add(first, second).cosine


def error_rows(layers, pairs, sums, interpreter):
    """Rows {layer, tensor, tensor_index, matched_by, sqnr_db, cosine} and notes, from per-layer ErrorSums."""
    info = {tensor.index: tensor for tensor in interpreter.tensor_details}
    rows = []
    for layer, (tensor_index, matched_by), layer_sums in zip(layers, pairs, sums):
        rows.append(
            {
                "layer": layer.name,
                "tensor": None if tensor_index is None else info[tensor_index].name,
                "tensor_index": tensor_index,
                "matched_by": matched_by,
                "sqnr_db": None if layer_sums is None else layer_sums.sqnr_db,
                "cosine": None if layer_sums is None else layer_sums.cosine,
            }
        )
    notes = []
    if any(row["matched_by"] == MATCHED_BY_SHAPE for row in rows):
        notes.append(
            f"layers matched by '{MATCHED_BY_SHAPE}' had no name in the int8 model: the pairing is a guess"
        )
    if any(row["matched_by"] == NOT_MATCHED for row in rows):
        notes.append(
            "layers without a tensor were folded into a neighbour (batch norm, activation) or removed"
        )
    return rows, notes


def compare_with_keras(interpreter, run, keras_model, float_inputs):
    """Rows {layer, tensor, tensor_index, matched_by, sqnr_db, cosine} for every Keras layer, and notes.

    `keras_model` is a loaded model or the path of one.
    """
    where = getattr(keras_model, "name", None)
    if not hasattr(keras_model, "layers"):
        where = str(keras_model)
        keras_model = artifacts.load_keras_model(keras_model, "comparing with a Keras model")
    layers = comparable_layers(keras_model)
    pairs = pair_layers(interpreter, layers)
    check_keras_inputs(keras_model, float_inputs, where)
    outputs = layer_outputs(keras_model, layers, float_inputs)
    sums = [
        None if tensor_index is None else ErrorSums().add(output, run.dequantized(tensor_index))
        for output, (tensor_index, _) in zip(outputs, pairs)
    ]
    return error_rows(layers, pairs, sums, interpreter)
