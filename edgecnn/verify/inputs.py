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
    labels: object = None  # dataset inputs: each image's class, numbered as the model's labels

    @property
    def count(self):
        return len(self.quantized[0])


@dataclasses.dataclass
class ModelInputs:
    """A model's input tensors as the input helpers read them, without loading the NumPy interpreter: for
    models it cannot run (emulate runs any model TFLite Micro runs)."""

    model: object  # an edgecnn.tflite Model
    input_details: list

    @classmethod
    def of(cls, model):
        from edgecnn.reference.interpreter import TensorInfo

        return cls(model, [TensorInfo.of(model.main.tensors[index]) for index in model.main.inputs])


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
        dtype = np.dtype(info.dtype) if np.dtype(info.dtype).kind in "iu" else np.dtype(np.int8)
        limits = np.iinfo(dtype)
        values = random.integers(limits.min, limits.max, size=(count, *_shape_without_batch(info)),
                                 endpoint=True).astype(dtype)
        quantized.append(values)
        floats.append(dequantize(values, info.scale, info.zero_point))
    kinds = "/".join(sorted({array.dtype.name for array in quantized}))
    return VerifyInputs(quantized, floats, f"{count} random {kinds} inputs (seed {seed})")


def dataset_inputs(interpreter, spec, count, seed, split=None, cache=None):
    """`count` images (None: all) drawn (seeded) from dataset `spec`, preprocessed with the model's own metadata,
    quantized, with their labels as the model numbers its outputs.

    They come from `split` (default: the test split, or every image of a plain folder); only they are decoded.
    """
    from edgecnn.data import open_dataset

    if len(interpreter.input_details) != 1:
        raise UnsupportedModelError(
            f"--dataset feeds models with one image input; "
            f"this one has {len(interpreter.input_details)} inputs"
        )
    if count is not None and count < 1:
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
    batch = dataset.take(count, seed=seed).read()
    encoder = InputEncoder.for_tensor(preprocessing, info)
    floats = encoder.floats(batch.pixels)
    if floats.shape[1:] != input_shape:
        raise UnsupportedModelError(
            f"dataset {spec!r} gives inputs of shape {floats.shape[1:]}, model takes {input_shape}"
        )
    where = "the model's metadata" if metadata.from_model else "defaults for its input shape"
    drawn = dataset.describe(len(batch.pixels))
    if len(batch.pixels) < len(dataset):
        drawn += f", drawn at random from {len(dataset):,}"
    return VerifyInputs(
        [encoder.encode_pixels(batch.pixels)],
        [floats],
        f"{drawn}; preprocessing from {where}",
        labels=model_label_indices(dataset.class_names, batch.labels, metadata.labels),
    )


def model_label_indices(class_names, labels, model_labels):
    """Each image's class as the model numbers its outputs (artifacts.model_label_index)."""
    names = list(class_names)
    mapping = [artifacts.model_label_index(name, position, model_labels) for position, name in enumerate(names)]
    return np.asarray([mapping[int(label)] if int(label) < len(mapping) else int(label)
                       for label in labels], np.int64)
