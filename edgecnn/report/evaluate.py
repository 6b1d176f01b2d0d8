"""`edgecnn report`: evaluate a float Keras model and its quantized .tflite on the same images."""

import dataclasses
import pathlib

import numpy as np

from edgecnn import artifacts, atomic, json_text
from edgecnn.data import load_dataset
from edgecnn.errors import ModelFileError
from edgecnn.quantize import converter
from edgecnn.report import metrics, render

FLOAT_LATENCY_IMAGES = 200


@dataclasses.dataclass
class ReportOptions:
    """The report's optional sections: each costs time (a sweep re-quantizes, emulation compiles firmware)."""

    layer_error: bool = True
    calibration_sizes: list = None  # --calibration-sweep
    calibration_spec: str = None  # its dataset; default: the evaluated dataset
    targets: str = None  # --targets: CPUs for edgecnn emulate, or "all"
    bench_specs: tuple = ()  # --bench [LABEL=]FILE.jsonl
    tflm_root: str = None
    emulate_module: object = None  # a stand-in for edgecnn.emulate (tests)


def float_probabilities(keras_model, inputs):
    """Scores of the float Keras model for all inputs."""
    return np.asarray(keras_model.predict(inputs, batch_size=256, verbose=0), np.float32)


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


def _io_type(quantized_path):
    """The input type of the given .tflite, so a sweep makes models fed the same way."""
    from edgecnn import tflite

    graph = tflite.read_model(quantized_path).main
    name = graph.tensors[graph.inputs[0]].type_name.lower()
    return name if name in converter.IO_TYPES else "int8"


def build_report(float_model_path, quantized_path, dataset_spec, limit=None, backend="auto", options=None):
    """All figures of the report as one JSON-ready dict, plus the images it refers to."""
    from edgecnn.report import calibration, deployment
    from edgecnn.runtime import Classifier

    options = options or ReportOptions()
    quantized_path = pathlib.Path(quantized_path)
    if not quantized_path.is_file():
        raise ModelFileError(f"quantized model not found: {quantized_path}")
    # Options that can be wrong are checked before anything slow runs.
    targets = deployment.resolve_targets(options.targets, options.emulate_module) if options.targets else None
    bench = [row for spec in options.bench_specs for row in deployment.bench_rows(spec)]
    keras_model = artifacts.load_keras_model(float_model_path)
    classifier = Classifier(quantized_path, backend=backend)
    input_shape = converter.model_input_shape(keras_model)
    if tuple(classifier.input_shape) != input_shape:
        raise ModelFileError(
            f"{quantized_path} takes input {tuple(classifier.input_shape)} but {float_model_path} takes "
            f"{input_shape}: they are not the same model"
        )
    preprocessing = classifier.preprocessing
    dataset = load_dataset(dataset_spec, preprocessing=preprocessing, split="test")
    if limit:
        dataset = dataset.subset(np.arange(min(limit, len(dataset))))
    if dataset.num_classes != len(classifier.labels):
        raise ModelFileError(
            f"dataset {dataset_spec} has {dataset.num_classes} classes, the model has {len(classifier.labels)} outputs"
        )
    calibration_dataset = None
    if options.calibration_sizes:
        calibration_dataset = load_dataset(options.calibration_spec or dataset_spec, preprocessing, split="train")
    float_scores = float_probabilities(keras_model, dataset.inputs(preprocessing))
    quantized_scores, quantized_latency = quantized_probabilities(classifier, dataset.images)
    report = metrics.compare(float_scores, quantized_scores, dataset.labels, classifier.labels)
    float_tflite = converter.quantize_keras_model(keras_model, mode="float32", io_type="float32")
    float_latency = float_tflite_latency(float_tflite, preprocessing, dataset.images, backend)
    report.update({
        "model": classifier.model_name or pathlib.Path(float_model_path).stem,
        "dataset": str(dataset_spec),
        "float_model": str(float_model_path),
        "quantized_model": str(quantized_path),
        "sizes": {
            "keras_bytes": pathlib.Path(float_model_path).stat().st_size,
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
    if options.layer_error:
        from edgecnn.report import layer_error

        report["layer_error"] = layer_error.layer_errors(quantized_path, keras_model, preprocessing, dataset.images)
    if calibration_dataset is not None:
        float_predictions = np.argmax(float_scores, axis=1)

        def evaluate(path):
            scores, _ = quantized_probabilities(Classifier(path, backend=backend), dataset.images)
            return calibration.agreement_figures(scores, dataset.labels, float_predictions)

        metadata = artifacts.tflite_metadata(quantized_path)
        rows, notes = calibration.sweep(keras_model, metadata, _io_type(quantized_path), calibration_dataset,
                                        options.calibration_sizes, evaluate)
        report["calibration_sweep"] = {
            "dataset": str(options.calibration_spec or dataset_spec),
            "rows": rows,
            "notes": notes,
            "given_model": calibration.agreement_figures(quantized_scores, dataset.labels, float_predictions),
            "float_top1": report["float"]["top1"],
        }
    if targets or bench:
        section = deployment.deployment_section(quantized_path, targets, (), options.tflm_root,
                                                options.emulate_module)
        section["targets"] += [row.to_dict() for row in bench]
        report["deployment"] = section
    return report, dataset.images


def write_report(report, images, out_dir):
    """report.json, report.md and report.html in `out_dir`, each written atomically."""
    out_dir = pathlib.Path(out_dir)
    atomic.check_parent_directory(out_dir)
    confusion_pngs = [
        (f"{name} confusion", render.confusion_png(report[key]["confusion"], report["classes"], name))
        for key, name in (("float", "float"), ("quantized", "int8"))
    ]
    # Everything is rendered before the directory is made: a failure leaves nothing behind.
    files = {
        "report.json": json_text.dumps(report) + "\n",
        "report.md": render.markdown(report),
        "report.html": render.html_page(report, images, confusion_pngs),
    }
    out_dir.mkdir(exist_ok=True)
    for name, text in files.items():
        atomic.write_text(out_dir / name, text)
    return out_dir
