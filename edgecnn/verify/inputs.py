"""Inputs for `edgecnn verify`: dataset images preprocessed and quantized as the model expects, or random."""

import dataclasses

import numpy as np

from edgecnn import artifacts
from edgecnn.data.encoding import InputEncoder
from edgecnn.errors import ConfigurationError, UnsupportedModelError


@dataclasses.dataclass
class VerifyInputs:
    """Quantized int8 inputs (one (N, ...) array per model input), the floats they stand for, a label."""

    quantized: list
    floats: list
    description: str

    @property
    def count(self):
        return len(self.quantized[0])


def _shape_without_batch(info):
    shape = tuple(int(value) for value in info.shape)
    return shape[1:] if len(shape) > 1 and shape[0] == 1 else shape


def check_int8_inputs(interpreter, where):
    """Every input and output must be int8 with a scale: verify compares int8 kernels."""
    for kind, details in (("input", interpreter.input_details), ("output", interpreter.output_details)):
        for info in details:
            dtype = np.dtype(info.dtype)
            if dtype != np.int8:
                raise UnsupportedModelError(
                    f"{where}: {kind} tensor {info.index} ({info.name}) is {dtype.name}; "
                    f"verify needs a full-int8 model (quantize with `edgecnn quantize --mode int8`)"
                )
            if not info.scale:
                raise UnsupportedModelError(
                    f"{where}: {kind} tensor {info.index} ({info.name}) has no quantization"
                )


def dequantize(values, scale, zero_point):
    return (np.asarray(values, np.float32) - np.float32(zero_point)) * np.float32(scale)


def random_inputs(interpreter, count, seed):
    """Uniform random int8 inputs, reproducible from `seed`."""
    if count < 1:
        raise ConfigurationError(f"--random takes a positive number of images, got {count}")
    random = np.random.default_rng(seed)
    quantized, floats = [], []
    for info in interpreter.input_details:
        values = random.integers(-128, 127, size=(count, *_shape_without_batch(info)), endpoint=True).astype(
            np.int8
        )
        quantized.append(values)
        floats.append(dequantize(values, info.scale, info.zero_point))
    return VerifyInputs(quantized, floats, f"{count} random int8 inputs (seed {seed})")


def dataset_inputs(interpreter, spec, count, seed, split=None, cache=None):
    """`count` images drawn (seeded) from dataset `spec`, preprocessed with the model's own metadata, quantized.

    They come from `split` (default: the test split, or every image of a plain folder); only they are decoded.
    """
    from edgecnn.data import open_dataset

    if len(interpreter.input_details) != 1:
        raise UnsupportedModelError(
            f"--dataset feeds models with one image input; "
            f"this one has {len(interpreter.input_details)} inputs"
        )
    if count < 1:
        raise ConfigurationError(f"--count takes a positive number of images, got {count}")
    info = interpreter.input_details[0]
    input_shape = _shape_without_batch(info)
    if len(input_shape) != 3:
        raise UnsupportedModelError(
            f"--dataset needs an image input (H, W, C or C, H, W); input {info.name} has shape {list(info.shape)}"
        )
    metadata = artifacts.tflite_metadata(interpreter.model, strict=True)
    preprocessing = metadata.preprocessing
    if tuple(preprocessing.tensor_shape) != input_shape:
        raise UnsupportedModelError(
            f"the model's preprocessing makes {preprocessing.layout} inputs {preprocessing.tensor_shape} but its "
            f"input {info.name} takes {input_shape}"
        )
    dataset = open_dataset(spec, split=split, preprocessing=preprocessing, cache=cache)
    if len(dataset) == 0:
        raise ConfigurationError(f"dataset {spec!r} has no images")
    pixels = dataset.take(count, seed=seed).read().pixels
    encoder = InputEncoder.for_tensor(preprocessing, info)
    floats = encoder.floats(pixels)
    if floats.shape[1:] != input_shape:
        raise UnsupportedModelError(
            f"dataset {spec!r} gives inputs of shape {floats.shape[1:]}, model takes {input_shape}"
        )
    where = "the model's metadata" if metadata.from_model else "defaults for its input shape"
    drawn = dataset.describe(len(pixels))
    if len(pixels) < len(dataset):
        drawn += f", drawn at random from {len(dataset):,}"
    return VerifyInputs([encoder.encode_pixels(pixels)], [floats], f"{drawn}; preprocessing from {where}")
