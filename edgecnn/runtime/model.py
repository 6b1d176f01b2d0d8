"""A classifier on any backend: the model's own preprocessing, quantization and labels around `invoke`.

Work is split in two so a capture thread can do the first half while the model runs the second:
`prepare(images)` (resize, scale, quantize with the input tensor's scale and zero point) and
`predict(prepared)` (invoke and dequantize).
"""

import dataclasses
import logging
import sys
import time

import numpy as np

from edgecnn.data.preprocessing import Preprocessing, rgb_to_gray
from edgecnn.errors import ConfigurationError, ModelFileError, RuntimeBackendError, UnsupportedModelError
from edgecnn.reference import arithmetic
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
        metadata = read_metadata(self.model_path)
        num_classes = int(np.prod(self.output.shape[1:]))
        if metadata is not None:
            self.labels = list(metadata.labels)
            self.preprocessing = metadata.preprocessing
            self.model_name = metadata.model_name
        else:
            self.labels = [str(index) for index in range(num_classes)]
            self.preprocessing = Preprocessing.for_input_shape(self.input_shape)
            self.model_name = None
        if preprocessing is not None:
            self.preprocessing = preprocessing
        if len(self.labels) != num_classes:
            log.warning(
                "%s: %d labels for %d outputs; using indices", self.model_path, len(self.labels), num_classes
            )
            self.labels = [str(index) for index in range(num_classes)]
        if tuple(self.preprocessing.input_shape) != tuple(self.input_shape):
            raise ModelFileError(
                f"{self.model_path}: stored preprocessing makes {self.preprocessing.input_shape} images "
                f"but the "
                f"input tensor {self.input.name} is {self.input_shape}"
            )

        self.pixel_table = pixel_table(self.preprocessing, self.input)
        # One table for every channel when the scaling is the same for all: a single np.take per batch.
        self.shared_pixel_table = (
            np.ascontiguousarray(self.pixel_table[:, 0])
            if (self.pixel_table == self.pixel_table[:, :1]).all()
            else None
        )
        self.score_table = score_table(self.output)

    @property
    def precision(self):
        """int8, uint8 or float32: the type the model takes, which says how it was quantized."""
        return self.input.dtype.name

    def _single_input(self):
        details = self.backend.input_details
        if len(details) != 1 or len(details[0].shape) != 4:
            shapes = [detail.shape for detail in details]
            raise UnsupportedModelError(f"{self.model_path}: expected one NHWC image input, found {shapes}")
        if details[0].shape[0] != 1:
            raise UnsupportedModelError(
                f"{self.model_path}: input {details[0].name} has batch {details[0].shape[0]}; "
                "edgecnn runs batch 1"
            )
        return details[0]

    def prepare(self, image):
        """One uint8 RGB (or gray) image of any size -> the input tensor, quantized when the model is."""
        return self.prepare_batch([image])

    def prepare_batch(self, images):
        """uint8 RGB (or gray) images, or one (N, H, W, 3) array -> (N, H, W, C) model inputs.

        `[i:i + 1]` of the result is what `prepare(images[i])` gives.

        One call per batch keeps the per-frame Python work (which holds the GIL) small in a capture thread.
        """
        pixels = model_size_pixels(images, self.preprocessing)
        if pixels is None:
            pixels = self.preprocessing.prepare_pixels(images)
        if self.shared_pixel_table is None:
            return self.pixel_table[pixels, np.arange(self.input.shape[-1])]
        cv2 = sys.modules.get("cv2")  # only when the camera already loaded it: a faster lookup, same values
        if cv2 is not None and self.shared_pixel_table.itemsize == 1 and pixels.size:
            flat = cv2.LUT(pixels.reshape(-1, pixels.shape[-1]), self.shared_pixel_table.view(np.uint8))
            return flat.view(self.shared_pixel_table.dtype).reshape(pixels.shape)
        return np.take(self.shared_pixel_table, pixels)

    def predict(self, prepared):
        """Run the model on a prepared input; return the dequantized output scores (1-D)."""
        return self.scores(self.backend.invoke(prepared)[0]).reshape(-1)

    def scores(self, raw):
        """Dequantized float32 scores of raw output values of any shape (one table lookup for 8-bit)."""
        if self.score_table is not None:
            return np.take(self.score_table, raw.view(np.uint8))
        return dequantize(raw, self.output)

    def timed_predict(self, prepared):
        start = time.perf_counter()
        scores = self.predict(prepared)
        return scores, time.perf_counter() - start

    def top_k(self, scores, k=5):
        k = max(1, min(k, len(scores)))
        order = np.argsort(-scores, kind="stable")[:k]
        return Prediction(
            [(self.labels[index], float(scores[index])) for index in order], int(order[0]), scores
        )

    def classify(self, image, k=5):
        return self.top_k(self.predict(self.prepare(image)), k)

    def describe(self):
        where = self.delegate or "cpu"
        threads = self.threads if self.threads is not None else "default"
        shape = self.input_shape
        return f"{self.backend_name} backend ({where}, threads={threads}), {self.precision} input {shape}"


def load_backend(backend_class, model_path, threads, loaded_delegates):
    import pathlib

    if not pathlib.Path(model_path).is_file():
        raise ModelFileError(f"model file not found: {model_path}")
    return backend_class(model_path, threads=threads, delegates=loaded_delegates)


def read_metadata(model_path):
    try:
        from edgecnn.quantize.metadata import read_model_metadata
    except ImportError:
        return None
    try:
        return read_model_metadata(model_path)
    except ModelFileError as error:
        log.warning("%s; using default preprocessing and labels", error)
        return None


def quantize(values, tensor):
    """Float inputs -> the input tensor's dtype, as TFLite's QUANTIZE does (round half away from zero)."""
    if tensor.dtype == np.float32:
        return values.astype(np.float32)
    if tensor.dtype not in (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16)):
        raise UnsupportedModelError(f"input {tensor.name} has type {tensor.dtype}, which edgecnn cannot feed")
    if tensor.scale == 0:
        raise UnsupportedModelError(f"input {tensor.name} is {tensor.dtype} without a quantization scale")
    return arithmetic.quantize_float(values, tensor.scale, tensor.zero_point, tensor.dtype)


def dequantize(raw, tensor):
    if raw.dtype == np.float32 or tensor.scale == 0:
        return raw.astype(np.float32)
    return (np.float32(tensor.scale) * (raw.astype(np.float32) - np.float32(tensor.zero_point))).astype(
        np.float32
    )


def pixel_table(preprocessing, tensor):
    """(256, C) model input value of every uint8 pixel value per channel.

    Scaling and quantizing act on each pixel alone, so one lookup per pixel gives exactly what
    `quantize(preprocessing.scale_pixels(pixels))` would, at a fraction of the per-frame cost.
    """
    channels = preprocessing.channels
    levels = np.repeat(np.arange(256, dtype=np.uint8).reshape(1, 1, 256, 1), channels, axis=3)
    return quantize(preprocessing.scale_pixels(levels), tensor)[0, 0]


def score_table(tensor):
    """(256,) float32 score of every 8-bit output value, indexed by its bit pattern as uint8; None otherwise.

    Built with `dequantize` itself, so a lookup gives exactly its result.
    """
    if tensor.dtype not in (np.dtype(np.int8), np.dtype(np.uint8)) or tensor.scale == 0:
        return None
    return dequantize(np.arange(256, dtype=np.uint8).view(tensor.dtype), tensor)


def model_size_pixels(images, preprocessing):
    """(N, H, W, C) pixels of images already at the model's size, or None when any needs Preprocessing's work.

    Covers what a camera or video at the model's size gives (RGB, or RGB for a grayscale model) with
    whole-batch NumPy calls; the result is exactly `preprocessing.prepare_pixels(images)`: at the model's
    size that is a reshape, plus `rgb_to_gray` (a per-pixel function) for a grayscale model.
    """
    shape = (preprocessing.height, preprocessing.width, 3)
    if isinstance(images, np.ndarray):
        if images.ndim != 4 or images.shape[1:] != shape or images.dtype != np.uint8:
            return None
        stacked = images  # already one (N, H, W, 3) array
    elif len(images) and all(
        isinstance(image, np.ndarray) and image.shape == shape and image.dtype == np.uint8 for image in images
    ):
        stacked = np.stack(images)
    else:
        return None
    if preprocessing.channels == 1:
        return rgb_to_gray(stacked)[..., None]
    return stacked
