"""The image the page explains, encoded exactly as the model's input, and what each int8 tensor holds for it.

The image must have the model's channel count: a grayscale photo fed to an RGB model (or a colour one to a
grayscale model) would show activations of an image the user did not give. An RGB file whose three channels
are equal is a grayscale image, and a fully opaque alpha channel is dropped; anything else is refused.
"""

import dataclasses
import pathlib

import numpy as np

from edgecnn.errors import ConfigurationError

GRAY_MODES = ("1", "L", "I", "I;16", "I;16B", "I;16L", "F")
# Ops after which a tensor's top value is the bound of a ReLU6-like activation, not the int8 range.
_CAPPED_ACTIVATIONS = ("RELU6", "RELU_N1_TO_1")
_PASS_THROUGH = ("MAX_POOL_2D", "AVERAGE_POOL_2D", "RESHAPE", "PAD", "CONCATENATION")
# Ops whose output range is fixed by the op (softmax in [0, 1) at scale 1/256): their top is no clipping.
_FIXED_RANGE_OPS = ("SOFTMAX", "LOGISTIC", "TANH")


@dataclasses.dataclass
class ModelImage:
    """The file's pixels at the model's size and channel count, and what was done to get there."""

    path: str
    original_size: tuple  # (height, width)
    channels: int
    pixels: np.ndarray  # (H, W, C) uint8 at the model's size
    resized: bool


def _decode(path):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in GRAY_MODES:
                return np.asarray(image.convert("L"))[..., None]
            if image.mode == "P":
                image = image.convert("RGBA" if "transparency" in image.info else "RGB")
            if image.mode in ("LA", "La", "PA"):
                image = image.convert("LA")
                pixels = np.asarray(image)
            elif image.mode in ("RGBA", "RGBa"):
                pixels = np.asarray(image.convert("RGBA"))
            else:
                pixels = np.asarray(image.convert("RGB"))
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as error:
        raise ConfigurationError(f"cannot read image {path}: {str(error).splitlines()[0] or 'not an image'}") from None
    if pixels.shape[-1] in (2, 4):
        if (pixels[..., -1] != 255).any():
            raise ConfigurationError(
                f"{path} has transparent pixels (an alpha channel), whose colour the model cannot see: "
                "flatten it onto a background first"
            )
        pixels = pixels[..., :-1]
    return pixels


def read_image(path, preprocessing):
    """ModelImage of `path` for a model with `preprocessing`; ConfigurationError for anything unusable."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise ConfigurationError(f"image not found: {path}")
    pixels = _decode(path)
    channels = pixels.shape[-1]
    if channels == 3 and (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all():
        if preprocessing.channels == 1:
            pixels, channels = pixels[..., :1], 1  # a grayscale image stored as RGB
    if channels != preprocessing.channels:
        kinds = {1: "a grayscale", 3: "an RGB"}
        plural = "s" if channels > 1 else ""
        raise ConfigurationError(
            f"{path} is {kinds[channels]} image ({channels} channel{plural}); the model takes "
            f"{preprocessing.channels}-channel ({kinds[preprocessing.channels].split()[1]}) input: convert the "
            "image first"
        )
    original_size = pixels.shape[:2]
    prepared = preprocessing.prepare_pixels([pixels])[0]
    return ModelImage(str(path), tuple(int(value) for value in original_size), channels, prepared,
                      resized=tuple(original_size) != (preprocessing.height, preprocessing.width))


def top_capped_tensors(interpreter):
    """Tensor indices whose top value is an activation's bound (RELU6), carried through pooling and reshapes."""
    from edgecnn.reference import arithmetic

    capped = set()
    for operator in interpreter.operators:
        output = interpreter.tensor_details[operator.outputs[0]]
        activation = "RELU6" if operator.name == "RELU6" else operator.options.get("fused_activation_function")
        if operator.name in _FIXED_RANGE_OPS:
            capped.add(operator.outputs[0])
        elif activation in _CAPPED_ACTIVATIONS:
            _, high = arithmetic.activation_range(activation, output.scale, output.zero_point)
            if high == 127:
                capped.add(operator.outputs[0])
        elif operator.name in _PASS_THROUGH and any(index in capped for index in operator.inputs):
            capped.add(operator.outputs[0])
    return capped


def tensor_statistics(values, zero_point, top_capped=False):
    """min, max and the share of values the int8 range clipped: 127 (unless an activation caps there) and
    -128 (unless it is the zero point, the bottom of a ReLU's range)."""
    values = np.asarray(values)
    if values.dtype not in (np.int8, np.uint8) or values.size == 0:
        return {"min": float(values.min()) if values.size else 0.0, "max": float(values.max()) if values.size
                else 0.0, "saturated_fraction": None}
    limits = np.iinfo(values.dtype)
    saturated = 0 if top_capped else int(np.count_nonzero(values == limits.max))
    if zero_point != limits.min:
        saturated += int(np.count_nonzero(values == limits.min))
    return {"min": int(values.min()), "max": int(values.max()), "saturated_fraction": saturated / values.size}
