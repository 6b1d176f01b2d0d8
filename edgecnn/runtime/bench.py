"""Latency of models per backend and thread count, as one table.

Model-only time covers set input, invoke, read and dequantize the output; end-to-end adds preprocessing a
camera-sized uint8 frame (resize, scale, quantize) and the top-k. Both are measured after warm-up runs.
A .keras model is converted to a float32 .tflite in memory (needs TensorFlow) and run on the same backend,
so the float row compares like with like.
"""

import dataclasses
import os
import pathlib
import tempfile
import time

import numpy as np

from edgecnn import text_table
from edgecnn.errors import ModelFileError
from edgecnn.runtime.model import Classifier


@dataclasses.dataclass
class BenchRow:
    model: str
    precision: str
    backend: str
    device: str
    threads: str
    size_kb: float
    model_ms_p50: float
    model_ms_p95: float
    end_to_end_ms_p50: float
    end_to_end_ms_p95: float
    accuracy: float = None
    accuracy_images: int = None

    @property
    def inferences_per_second(self):
        return 1000.0 / self.model_ms_p50 if self.model_ms_p50 > 0 else float("inf")

    def to_dict(self):
        return dataclasses.asdict(self)


def percentiles_ms(seconds):
    values = np.asarray(seconds) * 1000.0
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def default_frame(height=480, width=640, seed=0):
    """A camera-sized BGR-like test frame; the content does not change the timing."""
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def measure(classifier, frames, warmup=10, runs=100, top_k=5):
    """Return (model-only seconds, end-to-end seconds) lists of `runs` timed runs each."""
    prepared = classifier.prepare(frames[0])
    for _ in range(warmup):
        classifier.predict(prepared)
    model_seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        classifier.predict(prepared)
        model_seconds.append(time.perf_counter() - start)
    end_to_end_seconds = []
    for index in range(runs):
        frame = frames[index % len(frames)]
        start = time.perf_counter()
        classifier.top_k(classifier.predict(classifier.prepare(frame)), top_k)
        end_to_end_seconds.append(time.perf_counter() - start)
    return model_seconds, end_to_end_seconds


def evaluate(classifier, dataset, limit=None):
    """Top-1 accuracy on a dataset (its first `limit` images) and how many images that was."""
    if limit:
        dataset = dataset.head(limit)
    correct = count = 0
    for batch in dataset.batches():
        prepared = classifier.prepare_batch(batch.pixels)
        for index in range(len(batch)):
            correct += int(np.argmax(classifier.predict(prepared[index : index + 1])) == batch.labels[index])
        count += len(batch)
    return (correct / count if count else float("nan")), count


def open_for(classifier, dataset, split=None, cache=None):
    """A dataset spec (or Dataset) opened at the classifier's input size."""
    from edgecnn.data import open_dataset

    return open_dataset(dataset, split=split, preprocessing=classifier.preprocessing, cache=cache)


def keras_to_float_tflite(path):
    """Convert a .keras model to float32 TFLite bytes with batch 1, as `edgecnn quantize` would (TensorFlow needed)."""
    from edgecnn import artifacts
    from edgecnn.quantize.converter import quantize_keras_model

    return quantize_keras_model(artifacts.load_keras_model(path), mode="float32", io_type="float32")


def bench_model(
    path,
    backend="auto",
    threads=None,
    delegate_text=None,
    fallback_cpu=False,
    warmup=10,
    runs=100,
    dataset=None,
    limit=None,
    frame=None,
    split=None,
    cache=None,
):
    """One BenchRow for one model on one backend and thread count.

    With `dataset` (a spec or a Dataset), the end-to-end column times its images and the accuracy column
    covers every image of `split` (default: the test split, or every image of a plain folder), or `limit`.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}")
    temporary = None
    model_path, precision_note = path, ""
    if path.suffix == ".keras":
        descriptor, temporary = tempfile.mkstemp(suffix=".tflite")
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(keras_to_float_tflite(str(path)))
        model_path, precision_note = pathlib.Path(temporary), " (.keras)"
    try:
        classifier = Classifier(
            model_path,
            backend=backend,
            threads=threads,
            delegate_text=delegate_text,
            fallback_cpu=fallback_cpu,
        )
        frames = [frame if frame is not None else default_frame()]
        accuracy = accuracy_images = None
        if dataset is not None:
            dataset = open_for(classifier, dataset, split, cache)
            frames = list(dataset.head(max(1, runs)).read(progress=False).pixels)
        model_seconds, end_to_end_seconds = measure(classifier, frames, warmup, runs)
        if dataset is not None:
            accuracy, accuracy_images = evaluate(classifier, dataset, limit)
    finally:
        if temporary:
            os.unlink(temporary)
    model_p50, model_p95 = percentiles_ms(model_seconds)
    end_p50, end_p95 = percentiles_ms(end_to_end_seconds)
    return BenchRow(
        model=path.name,
        precision=classifier.precision + precision_note,
        backend=classifier.backend_name,
        device=classifier.delegate or "cpu",
        threads=str(threads) if threads else "default",
        size_kb=path.stat().st_size / 1024,
        model_ms_p50=model_p50,
        model_ms_p95=model_p95,
        end_to_end_ms_p50=end_p50,
        end_to_end_ms_p95=end_p95,
        accuracy=accuracy,
        accuracy_images=accuracy_images,
    )


COLUMNS = [
    ("model", "Model", "{}"),
    ("precision", "Type", "{}"),
    ("backend", "Backend", "{}"),
    ("device", "Device", "{}"),
    ("threads", "Threads", "{}"),
    ("size_kb", "Size KB", "{:.1f}"),
    ("model_ms_p50", "Model p50 ms", "{:.3f}"),
    ("model_ms_p95", "Model p95 ms", "{:.3f}"),
    ("end_to_end_ms_p50", "E2E p50 ms", "{:.3f}"),
    ("end_to_end_ms_p95", "E2E p95 ms", "{:.3f}"),
    ("accuracy_images", "Images", "{}"),
    ("accuracy", "Top-1", "{:.4f}"),
]


def format_table(rows):
    """Rows as an aligned text table; the accuracy column only when some row has one."""
    columns = [
        column
        for column in COLUMNS
        if column[0] not in ("accuracy", "accuracy_images") or any(row.accuracy is not None for row in rows)
    ]
    cells = [
        ["-" if getattr(row, key) is None else pattern.format(getattr(row, key)) for key, _, pattern in columns]
        for row in rows
    ]
    return text_table.format_table([title for _, title, _ in columns], cells, rule=True)
