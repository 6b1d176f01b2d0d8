"""How many calibration images a model needs: re-quantize with each count, evaluate each on the same images.

Each count takes the same deterministic sample `edgecnn quantize --samples N` takes (dataset.take(N, seed 0)
of the training split), quantizes with edgecnn.quantize exactly as that command does, and evaluates the result
on the report's images with the report's runtime.
"""

import tempfile

import numpy as np

from edgecnn.errors import ConfigurationError


def parse_sizes(text):
    """"8,32,128" -> [8, 32, 128]: positive whole numbers, sorted, each once."""
    try:
        sizes = sorted({int(part) for part in str(text).split(",") if part.strip()})
    except ValueError:
        raise ConfigurationError(f"--calibration-sweep takes comma-separated image counts, got {text!r}") from None
    if not sizes or sizes[0] < 1:
        raise ConfigurationError(f"--calibration-sweep takes positive image counts, got {text!r}")
    return sizes


def sweep(float_model, metadata, io_type, calibration_dataset, sizes, evaluate):
    """Rows {"requested", "samples", "bytes", ...evaluate(path)} per size, and notes.

    `float_model` is a float_models.FloatModel (Keras or PyTorch), converted in the quantized model's layout.
    `evaluate(path)` scores a .tflite file on the report's images and returns a dict of figures.
    """
    preprocessing = metadata.preprocessing
    rows, notes, done = [], [], set()
    for size in sizes:
        subset = calibration_dataset.take(size, seed=0)
        if len(subset) in done:
            notes.append(f"{size} calibration images requested, the dataset has {len(subset)}: same as the "
                         "previous row")
            continue
        done.add(len(subset))
        if len(subset) < size:
            notes.append(f"{size} calibration images requested, the dataset has {len(subset)}")
        tflite_bytes = float_model.convert(subset.inputs(preprocessing), "int8", io_type, metadata,
                                           preprocessing.layout)
        with tempfile.NamedTemporaryFile(suffix=".tflite") as handle:
            handle.write(tflite_bytes)
            handle.flush()
            figures = evaluate(handle.name)
        rows.append({"requested": int(size), "samples": int(len(subset)), "bytes": len(tflite_bytes), **figures})
    return rows, notes


def agreement_figures(scores, labels, float_predictions):
    """int8 top-1 and agreement with the float model, from the int8 scores of the report's images."""
    predictions = np.argmax(scores, axis=1)
    return {
        "top1": float(np.mean(predictions == labels)) if len(labels) else 0.0,
        "agreement": float(np.mean(predictions == float_predictions)) if len(labels) else 0.0,
    }
