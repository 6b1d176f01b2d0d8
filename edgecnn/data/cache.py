"""Decoded, resized images on disk, so a second epoch or a second command does not decode a file again.

An entry is keyed by the file (its real path, size and mtime in nanoseconds), the size and channel count it was
decoded for, and the decoder (edgecnn's DECODER_VERSION and Pillow's version): change the file or the model's
input and the old entry is simply never asked for again. Entries hold the raw uint8 pixels, nothing else, so a
read is one small file. Each is written under a temporary name and renamed into place, so two processes filling
the same cache at once (two training workers, or train and quantize) each see whole entries or none. A file
that cannot be decoded gets a small ".unreadable" entry holding the reason, so it is not tried again.

The default directory is $EDGECNN_IMAGE_CACHE if set, else $XDG_CACHE_HOME/edgecnn/images
(~/.cache/edgecnn/images); delete it at any time.
"""

import hashlib
import os
import pathlib
import tempfile
import warnings

import numpy as np

from edgecnn.data import decode

PIXELS_SUFFIX = ".u8"
UNREADABLE_SUFFIX = ".unreadable"
ENVIRONMENT_VARIABLE = "EDGECNN_IMAGE_CACHE"


def default_directory():
    """$EDGECNN_IMAGE_CACHE, or $XDG_CACHE_HOME/edgecnn/images, or ~/.cache/edgecnn/images."""
    if os.environ.get(ENVIRONMENT_VARIABLE):
        return pathlib.Path(os.environ[ENVIRONMENT_VARIABLE])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "edgecnn" / "images"


def pillow_version():
    import PIL

    return PIL.__version__


class ImageCache:
    """One cache directory; safe to share between threads and processes."""

    def __init__(self, directory):
        self.directory = pathlib.Path(directory).expanduser()
        self.salt = f"edgecnn-image-cache|{decode.DECODER_VERSION}|{pillow_version()}"
        self.disabled_reason = None

    def __repr__(self):
        return f"ImageCache({str(self.directory)!r})"

    def key(self, path, stat, preprocessing):
        """The entry name for `path` (whose os.stat is `stat`) decoded for `preprocessing`'s size and channels."""
        text = (
            f"{self.salt}|{os.path.realpath(path)}|{stat.st_size}|{stat.st_mtime_ns}|"
            f"{preprocessing.height}x{preprocessing.width}x{preprocessing.channels}"
        )
        return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()

    def _entry(self, key, suffix):
        return self.directory / key[:2] / (key[2:] + suffix)

    def pixels_path(self, key):
        return self._entry(key, PIXELS_SUFFIX)

    def load(self, key, shape):
        """The cached pixels of `key` as a (H, W, C) uint8 array, or None (a miss, or an entry of the wrong size)."""
        try:
            data = np.fromfile(self._entry(key, PIXELS_SUFFIX), np.uint8)
        except (OSError, ValueError):
            return None
        if data.size != int(np.prod(shape)):
            return None
        return data.reshape(shape)

    def load_unreadable(self, key):
        """Why the file behind `key` could not be decoded last time, or None."""
        try:
            return self._entry(key, UNREADABLE_SUFFIX).read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return None

    def store(self, key, pixels):
        self._write(self._entry(key, PIXELS_SUFFIX), np.ascontiguousarray(pixels, np.uint8).tobytes())

    def store_unreadable(self, key, reason):
        self._write(self._entry(key, UNREADABLE_SUFFIX), (reason + "\n").encode("utf-8", "replace"))

    def _write(self, path, data):
        if self.disabled_reason is not None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
            try:
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(data)
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError as error:
            # A full disk or a read-only cache must not stop the command: it only gets slower.
            self.disabled_reason = f"{error.strerror or error} ({self.directory})"
            warnings.warn(f"not caching decoded images: {self.disabled_reason}", stacklevel=2)


def open_cache(cache):
    """An ImageCache from a --cache value: None for the default directory, False for none, or a directory."""
    if cache is False:
        return None
    if isinstance(cache, ImageCache):
        return cache
    return ImageCache(default_directory() if cache is None or cache is True else cache)
