"""Everything the explain page shows for one image, computed before anything is written."""

import dataclasses
import pathlib

import numpy as np

from edgecnn import artifacts, tflite
from edgecnn.data.encoding import InputEncoder
from edgecnn.errors import ConfigurationError, UnsupportedModelError
from edgecnn.explain import activations, graph, working

FLOAT_TYPES = ("FLOAT32", "FLOAT16", "FLOAT64")
TOP_K = 5


@dataclasses.dataclass
class KerasMatch:
    """The float Keras layer an int8 tensor stands for, its output for the image and the error between them."""

    layer: str
    matched_by: str
    values: np.ndarray  # the float output, shaped as the int8 tensor
    sqnr_db: float
    cosine: float


@dataclasses.dataclass
class Explanation:
    model_path: str
    model_name: str
    flavor: str
    labels: list
    preprocessing: object
    metadata_from_model: bool
    image: activations.ModelImage
    interpreter: object
    run: object
    tensors: dict  # tensor index -> graph.TensorSummary
    plan: object  # edgecnn.tflite.memory.MemoryPlan
    layers: list  # graph.Layer
    statistics: dict  # tensor index -> activations.tensor_statistics
    example: dict
    top: list  # [{"index", "label", "int8", "float"}]
    keras_path: str = None
    keras: dict = dataclasses.field(default_factory=dict)  # tensor index -> KerasMatch
    keras_notes: list = dataclasses.field(default_factory=list)

    @property
    def worst_tensor(self):
        """The tensor whose int8 values are furthest from the float model's (lowest SQNR), or None."""
        scored = [(match.sqnr_db, index) for index, match in self.keras.items() if match.sqnr_db is not None]
        return min(scored)[1] if scored else None


def check_int8_model(path):
    """Refuse a float (or float16, or dynamic-range) model: there is no int8 arithmetic to show."""
    model = tflite.read_model(path)
    graph_ = model.main
    for operator in graph_.operators:
        if operator.name in ("QUANTIZE", "DEQUANTIZE"):
            continue
        for index in operator.outputs:
            tensor = graph_.tensors[index]
            if tensor.type_name in FLOAT_TYPES:
                raise UnsupportedModelError(
                    f"{path} is a float model (op {operator.index} {operator.name} computes in "
                    f"{tensor.type_name.lower()}); explain shows int8 arithmetic: quantize it first with "
                    "`edgecnn quantize MODEL.keras --mode int8 --calibration SPEC --out MODEL.tflite`"
                )
    return model


def _keras_matches(interpreter, run, keras_path, floats):
    from edgecnn.verify import keras_layers

    model = artifacts.load_keras_model(keras_path, "comparing with a Keras model")
    layers = keras_layers.comparable_layers(model)
    pairs = keras_layers.pair_layers(interpreter, layers)
    keras_layers.check_keras_inputs(model, [floats], keras_path)
    outputs = keras_layers.layer_outputs(model, layers, [floats])
    matches = {}
    for layer, (tensor_index, matched_by), output in zip(layers, pairs, outputs):
        if tensor_index is None:
            continue
        values = np.asarray(output[0], np.float32).reshape(interpreter.tensor_details[tensor_index].shape[1:])
        sums = keras_layers.ErrorSums().add(values, run.dequantized(tensor_index)[0])
        matches[tensor_index] = KerasMatch(layer.name, matched_by, values, sums.sqnr_db, sums.cosine)
    _, notes = keras_layers.error_rows(layers, pairs, [None] * len(layers), interpreter)
    float_scores = np.asarray(model(floats, training=False), np.float32)[0]
    return matches, notes, float_scores


def _top(run, interpreter, labels, float_scores):
    output_index = interpreter.output_details[0].index
    scores = run.dequantized(output_index)[0].reshape(-1)
    raw = run.tensors[output_index][0].reshape(-1)
    quantized = np.issubdtype(raw.dtype, np.integer)  # a float-output model ends in DEQUANTIZE
    order = np.argsort(-scores, kind="stable")[:TOP_K]
    return [
        {
            "index": int(index),
            "label": labels[index] if index < len(labels) else str(index),
            "int8": float(scores[index]),
            "int8_raw": int(raw[index]) if quantized else None,
            "float": None if float_scores is None else float(float_scores.reshape(-1)[index]),
        }
        for index in order
    ]


def explain(model_path, image_path, keras_path=None, element=None, flavor="micro"):
    """Run the model on the image and gather every figure the page shows. Nothing is written."""
    from edgecnn.reference import Interpreter

    model_path = str(model_path)
    model = check_int8_model(model_path)
    interpreter = Interpreter(model_path, flavor=flavor)
    if len(interpreter.input_details) != 1 or len(interpreter.input_details[0].shape) != 4:
        raise UnsupportedModelError(f"{model_path}: explain needs a model with one image input (N, H, W, C)")
    if keras_path is not None and not pathlib.Path(keras_path).is_file():
        raise ConfigurationError(f"Keras model not found: {keras_path}")
    metadata = artifacts.tflite_metadata(model)
    preprocessing = metadata.preprocessing
    image = activations.read_image(image_path, preprocessing)
    tensors, plan = graph.tensor_summaries(interpreter)
    layers = graph.walk(interpreter, tensors)
    request = working.parse_element(element) if element is not None else None
    example_layer = None
    if request is None:
        convolutions = [layer for layer in layers if layer.op in graph.CONVOLUTIONS]
        if not convolutions:
            raise UnsupportedModelError(f"{model_path} has no CONV_2D or DEPTHWISE_CONV_2D layer to work out")
        example_layer = convolutions[0]
    elif keras_path is None or request[0].isdigit() or working.has_layer(layers, request[0]):
        # Checked before the slow Keras load; a Keras layer name can only be checked after it.
        example_layer = working.find_layer(layers, request[0])
        working.check_position(example_layer, *request[1:])
    encoder = InputEncoder.for_tensor(preprocessing, interpreter.input_details[0])
    pixels = image.pixels[None]
    run = interpreter.run(encoder.encode_pixels(pixels), keep_intermediates=True)
    keras, notes, float_scores = {}, [], None
    if keras_path is not None:
        keras, notes, float_scores = _keras_matches(interpreter, run, keras_path, encoder.floats(pixels))
        for layer in layers:
            if layer.output in keras:
                layer.name = keras[layer.output].layer
    if example_layer is None:
        example_layer = working.find_layer(layers, request[0])
        working.check_position(example_layer, *request[1:])
    y, x, channel = request[1:] if request is not None else working.default_position(example_layer, run)
    capped = activations.top_capped_tensors(interpreter)
    statistics = {
        index: activations.tensor_statistics(run.tensors[index], summary.zero_point, index in capped)
        for index, summary in tensors.items()
    }
    keras_value = None
    if example_layer.output in keras:
        keras_value = keras[example_layer.output].values[y, x, channel]
    example = working.worked_example(interpreter, run, example_layer, y, x, channel, keras_value)
    return Explanation(
        model_path=model_path,
        model_name=metadata.model_name or pathlib.Path(model_path).stem,
        flavor=flavor,
        labels=list(metadata.labels),
        preprocessing=preprocessing,
        metadata_from_model=metadata.from_model,
        image=image,
        interpreter=interpreter,
        run=run,
        tensors=tensors,
        plan=plan,
        layers=layers,
        statistics=statistics,
        example=example,
        top=_top(run, interpreter, metadata.labels, float_scores),
        keras_path=None if keras_path is None else str(keras_path),
        keras=keras,
        keras_notes=notes,
    )
