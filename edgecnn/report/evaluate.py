"""`edgecnn report`: evaluate a float model (Keras or PyTorch) and its quantized .tflite on the same images."""

import json
import pathlib

import numpy as np

from edgecnn import atomic
from edgecnn.data import load_dataset
from edgecnn.errors import ModelFileError
from edgecnn.quantize import float_models
from edgecnn.report import metrics, render

FLOAT_LATENCY_IMAGES = 200


def float_tflite_latency(float_tflite, preprocessing, pixels, backend):
    """Mean model-only latency in ms of the float .tflite on the same runtime as the quantized model.

    Timing the Keras model would measure Python overhead, not the model.
    """
    import tempfile

    from edgecnn.runtime import Classifier

    with tempfile.TemporaryDirectory() as directory:
        path = pathlib.Path(directory) / "float.tflite"
        path.write_bytes(float_tflite)
        classifier = Classifier(path, backend=backend, preprocessing=preprocessing)
        return quantized_probabilities(classifier, pixels[:FLOAT_LATENCY_IMAGES])[1]


def quantized_probabilities(classifier, pixels):
    """Scores of a .tflite model image by image (it has batch 1), and its mean model-only latency in ms.

    `pixels` are (N, H, W, C) uint8 at the model's size, as a dataset loaded with its preprocessing gives them.
    """
    prepared = classifier.encoder.encode_pixels(pixels)
    scores, elapsed = [], 0.0
    for index in range(len(prepared)):
        output, seconds = classifier.timed_predict(prepared[index : index + 1])
        scores.append(output)
        elapsed += seconds
    return np.stack(scores).astype(np.float32), elapsed / max(1, len(pixels)) * 1000


def build_report(float_model_path, quantized_path, dataset_spec, limit=None, backend="auto", input_shape=None,
                 weights=None):
    """All figures of the report as one JSON-ready dict, plus the images it refers to.

    `float_model_path` is any MODEL `quantize` takes (float_models.FORMATS); `input_shape` and `weights` are
    for PyTorch models.
    """
    from edgecnn.runtime import Classifier

    quantized_path = pathlib.Path(quantized_path)
    if not quantized_path.is_file():
        raise ModelFileError(f"quantized model not found: {quantized_path}")
    float_model = float_models.load_float_model(float_model_path, input_shape, weights)
    classifier = Classifier(quantized_path, backend=backend)
    image_shape = tuple(classifier.preprocessing.input_shape)
    if image_shape != tuple(float_model.image_shape) or len(classifier.labels) != float_model.num_classes:
        raise ModelFileError(
            f"{quantized_path} takes {image_shape} (HxWxC) images into {len(classifier.labels)} classes but "
            f"{float_model_path} takes {tuple(float_model.image_shape)} into {float_model.num_classes}: "
            "they are not the same model"
        )
    preprocessing = classifier.preprocessing
    dataset = load_dataset(dataset_spec, preprocessing=preprocessing, split="test")
    if limit:
        dataset = dataset.subset(np.arange(min(limit, len(dataset))))
    if dataset.num_classes != len(classifier.labels):
        raise ModelFileError(
            f"dataset {dataset_spec} has {dataset.num_classes} classes, the model has {len(classifier.labels)} outputs"
        )
    float_scores = float_model.predict(dataset.inputs(preprocessing))
    quantized_scores, quantized_latency = quantized_probabilities(classifier, dataset.images)
    report = metrics.compare(float_scores, quantized_scores, dataset.labels, classifier.labels)
    float_tflite = float_model.convert(mode="float32", io_type="float32", layout=preprocessing.layout)
    float_latency = float_tflite_latency(float_tflite, preprocessing, dataset.images, backend)
    report.update({
        "model": classifier.model_name or pathlib.Path(float_model_path).stem,
        "dataset": str(dataset_spec),
        "float_model": str(float_model_path),
        "quantized_model": str(quantized_path),
        "sizes": {
            f"{float_model.format.name}_bytes": float_model.size_bytes,
            "float_tflite_bytes": len(float_tflite),
            "quantized_tflite_bytes": quantized_path.stat().st_size,
            "quantized_to_float_ratio": quantized_path.stat().st_size / len(float_tflite),
        },
        "latency_ms": {
            "float": float_latency,
            "float_runtime": f"{classifier.backend_name} (float .tflite)",
            "quantized": quantized_latency,
            "quantized_runtime": classifier.backend_name,
        },
        "quantized_precision": classifier.precision,
    })
    return report, dataset.images


def write_report(report, images, out_dir):
    """report.json, report.md and report.html in `out_dir`, each written atomically."""
    out_dir = pathlib.Path(out_dir)
    atomic.check_parent_directory(out_dir)
    out_dir.mkdir(exist_ok=True)
    confusion_pngs = [
        (f"{name} confusion", render.confusion_png(report[key]["confusion"], report["classes"], name))
        for key, name in (("float", "float"), ("quantized", "int8"))
    ]
    atomic.write_text(out_dir / "report.json", json.dumps(report, indent=1) + "\n")
    atomic.write_text(out_dir / "report.md", render.markdown(report))
    atomic.write_text(out_dir / "report.html", render.html_page(report, images, confusion_pngs))
    return out_dir
