"""`edgecnn quantize`: a float model (Keras or PyTorch) plus a calibration dataset in, a .tflite file out."""

import dataclasses
import pathlib

from edgecnn import artifacts, atomic
from edgecnn.data import open_dataset
from edgecnn.errors import DatasetError
from edgecnn.quantize import float_models


@dataclasses.dataclass
class QuantizeResult:
    path: pathlib.Path
    size_bytes: int
    samples: int
    metadata: object
    warnings: list
    calibration: str = ""  # which images calibrated it, e.g. "50 images of photos/ (split train)"


def runtime_warnings(tflite_bytes):
    """Problems that would stop the model from loading on some runtimes, one sentence each."""
    from edgecnn import tflite
    from edgecnn.reference.validation import softmax_scale_problem

    graph = tflite.read_model(tflite_bytes).main
    messages = []
    for operator in graph.operators:
        if operator.name == "SOFTMAX" and graph.tensors[operator.inputs[0]].type_name == "INT8":
            problem = softmax_scale_problem(operator, graph.tensors)
            if problem:
                messages.append(f"op {operator.index} (SOFTMAX): {problem}")
    return messages


def quantize_file(model_path, out_path, calibration_spec=None, samples=200, mode="int8", io_type=None,
                  scale=None, mean=None, std=None, labels_file=None, seed=0, split=None, cache=None,
                  input_shape=None, weights=None, layout=None):
    """Quantize the float model `model_path` names (see float_models.FORMATS) and write `out_path` atomically.

    Calibration takes `samples` images drawn at random (seeded) from `split` (default train) of the dataset;
    only those are decoded, however big the folder. `input_shape` (CxHxW), `weights` and `layout` ("nhwc" or
    "nchw", the .tflite input's) are for PyTorch models.
    """
    out_path = pathlib.Path(out_path)
    atomic.check_parent_directory(out_path)
    io_type = io_type or ("int8" if mode == "int8" else "float32")
    if mode == "int8" and calibration_spec is None:
        raise DatasetError("--calibration is required for --mode int8 (a dataset name or a folder of images)")
    if samples < 1:
        raise DatasetError(f"--samples must be at least 1, got {samples}")
    model = float_models.load_float_model(model_path, input_shape, weights)
    layout = float_models.check_layout(model, layout)
    labels = artifacts.read_labels_file(labels_file) if labels_file else None
    metadata = artifacts.float_model_metadata(model.files[0], model.image_shape, model.num_classes, scale, mean,
                                              std, labels)
    metadata.preprocessing = dataclasses.replace(metadata.preprocessing, layout=layout)
    calibration = None
    used = 0
    description = ""
    if mode == "int8":
        dataset = open_dataset(calibration_spec, split=split or "train", preprocessing=metadata.preprocessing,
                               cache=cache)
        if len(dataset) == 0:
            raise DatasetError(f"calibration dataset {calibration_spec} has no usable image")
        pixels = dataset.take(samples, seed=seed).read().pixels
        calibration = metadata.preprocessing.scale_pixels(pixels)
        used = len(pixels)
        description = dataset.describe(used)
    tflite_bytes = model.convert(calibration, mode, io_type, metadata, layout)
    atomic.write_bytes(out_path, tflite_bytes)
    return QuantizeResult(out_path, len(tflite_bytes), used, metadata, runtime_warnings(tflite_bytes),
                          description)
