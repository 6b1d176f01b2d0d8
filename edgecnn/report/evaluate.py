"""`edgecnn report`: evaluate a float model (Keras or PyTorch) and its quantized .tflite on the same images."""

import dataclasses
import pathlib

import numpy as np

from edgecnn import artifacts, atomic, json_text
from edgecnn.data import open_dataset
from edgecnn.errors import ModelFileError
from edgecnn.quantize import converter, float_models
from edgecnn.report import metrics, render

FLOAT_LATENCY_IMAGES = 200
BATCH_SIZE = 256


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

    `pixels` are (N, H, W, C) uint8 at the model's size, as a dataset opened with its preprocessing gives them.
    """
    scores, seconds = quantized_scores(classifier, pixels)
    return scores, seconds / max(1, len(pixels)) * 1000


def quantized_scores(classifier, pixels):
    """Scores of a .tflite model for each image, and the model-only seconds they took in all."""
    prepared = classifier.encoder.encode_pixels(pixels)
    scores, elapsed = [], 0.0
    for index in range(len(prepared)):
        output, seconds = classifier.timed_predict(prepared[index : index + 1])
        scores.append(output)
        elapsed += seconds
    return np.asarray(scores, np.float32).reshape(len(prepared), -1), elapsed


def evaluate_both(float_model, classifier, dataset):
    """Float and quantized scores of every readable image of `dataset`, batch by batch (memory stays flat).

    Returns (float scores, quantized scores, labels, quantized seconds, the first images for the float latency).
    """
    preprocessing = classifier.preprocessing
    float_parts, quantized_parts, labels, latency_pixels = [], [], [], []
    quantized_seconds = 0.0
    kept = 0
    for batch in dataset.batches(BATCH_SIZE):
        float_parts.append(float_model.predict(preprocessing.scale_pixels(batch.pixels)))
        scores, seconds = quantized_scores(classifier, batch.pixels)
        quantized_parts.append(scores)
        quantized_seconds += seconds
        labels.append(batch.labels)
        if kept < FLOAT_LATENCY_IMAGES:
            latency_pixels.append(batch.pixels[: FLOAT_LATENCY_IMAGES - kept])
            kept += len(latency_pixels[-1])
    if not labels:
        raise ModelFileError(f"dataset {dataset.source} gave no images to evaluate")
    return (np.concatenate(float_parts), np.concatenate(quantized_parts), np.concatenate(labels),
            quantized_seconds, np.concatenate(latency_pixels))


def _io_type(quantized_path):
    """The input type of the given .tflite, so a sweep makes models fed the same way."""
    from edgecnn import tflite

    graph = tflite.read_model(quantized_path).main
    name = graph.tensors[graph.inputs[0]].type_name.lower()
    return name if name in converter.IO_TYPES else "int8"


def build_report(float_model_path, quantized_path, dataset_spec, limit=None, backend="auto", split=None,
                 cache=None, options=None, input_shape=None, weights=None):
    """All figures of the report as one JSON-ready dict, plus the pixels of the images it shows (by index).

    Evaluates every image of `split` (default: the test split, or every image of a plain folder), or the first
    `limit` of them. `options` adds the optional sections (ReportOptions). `float_model_path` is any MODEL
    `quantize` takes (float_models.FORMATS); `input_shape` and `weights` are for PyTorch models.
    """
    from edgecnn.report import calibration, deployment
    from edgecnn.runtime import Classifier

    options = options or ReportOptions()

    quantized_path = pathlib.Path(quantized_path)
    if not quantized_path.is_file():
        raise ModelFileError(f"quantized model not found: {quantized_path}")
    # Options that can be wrong are checked before anything slow runs.
    targets = deployment.resolve_targets(options.targets, options.emulate_module) if options.targets else None
    bench = [row for spec in options.bench_specs for row in deployment.bench_rows(spec)]
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
    dataset = open_dataset(dataset_spec, split=split, preprocessing=preprocessing, cache=cache)
    if limit:
        dataset = dataset.head(limit)
    if dataset.num_classes != len(classifier.labels):
        raise ModelFileError(
            f"dataset {dataset_spec} has {dataset.num_classes} classes, the model has {len(classifier.labels)} outputs"
        )
    calibration_dataset = None
    if options.calibration_sizes:
        calibration_dataset = open_dataset(options.calibration_spec or dataset_spec, split="train",
                                           preprocessing=preprocessing, cache=cache)
    float_scores, quantized, labels, quantized_seconds, latency_pixels = evaluate_both(
        float_model, classifier, dataset
    )
    report = metrics.compare(float_scores, quantized, labels, classifier.labels)
    paths = dataset.paths
    for flip in report["flips"]:
        if paths is not None:
            flip["file"] = paths[flip["index"]]
    thumbnails = dict(zip(
        (flip["index"] for flip in report["flips"]),
        dataset.pixels_at([flip["index"] for flip in report["flips"]]),
    ))
    float_tflite = float_model.convert(mode="float32", io_type="float32", layout=preprocessing.layout)
    float_latency = float_tflite_latency(float_tflite, preprocessing, latency_pixels, backend)
    report.update({
        "model": classifier.model_name or pathlib.Path(float_model_path).stem,
        "dataset": str(dataset_spec),
        "split": dataset.split,
        "evaluated": dataset.describe(len(labels)),
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
            "quantized": quantized_seconds / len(labels) * 1000,
            "quantized_runtime": classifier.backend_name,
        },
        "quantized_precision": classifier.precision,
    })
    if options.layer_error and float_model.format.name != "keras":
        report["layer_error"] = {"skipped": f"per-layer error pairs Keras layers with the model's tensors; "
                                            f"{float_model.spec} is a {float_model.format.name} model"}
    elif options.layer_error:
        from edgecnn.report import layer_error

        report["layer_error"] = layer_error.layer_errors(quantized_path, float_model.handle, preprocessing,
                                                         dataset)
    if calibration_dataset is not None:
        float_predictions = np.argmax(float_scores, axis=1)

        def evaluate(path):
            candidate = Classifier(path, backend=backend)
            scores = np.concatenate([quantized_scores(candidate, batch.pixels)[0] for batch in dataset.batches()])
            return calibration.agreement_figures(scores, labels, float_predictions)

        metadata = artifacts.tflite_metadata(quantized_path)
        rows, notes = calibration.sweep(float_model, metadata, _io_type(quantized_path), calibration_dataset,
                                        options.calibration_sizes, evaluate)
        report["calibration_sweep"] = {
            "dataset": str(options.calibration_spec or dataset_spec),
            "rows": rows,
            "notes": notes,
            "given_model": calibration.agreement_figures(quantized, labels, float_predictions),
            "float_top1": report["float"]["top1"],
        }
    if targets or bench:
        section = deployment.deployment_section(quantized_path, targets, (), options.tflm_root,
                                                options.emulate_module)
        section["targets"] += [row.to_dict() for row in bench]
        report["deployment"] = section
    return report, thumbnails


def write_report(report, images, out_dir):
    """report.json, report.md and report.html in `out_dir`, each written atomically.

    `images` maps a sample index to its pixels, for the thumbnails of flipped predictions.
    """
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
