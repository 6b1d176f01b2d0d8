"""Frame sources behind one interface, chosen from the `--source` text by a registry.

`SOURCES` is the table of sources in the order they are tried. A source opens, reads BGR uint8 frames one at a
time and releases. Live sources (cameras, streams) can be reopened after a failure; finite sources (video files,
images) end. OpenCV and picamera2 are imported only when a source of theirs opens, so `edgecnn --help` stays
light.
"""

import glob
import pathlib
import re

import numpy as np

from edgecnn import extras
from edgecnn.data import decode
from edgecnn.data.folder import IMAGE_SUFFIXES
from edgecnn.errors import SourceError
from edgecnn.registry import Registry

STREAM_SCHEMES = ("http://", "https://", "rtsp://", "rtsps://", "rtmp://", "udp://", "tcp://")
# Video files up to this many pixels per frame are decoded on one FFmpeg thread.
SMALL_FRAME_PIXELS = 320 * 240
# FFmpeg's own timeouts, so a dead stream makes read() fail instead of blocking forever.
STREAM_TIMEOUT_MILLISECONDS = 5000

class Source:
    """One frame source. `live` sources keep only the newest frame and reconnect after failures."""

    name = ""
    live = False

    def __init__(self, spec):
        self.spec = spec

    @classmethod
    def matches(cls, spec):
        raise NotImplementedError

    def open(self):
        """Open the source; raise SourceError when it cannot be opened now."""

    def read(self):
        """The next BGR uint8 frame, or None when there is none (a failed read, or the end of a file)."""
        raise NotImplementedError

    def release(self):
        """Free the device or file; safe to call twice."""

    def __str__(self):
        return f"{self.name} {self.spec}"


class OpenCVSource(Source):
    """Anything cv2.VideoCapture reads: shared by cameras, streams and video files."""

    def __init__(self, spec):
        super().__init__(spec)
        self.capture = None

    def create_capture(self, cv2):
        raise NotImplementedError

    def open(self):
        cv2 = extras.require("cv2", f"reading {self.spec}")
        self.release()
        capture = self.create_capture(cv2)
        if capture is None or not capture.isOpened():
            if capture is not None:
                capture.release()
            raise SourceError(f"cannot open {self}")
        self.capture = capture

    def read(self):
        if self.capture is None:
            return None
        ok, frame = self.capture.read()
        if not ok or frame is None or frame.size == 0:
            return None
        return frame

    def release(self):
        if self.capture is not None:
            self.capture.release()
            self.capture = None


class PiCameraSource(Source):
    """A Raspberry Pi camera module through picamera2 (OpenCV cannot open it on Bookworm's libcamera)."""

    name = "picam"
    live = True

    @classmethod
    def matches(cls, spec):
        return re.fullmatch(r"picam(:\d+)?", spec) is not None

    def __init__(self, spec, size=(640, 480)):
        super().__init__(spec)
        self.camera_number = int(spec.partition(":")[2] or 0)
        self.size = size
        self.camera = None

    def open(self):
        try:
            from picamera2 import Picamera2
        except ImportError as error:
            raise SourceError(
                f"{self.spec} needs picamera2 ({error}): sudo apt install python3-picamera2, and create the "
                "virtual environment with --system-site-packages so it can see it"
            ) from error
        self.release()
        try:
            camera = Picamera2(self.camera_number)
            # "RGB888" in libcamera's naming is BGR byte order, what the rest of the pipeline expects.
            camera.configure(camera.create_video_configuration(main={"format": "RGB888", "size": self.size}))
            camera.start()
        except (RuntimeError, IndexError, OSError) as error:
            raise SourceError(f"cannot open Pi camera {self.camera_number}: {error}") from error
        self.camera = camera

    def read(self):
        if self.camera is None:
            return None
        try:
            frame = self.camera.capture_array()
        except (RuntimeError, OSError):
            return None
        return frame[:, :, :3] if frame is not None and frame.size else None

    def release(self):
        if self.camera is not None:
            try:
                self.camera.stop()
                self.camera.close()
            finally:
                self.camera = None


class StreamSource(OpenCVSource):
    """An http(s) (MJPEG), rtsp or other network stream, decoded by OpenCV's FFmpeg backend."""

    name = "stream"
    live = True

    @classmethod
    def matches(cls, spec):
        return spec.lower().startswith(STREAM_SCHEMES)

    def create_capture(self, cv2):
        parameters = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            STREAM_TIMEOUT_MILLISECONDS,
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            STREAM_TIMEOUT_MILLISECONDS,
        ]
        return cv2.VideoCapture(self.spec, cv2.CAP_FFMPEG, parameters)


class CameraSource(OpenCVSource):
    """A USB camera by index or device path (/dev/video0, /dev/v4l/by-id/... survives replugging)."""

    name = "camera"
    live = True

    @classmethod
    def matches(cls, spec):
        return spec.isdigit() or spec.startswith("/dev/")

    def create_capture(self, cv2):
        target = int(self.spec) if self.spec.isdigit() else self.spec
        api = cv2.CAP_V4L2 if hasattr(cv2, "CAP_V4L2") and pathlib.Path("/dev").is_dir() else cv2.CAP_ANY
        capture = cv2.VideoCapture(target, api)
        if capture.isOpened():
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        return capture


class ImageSource(Source):
    """One image file, a directory of images (sorted by name) or a glob pattern.

    Files are decoded by edgecnn.data.decode, as every dataset is: upright by their EXIF orientation and, given
    the model's `image_size` (height, width), a JPEG at the reduced scale datasets use for that size, so a
    photo gives the model exactly the pixels it gives in training, calibration and the report.
    """

    name = "images"

    @classmethod
    def matches(cls, spec):
        path = pathlib.Path(spec)
        if path.is_dir() or glob.has_magic(spec):
            return True
        return path.suffix.lower() in IMAGE_SUFFIXES

    def __init__(self, spec, image_size=None):
        super().__init__(spec)
        self.image_size = image_size
        self.paths = []
        self.position = 0
        self.current_path = None

    def open(self):
        path = pathlib.Path(self.spec)
        if path.is_dir():
            paths = sorted(item for item in path.iterdir() if item.suffix.lower() in IMAGE_SUFFIXES)
        elif glob.has_magic(self.spec):
            paths = sorted(pathlib.Path(item) for item in glob.glob(self.spec, recursive=True))
            paths = [item for item in paths if item.suffix.lower() in IMAGE_SUFFIXES]
        elif path.is_file():
            paths = [path]
        else:
            raise SourceError(f"image not found: {self.spec}")
        if not paths:
            raise SourceError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {self.spec}")
        self.paths = paths
        self.position = 0

    def read(self):
        if self.position >= len(self.paths):
            return None
        path = self.paths[self.position]
        self.position += 1
        try:
            pixels = decode.decode_file(path, self.image_size)
        except decode.UnreadableImage as error:
            raise SourceError(f"cannot read image {path}: {error}") from None
        self.current_path = path
        if pixels.shape[2] == 1:
            return np.repeat(pixels, 3, axis=2)
        return np.ascontiguousarray(pixels[:, :, ::-1])  # RGB -> the BGR every source gives


class VideoFileSource(OpenCVSource):
    """A video file: read to the end, every frame, no drops."""

    name = "video"

    @classmethod
    def matches(cls, spec):
        return pathlib.Path(spec).is_file()

    def create_capture(self, cv2):
        if hasattr(cv2, "CAP_PROP_N_THREADS"):
            # Decoder threads cost more CPU than they save on small frames (half the decode time at 28x28),
            # so try FFmpeg with one thread first: for the small videos it suits that is one open, not two.
            capture = cv2.VideoCapture(self.spec, cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
            if capture.isOpened():
                pixels = capture.get(cv2.CAP_PROP_FRAME_WIDTH) * capture.get(cv2.CAP_PROP_FRAME_HEIGHT)
                if 0 < pixels <= SMALL_FRAME_PIXELS:
                    return capture
            capture.release()
        return cv2.VideoCapture(self.spec)


# In match order: the first source whose `matches` accepts the --source text wins.
SOURCES = Registry("source", [PiCameraSource, StreamSource, CameraSource, ImageSource, VideoFileSource],
                   error=SourceError)


def open_source(spec, image_size=None):
    """The Source for a --source text (not yet opened); image files are decoded for `image_size` (H, W)."""
    spec = str(spec)
    for source in SOURCES:
        if source.matches(spec):
            return source(spec, image_size) if source is ImageSource else source(spec)
    raise SourceError(
        f"cannot use --source {spec!r}: not a camera index, /dev/video* path, picam[:N], stream URL, "
        "existing video file, image, directory or glob"
    )
