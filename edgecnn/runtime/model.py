"""A classifier on any backend: the model's own preprocessing, quantization and labels around `invoke`.

Every caller uses the same three stages, so a capture thread can do the first while the model runs the second:
`prepare_batch(images)` (resize, scale, quantize with the input tensor's scale and zero point: the one
InputEncoder), `invoke(prepared)` (the runtime alone, raw output values) and `decode(raw, k)` (scores and the
top-k classes of a batch). `predict`, `top_k` and `classify` combine them for one image.
"""

import dataclasses
import logging
import pathlib
import time

import numpy as np

from edgecnn import artifacts
from edgecnn.data.encoding import InputEncoder
from edgecnn.errors import ConfigurationError, ModelFileError, RuntimeBackendError, UnsupportedModelError
from edgecnn.runtime import backends, delegate

log = logging.getLogger("edgecnn.runtime")


@dataclasses.dataclass
class Prediction:
    """Top-k labels and scores of one image."""

    top: list  # [(label, score), ...], best first
    class_index: int
    scores: np.ndarray

    def to_json(self):
        return [{"label": label, "score": round(float(score), 6)} for label, score in self.top]


@dataclasses.dataclass
class Decoded:
    """Scores and top-k class indices of a batch of raw outputs."""

    scores: np.ndarray  # (N, classes) float32
    order: np.ndarray  # (N, k) class indices, best first


class Classifier:
    """One image classification model loaded on one backend, with its labels and preprocessing."""

    def __init__(
        self,
        model_path,
        backend="auto",
        threads=None,
        delegate_text=None,
        fallback_cpu=False,
        preprocessing=None,
    ):
        self.model_path = str(model_path)
        backend_class = backends.backend_class(backend)
        if threads is not None and threads < 1:
            raise ConfigurationError(f"--threads must be at least 1, got {threads}")
        spec = delegate.parse_delegate(delegate_text)
        loaded_delegates = []
        self.delegate = None
        self.fallback_reason = None
        if spec is not None:
            try:
                loaded_delegates = [delegate.load_edgetpu_delegate(backend_class, spec)]
                self.delegate = str(spec)
            except RuntimeBackendError as error:
                if not fallback_cpu:
                    raise
                self.fallback_reason = str(error)
                log.warning("%s; running on the CPU (--fallback-cpu)", error)
        self.backend = load_backend(backend_class, self.model_path, threads, loaded_delegates)
        self.backend_name = backend_class.name
        self.threads = threads
        self.input = self._single_input()
        self.output = self.backend.output_details[0]
        self.input_shape = self.input.shape[1:]
        metadata = artifacts.tflite_metadata(self.model_path)
        self.labels = list(metadata.labels)
        self.model_name = metadata.model_name
        self.preprocessing = preprocessing or metadata.preprocessing
        if tuple(self.preprocessing.tensor_shape) != tuple(self.input_shape):
            raise ModelFileError(
                f"{self.model_path}: stored preprocessing makes {self.preprocessing.layout} inputs "
                f"{self.preprocessing.tensor_shape} but the input tensor {self.input.name} is {self.input_shape}"
            )
        self.encoder = InputEncoder.for_tensor(self.preprocessing, self.input)
        self.score_table = score_table(self.output)
        self._invoke = self.backend.invoke

    @property
    def precision(self):
        """int8, uint8 or float32: the type the model takes, which says how it was quantized."""
        return self.input.dtype.name

    def _single_input(self):
        details = self.backend.input_details
        if len(details) != 1 or len(details[0].shape) != 4:
            shapes = [detail.shape for detail in details]
            raise UnsupportedModelError(f"{self.model_path}: expected one image input, found {shapes}")
        if details[0].shape[0] != 1:
            raise UnsupportedModelError(
                f"{self.model_path}: input {details[0].name} has batch {details[0].shape[0]}; "
                "edgecnn runs batch 1"
            )
        return details[0]

    def prepare(self, image):
        """One uint8 RGB (or gray) image of any size -> the input tensor, quantized when the model is."""
        return self.encoder.encode([image])

    def prepare_batch(self, images):
        """uint8 RGB (or gray) images, or one (N, H, W, 3) array -> model inputs in the tensor's layout.

        `[i:i + 1]` of the result is what `prepare(images[i])` gives.
        """
        return self.encoder.encode(images)

    def invoke(self, prepared):
        """Run the model on one prepared input; return its raw output tensor."""
        return self._invoke(prepared)[0]

    def scores(self, raw):
        """Dequantized float32 scores of raw output values of any shape (one table lookup for 8-bit)."""
        if self.score_table is not None:
            return np.take(self.score_table, raw.view(np.uint8))
        return dequantize(raw, self.output)

    def decode(self, raw, k=5):
        """Raw outputs of N images (N, classes) -> their scores and top-k class indices."""
        scores = self.scores(raw.reshape(len(raw), -1))
        k = max(1, min(k, scores.shape[1]))
        return Decoded(scores, np.argsort(-scores, axis=1, kind="stable")[:, :k])

    def prediction(self, scores, order):
        """The Prediction of one image from its row of `decode`'s scores and order."""
        return Prediction([(self.labels[index], float(scores[index])) for index in order], int(order[0]), scores)

    def predict(self, prepared):
        """Run the model on a prepared input; return the dequantized output scores (1-D)."""
        return self.scores(self.invoke(prepared)).reshape(-1)

    def timed_predict(self, prepared):
        start = time.perf_counter()
        scores = self.predict(prepared)
        return scores, time.perf_counter() - start

    def top_k(self, scores, k=5):
        k = max(1, min(k, len(scores)))
        return self.prediction(scores, np.argsort(-scores, kind="stable")[:k])

    def classify(self, image, k=5):
        return self.top_k(self.predict(self.prepare(image)), k)

    def describe(self):
        where = self.delegate or "cpu"
        threads = self.threads if self.threads is not None else "default"
        shape = self.input_shape
        return f"{self.backend_name} backend ({where}, threads={threads}), {self.precision} input {shape}"


def load_backend(backend_class, model_path, threads, loaded_delegates):
    if not pathlib.Path(model_path).is_file():
        raise ModelFileError(f"model file not found: {model_path}")
    return backend_class(model_path, threads=threads, delegates=loaded_delegates)


def dequantize(raw, tensor):
    if raw.dtype == np.float32 or tensor.scale == 0:
        return raw.astype(np.float32)
    return (np.float32(tensor.scale) * (raw.astype(np.float32) - np.float32(tensor.zero_point))).astype(
        np.float32
    )


def score_table(tensor):
    """(256,) float32 score of every 8-bit output value, indexed by its bit pattern as uint8; None otherwise.

    Built with `dequantize` itself, so a lookup gives exactly its result.
    """
    if tensor.dtype not in (np.dtype(np.int8), np.dtype(np.uint8)) or tensor.scale == 0:
        return None
    return dequantize(np.arange(256, dtype=np.uint8).view(tensor.dtype), tensor)
