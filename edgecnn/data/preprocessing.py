"""One preprocessing, saved with the model, applied the same way at every stage.

Images enter as uint8 arrays in RGB order (H, W, 3) or grayscale (H, W) / (H, W, 1). They are resized to the
model's input size, converted to its channel count, and scaled: float = (pixel * scale - mean) / std.
Every stage works on (N, H, W, C) pixels; `layout` says how the model's input tensor orders them ("nhwc", as
TFLite and Keras do, or "nchw", as a PyTorch model converted without moving its channels last), and
`to_layout` makes that order just before the values go into the tensor.
"""

import dataclasses

import numpy as np

from edgecnn.errors import ConfigurationError

LAYOUTS = ("nhwc", "nchw")


@dataclasses.dataclass(frozen=True)
class Preprocessing:
    """Input size, channel count, scaling and tensor layout of a model's input."""

    height: int
    width: int
    channels: int
    scale: float = 1.0 / 255.0
    mean: tuple = (0.0,)
    std: tuple = (1.0,)
    layout: str = "nhwc"

    def __post_init__(self):
        if self.layout not in LAYOUTS:
            raise ConfigurationError(f"unknown input layout {self.layout!r}; use one of {', '.join(LAYOUTS)}")
        if self.channels not in (1, 3):
            raise ConfigurationError(f"models take 1 or 3 input channels, not {self.channels}")
        if self.height < 1 or self.width < 1:
            raise ConfigurationError(f"input size must be positive, got {self.height}x{self.width}")
        for name in ("mean", "std"):
            values = tuple(float(value) for value in getattr(self, name))
            if len(values) not in (1, self.channels):
                raise ConfigurationError(
                    f"--{name} takes 1 or {self.channels} values for a {self.channels}-channel model, "
                    f"got {len(values)}"
                )
            object.__setattr__(self, name, values)
        if any(value == 0 for value in self.std):
            raise ConfigurationError("--std values must not be 0")

    @property
    def input_shape(self):
        """(H, W, C): the shape of one image at the model's size, whatever the tensor's layout."""
        return (self.height, self.width, self.channels)

    @property
    def tensor_shape(self):
        """The shape of the model's input tensor without its batch axis: (H, W, C), or (C, H, W) for "nchw"."""
        if self.layout == "nchw":
            return (self.channels, self.height, self.width)
        return self.input_shape

    def to_layout(self, values):
        """(N, H, W, C) model inputs -> the tensor's layout (a contiguous copy for "nchw", else unchanged)."""
        if self.layout == "nchw":
            return np.ascontiguousarray(np.moveaxis(values, -1, 1))
        return values

    def to_dict(self):
        return {
            "height": self.height,
            "width": self.width,
            "channels": self.channels,
            "color": "grayscale" if self.channels == 1 else "rgb",
            "scale": self.scale,
            "mean": list(self.mean),
            "std": list(self.std),
            "layout": self.layout,
        }

    @classmethod
    def from_dict(cls, values):
        try:
            return cls(
                height=int(values["height"]),
                width=int(values["width"]),
                channels=int(values["channels"]),
                scale=float(values.get("scale", 1.0 / 255.0)),
                mean=tuple(values.get("mean", (0.0,))),
                std=tuple(values.get("std", (1.0,))),
                layout=str(values.get("layout", "nhwc")),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ConfigurationError(f"invalid preprocessing settings {values!r}: {error}") from error

    @classmethod
    def for_input_shape(cls, input_shape, scale=1.0 / 255.0, mean=(0.0,), std=(1.0,), layout=None):
        """Default preprocessing for a model edgecnn did not train: resize, match channels, scale to [0, 1].

        `input_shape` is the input tensor's shape (with or without its batch axis) in `layout`; without one,
        the layout is guessed from the shape (see `detect_layout`).
        """
        if len(input_shape) < 3:
            raise ConfigurationError(f"input shape {list(input_shape)} is not an image (height, width, channels)")
        layout = layout or detect_layout(input_shape)
        dimensions = [int(value) for value in input_shape[-3:]]
        if layout == "nchw":
            dimensions = dimensions[1:] + dimensions[:1]
        height, width, channels = dimensions
        return cls(height, width, channels, scale, tuple(mean), tuple(std), layout)

    def prepare_pixels(self, images):
        """Resize and convert uint8 images to (N, H, W, C) uint8 at the model's size and channel count."""
        return np.stack([self._prepare_one(image) for image in images]) if len(images) else np.zeros(
            (0, *self.input_shape), np.uint8
        )

    def scale_pixels(self, pixels):
        """Map uint8 (N, H, W, C) pixels at the model's size to float32 model inputs."""
        values = pixels.astype(np.float32) * np.float32(self.scale)
        return ((values - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)).astype(
            np.float32
        )

    def apply(self, images):
        """uint8 images of any size and channel count -> float32 (N, H, W, C) model inputs."""
        return self.scale_pixels(self.prepare_pixels(images))

    def prepare_image(self, image):
        """A Pillow image in mode "L" or "RGB" -> (H, W, C) uint8, exactly what `prepare_pixels` makes of its
        pixels (the same resize, then the same channel conversion), without converting to NumPy first."""
        if image.size != (self.width, self.height):
            image = resize_image(image, self.height, self.width)
        return self._match_channels(np.asarray(image))

    def _prepare_one(self, image):
        image = np.asarray(image)
        if image.dtype != np.uint8:
            raise ConfigurationError(f"images must be uint8 pixels, got {image.dtype}")
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[:, :, 0]
        if image.ndim == 3 and image.shape[2] == 4:
            image = image[:, :, :3]
        if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
            raise ConfigurationError(f"cannot read an image of shape {image.shape}")
        if image.shape[:2] != (self.height, self.width):
            image = resize(image, self.height, self.width)
        return self._match_channels(image)

    def _match_channels(self, image):
        """(H, W) gray or (H, W, 3) RGB at the model's size -> (H, W, C): luma for a gray model, repeated gray
        for an RGB one."""
        if self.channels == 1 and image.ndim == 3:
            image = rgb_to_gray(image)
        if self.channels == 3 and image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        return image.reshape(self.input_shape)


def detect_layout(input_shape):
    """The layout of an image input tensor that carries no metadata: "nchw" only when nothing else fits.

    Models take 1 or 3 channels, so (1, 3, 224, 224) is channels-first and (1, 224, 224, 3) channels-last; a
    shape that fits both ways, such as (1, 3, 8, 3), is taken as TFLite's usual "nhwc".
    """
    dimensions = [int(value) for value in input_shape[-3:]]
    if len(dimensions) == 3 and dimensions[2] not in (1, 3) and dimensions[0] in (1, 3):
        return "nchw"
    return "nhwc"


def rgb_to_gray(image):
    """ITU-R 601 luma, the weights Pillow and OpenCV use, rounded to uint8."""
    weights = np.array([0.299, 0.587, 0.114], np.float32)
    return np.clip(np.rint(image.astype(np.float32) @ weights), 0, 255).astype(np.uint8)


def resize(image, height, width):
    """Bilinear resize of a uint8 image with Pillow (antialiased when shrinking)."""
    from PIL import Image

    return np.asarray(resize_image(Image.fromarray(image), height, width))


def resize_image(image, height, width):
    """The one resize of edgecnn: Pillow's bilinear filter, which averages over the whole footprint when
    shrinking (so a 12-megapixel photo and its reduced JPEG decode shrink alike)."""
    from PIL import Image

    return image.resize((width, height), Image.BILINEAR)
