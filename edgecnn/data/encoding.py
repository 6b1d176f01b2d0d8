"""Pixels to a model's input tensor: the model's Preprocessing, then TFLite's QUANTIZE, as one table lookup.

The one input encoder of edgecnn: classify, report, bench, verify and the firmware test image all feed a model
through it, so the same image gives the same int8 input everywhere. Scaling and quantizing act on each pixel
alone, so the (256, C) table of every pixel value gives exactly what quantizing the scaled floats would.
"""

import sys

import numpy as np

from edgecnn.data.preprocessing import rgb_to_gray
from edgecnn.errors import UnsupportedModelError
from edgecnn.reference import arithmetic

QUANTIZED_TYPES = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16))


def quantize(values, dtype, scale, zero_point, name="input"):
    """Float model inputs -> the input tensor's dtype, as TFLite's QUANTIZE does (round half away from zero)."""
    dtype = np.dtype(dtype)
    if dtype == np.float32:
        return np.asarray(values, np.float32)
    if dtype not in QUANTIZED_TYPES:
        raise UnsupportedModelError(f"input {name} has type {dtype}, which edgecnn cannot feed")
    if not scale:
        raise UnsupportedModelError(f"input {name} is {dtype} without a quantization scale")
    return arithmetic.quantize_float(values, scale, zero_point, dtype)


class InputEncoder:
    """uint8 RGB (or gray) images of any size -> values of one model input tensor, in its layout.

    (N, H, W, C) for most models; (N, C, H, W) when the preprocessing says the tensor is "nchw".
    """

    def __init__(self, preprocessing, dtype, scale=0.0, zero_point=0, name="input"):
        self.preprocessing = preprocessing
        self.dtype = np.dtype(dtype)
        self.scale = float(scale or 0.0)
        self.zero_point = int(zero_point or 0)
        self.name = name
        levels = np.repeat(np.arange(256, dtype=np.uint8).reshape(1, 1, 256, 1), preprocessing.channels, axis=3)
        self.table = self.quantize(preprocessing.scale_pixels(levels))[0, 0]
        # One table for every channel when the scaling is the same for all: a single np.take per batch.
        self.shared_table = (
            np.ascontiguousarray(self.table[:, 0]) if (self.table == self.table[:, :1]).all() else None
        )
        self._channel_columns = np.arange(preprocessing.channels)

    @classmethod
    def for_tensor(cls, preprocessing, tensor):
        """An encoder for a tensor description with dtype, scale, zero_point and name (any runtime's)."""
        return cls(preprocessing, tensor.dtype, tensor.scale, tensor.zero_point, tensor.name)

    def quantize(self, values):
        """Float model inputs (already preprocessed) -> this tensor's values."""
        return quantize(values, self.dtype, self.scale, self.zero_point, self.name)

    def floats(self, pixels):
        """What a float model is fed for the same pixels (at the model's size), in the tensor's layout."""
        return self.preprocessing.to_layout(self.preprocessing.scale_pixels(pixels))

    def encode(self, images):
        """uint8 RGB (or gray) images, or one (N, H, W, 3) array, of any size -> model inputs.

        One call per batch keeps the per-frame Python work (which holds the GIL) small in a capture thread.
        """
        pixels = model_size_pixels(images, self.preprocessing)
        if pixels is None:
            pixels = self.preprocessing.prepare_pixels(images)
        return self.encode_pixels(pixels)

    def encode_pixels(self, pixels):
        """(N, H, W, C) uint8 pixels already at the model's size and channel count -> model inputs."""
        return self.preprocessing.to_layout(self._look_up(pixels))

    def _look_up(self, pixels):
        if self.shared_table is None:
            return self.table[pixels, self._channel_columns]
        cv2 = sys.modules.get("cv2")  # only when the camera already loaded it: a faster lookup, same values
        if cv2 is not None and self.shared_table.itemsize == 1 and pixels.size:
            flat = cv2.LUT(pixels.reshape(-1, pixels.shape[-1]), self.shared_table.view(np.uint8))
            return flat.view(self.shared_table.dtype).reshape(pixels.shape)
        return np.take(self.shared_table, pixels)


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
