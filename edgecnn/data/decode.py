"""Image files to uint8 pixels: the one decoder of every stage that reads image files.

Training, calibration, report, verify, bench and the camera's image source all decode a file here, so the same
file gives the same pixels everywhere. For a model of size HxW a JPEG is decoded at a reduced scale (libjpeg's
1/2, 1/4 or 1/8, through Pillow's draft mode) that keeps it at least HxW, then resized with Preprocessing's
bilinear resize: a 12-megapixel photo never exists at full resolution. The EXIF orientation is applied (a phone
photo taken upright is upright), 16-bit images are scaled to 8 bits, palettes, CMYK and alpha become RGB or gray.
"""

import numpy as np

# Part of every cache key: bump when the pixels this module gives for a file change.
DECODER_VERSION = 1
GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"})
SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
# EXIF orientations that swap width and height (transpose, rotate 90, transverse, rotate 270).
SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})
EXIF_ORIENTATION = 0x0112


class UnreadableImage(Exception):
    """A file that cannot be decoded; the message says why in a few words."""


def header_channels(path):
    """1 or 3: the channel count the file's pixels decode to, from its header alone (no pixels read)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return 1 if image.mode in GRAY_MODES else 3
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return None


def decode_file(path, size=None):
    """Decode `path` to uint8 (H, W, 1) gray or (H, W, 3) RGB, upright.

    With `size` (height, width), a JPEG is decoded at the smallest of its reduced scales that is still at least
    that big; the caller resizes the rest of the way. Raises UnreadableImage.
    """
    pixels = np.asarray(_decode(path, size))
    return np.ascontiguousarray(pixels[:, :, None] if pixels.ndim == 2 else pixels)


def read_image(path, preprocessing):
    """The file's pixels at the model's size and channel count: (H, W, C) uint8. Raises UnreadableImage.

    The same as `preprocessing.prepare_pixels([decode_file(path, (H, W))])[0]`, without the copies.
    """
    image = _decode(path, (preprocessing.height, preprocessing.width))
    try:
        return preprocessing.prepare_image(image)
    except Exception as error:  # a shape Preprocessing refuses; counted like any unreadable file
        raise UnreadableImage(str(error)) from None


def read_native(path):
    """The file's pixels at its own size (no reduced decoding). Raises UnreadableImage."""
    return decode_file(path, None)


def _decode(path, size):
    """The upright image of `path` as a loaded Pillow image in mode "L" or "RGB"."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            orientation = _orientation(image)
            if size is not None:
                height, width = size
                if orientation in SWAPPING_ORIENTATIONS:
                    height, width = width, height
                # Must come before anything loads the pixels; a no-op for formats without reduced decoding.
                image.draft(image.mode, (width, height))
            if orientation != 1:
                image = ImageOps.exif_transpose(image)
            else:
                image.load()
            result = _to_gray_or_rgb(image)
            if result.width == 0 or result.height == 0:
                raise UnreadableImage("the image has no pixels")
            return result
    except UnidentifiedImageError:
        raise UnreadableImage("not an image Pillow can identify") from None
    except Image.DecompressionBombError as error:
        raise UnreadableImage(f"too many pixels ({error})") from None
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        # Truncated data, unsupported compression, a dangling symlink or a symlink loop.
        text = str(error) or type(error).__name__
        raise UnreadableImage(text.splitlines()[0][:120]) from None


def _orientation(image):
    try:
        return int(image.getexif().get(EXIF_ORIENTATION, 1))
    except Exception:  # a broken EXIF block: exif_transpose ignores it too
        return 1


def _to_gray_or_rgb(image):
    from PIL import Image

    mode = image.mode
    if mode in SIXTEEN_BIT_MODES:
        values = np.asarray(image).astype(np.int64)
        # Round to nearest: 65535 -> 255, 32896 -> 128 (Pillow's own I;16 -> L conversion clips at 255).
        return Image.fromarray(((np.clip(values, 0, 65535) * 255 + 32767) // 65535).astype(np.uint8), "L")
    if mode == "F":
        return Image.fromarray(np.clip(np.rint(np.asarray(image, np.float32)), 0, 255).astype(np.uint8), "L")
    if mode in ("L", "RGB"):
        return image
    if mode in GRAY_MODES:
        return image.convert("L")
    if mode in ("RGBA", "RGBa", "PA") or (mode == "P" and "transparency" in image.info):
        # Alpha is dropped, not composited: the colour under a transparent pixel is what the file stores.
        return image.convert("RGBA").convert("RGB")
    return image.convert("RGB")  # P without transparency, CMYK, YCbCr, LAB, HSV, RGBX
