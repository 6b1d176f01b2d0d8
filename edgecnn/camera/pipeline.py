"""The classify loop: frames from a reader, the model on each, results to JSON lines, a window or a video.

The capture thread decodes and preprocesses frames ahead (in chunks, for files) while the model runs. The
summary separates model-only latency (the invoke) from end-to-end throughput (everything, per second).
"""

import dataclasses
import logging
import os
import pathlib
import sys
import time

import numpy as np

from edgecnn import extras
from edgecnn.camera import readers
from edgecnn.camera.reporting import RecordWriter, Reporter
from edgecnn.errors import ConfigurationError, SourceError

log = logging.getLogger("edgecnn.camera")

WINDOW_NAME = "edgecnn classify"
MIN_DISPLAY_HEIGHT = 360


@dataclasses.dataclass
class Summary:
    """What a classify run did, printed at its end (or on Ctrl-C)."""

    frames: int = 0
    dropped: int = 0
    reconnects: int = 0
    latencies: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False
    saved: str = None

    def percentile_ms(self, percent):
        return float(np.percentile(self.latencies, percent) * 1000) if self.latencies else float("nan")

    @property
    def fps(self):
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self):
        return {
            "frames": self.frames,
            "dropped": self.dropped,
            "reconnects": self.reconnects,
            "model_latency_ms_p50": round(self.percentile_ms(50), 4),
            "model_latency_ms_p95": round(self.percentile_ms(95), 4),
            "end_to_end_fps": round(self.fps, 2),
            "interrupted": self.interrupted,
        }

    def text(self):
        lines = [
            f"frames: {self.frames} processed, {self.dropped} dropped (newer frame arrived first)"
            + (f", {self.reconnects} reconnects" if self.reconnects else ""),
            f"model-only latency: p50 {self.percentile_ms(50):.3f} ms, p95 {self.percentile_ms(95):.3f} ms",
            f"end-to-end: {self.fps:.1f} frames/s over {self.seconds:.2f} s",
        ]
        if self.saved:
            lines.append(f"saved annotated video: {self.saved}")
        if self.interrupted:
            lines.append("stopped by Ctrl-C")
        return "\n".join(lines)


def display_available():
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class Display:
    """An OpenCV window; `open` returns None when this OpenCV build or machine cannot show one."""

    @classmethod
    def open(cls):
        cv2 = extras.require("cv2", "showing frames")
        if not display_available():
            return None
        try:
            cv2.namedWindow(WINDOW_NAME, cv2.WINDOW_NORMAL)
        except cv2.error:  # opencv-python-headless has no GUI
            return None
        return cls(cv2)

    def __init__(self, cv2):
        self.cv2 = cv2

    def show(self, image):
        """Show one frame; return False when the user pressed q or Esc or closed the window."""
        self.cv2.imshow(WINDOW_NAME, image)
        key = self.cv2.waitKey(1) & 0xFF
        return key not in (ord("q"), 27)

    def close(self):
        self.cv2.destroyWindow(WINDOW_NAME)


class VideoSaver:
    """Writes annotated frames to a temporary file beside the target and renames it there when done."""

    FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "mp4v"}

    def __init__(self, path, fps):
        self.path = pathlib.Path(path)
        if not self.path.resolve().parent.is_dir():
            raise ConfigurationError(
                f"output directory does not exist: {self.path.resolve().parent} (for {path})"
            )
        suffix = self.path.suffix.lower()
        if suffix not in self.FOURCC:
            raise ConfigurationError(f"--save {path}: use a .mp4, .avi, .mov or .mkv file name")
        # Same suffix, so OpenCV picks the right container; same directory, so the rename is atomic.
        self.temporary = self.path.with_name(f".{self.path.stem}.{os.getpid()}.part{suffix}")
        self.fourcc = self.FOURCC[suffix]
        self.fps = fps if fps and 1 <= fps <= 240 else 30.0
        self.writer = None

    def write(self, image):
        cv2 = extras.require("cv2", "writing video")
        if self.writer is None:
            height, width = image.shape[:2]
            self.writer = cv2.VideoWriter(
                str(self.temporary), cv2.VideoWriter_fourcc(*self.fourcc), self.fps, (width, height)
            )
            if not self.writer.isOpened():
                raise ConfigurationError(f"cannot write video {self.path} with codec {self.fourcc}")
        self.writer.write(image)

    def close(self, keep=True):
        if self.writer is not None:
            self.writer.release()
            if keep:
                os.replace(self.temporary, self.path)
                return str(self.path)
        pathlib.Path(self.temporary).unlink(missing_ok=True)
        return None


def annotate(image, prediction, fps):
    """Draw the top label, its score and the FPS on a copy of the frame, enlarged when it is tiny."""
    cv2 = extras.require("cv2", "drawing on frames")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    height, width = image.shape[:2]
    if height < MIN_DISPLAY_HEIGHT:
        factor = int(np.ceil(MIN_DISPLAY_HEIGHT / height))
        image = cv2.resize(image, (width * factor, height * factor), interpolation=cv2.INTER_NEAREST)
    else:
        image = image.copy()
    label, score = prediction.top[0]
    scale = max(0.5, image.shape[0] / 600)
    thickness = max(1, int(round(scale * 2)))
    lines = [f"{label} {score:.2f}", f"{fps:.1f} FPS"]
    for row, text in enumerate(lines):
        origin = (10, int((row + 1) * 32 * scale))
        cv2.putText(
            image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA
        )
        cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 255, 0), thickness, cv2.LINE_AA)
    return image


def source_fps(source):
    capture = getattr(source, "capture", None)
    if capture is None:
        return None
    cv2 = extras.require("cv2")
    return capture.get(cv2.CAP_PROP_FPS)


def bgr_to_rgb(image):
    return image[:, :, ::-1] if image.ndim == 3 else image


def bgr_to_rgb_batch(images):
    """BGR frames -> RGB: one (N, H, W, 3) array when they share a size, else a list.

    One OpenCV channel swap for the whole batch: several times faster than copying reversed views, and one
    GIL release instead of one per frame.
    """
    cv2 = sys.modules.get("cv2")
    shape = images[0].shape if images else None
    if cv2 is None or len(shape) != 3 or shape[2] != 3 or any(image.shape != shape for image in images):
        return [bgr_to_rgb(image) for image in images]
    stacked = np.stack(images)
    return cv2.cvtColor(stacked.reshape(-1, shape[1], 3), cv2.COLOR_BGR2RGB).reshape(stacked.shape)


def run_classification(
    classifier,
    source,
    top_k=5,
    headless=True,
    save_path=None,
    max_frames=None,
    reconnect_timeout=30.0,
    output=None,
    summary=None,
):
    """Classify frames until the source ends, `max_frames`, q/Esc in the window, or Ctrl-C.

    Headless, one JSON line per frame goes to `output` (stdout by default). Returns the Summary; a live source
    that stays down past `reconnect_timeout` raises SourceError after the summary is filled in.
    """
    loop = ClassifyLoop(classifier, source, top_k, headless, save_path, output, summary)
    return loop.run(max_frames, reconnect_timeout)


class ClassifyLoop:
    """One classify run over the Classifier's three stages: prepare (capture thread), invoke (main thread),
    decode and report (in batches, one per chunk the capture thread handed over).

    The main thread only invokes the model. For files the capture thread reports between chunks, for live
    sources (every frame) a Reporter thread does; with a window, the main thread, which GUI toolkits require.
    """

    def __init__(self, classifier, source, top_k, headless, save_path, output, summary):
        self.classifier = classifier
        self.source = source
        self.k = max(1, min(top_k, len(classifier.labels)))
        self.output = output or sys.stdout
        self.summary = summary if summary is not None else Summary()
        self.display = None if headless else Display.open()
        if not headless and self.display is None:
            log.warning("no display here (or OpenCV without GUI support): printing JSON lines as with --headless")
        self.headless = self.display is None
        self.save_path = save_path
        self.saver = None
        self.writer = RecordWriter(classifier.labels, classifier.score_table)
        self.started_at = None

    def prepare_batch(self, images):
        return self.classifier.prepare_batch(bgr_to_rgb_batch(images))

    def prepare(self, image):
        return self.classifier.prepare(bgr_to_rgb(image))

    def report(self, batch):
        """Decode, format, save and show a batch of (frame, raw output, invoke seconds); False when the user quit."""
        frames, raws, seconds = zip(*batch)
        raw = np.concatenate(raws).reshape(len(raws), -1)
        decoded = self.classifier.decode(raw, self.k)
        if self.headless:
            self.output.write(self.writer.text(frames, seconds, raw, decoded.scores, decoded.order))
        if self.display is None and not self.save_path:
            return True
        for row, frame in enumerate(frames):
            prediction = self.classifier.prediction(decoded.scores[row], decoded.order[row])
            fps = self.summary.frames / max(time.perf_counter() - self.started_at, 1e-9)
            annotated = annotate(frame.image, prediction, fps)
            if self.save_path:
                if self.saver is None:
                    self.saver = VideoSaver(self.save_path, source_fps(self.source))
                self.saver.write(annotated)
            if self.display is not None and not self.display.show(annotated):
                return False
        return True

    def run(self, max_frames, reconnect_timeout):
        summary = self.summary
        # A window must be drawn from the main thread, which GUI toolkits require: no reporter then.
        reporter = Reporter(self.report, thread=self.source.live) if self.display is None else None
        reader = readers.make_reader(
            self.source,
            self.prepare,
            reconnect_timeout,
            batch_transform=self.prepare_batch,
            between_chunks=None if reporter is None else reporter.drain,
        )
        results = []  # (frame, raw output, invoke seconds) not yet reported

        def flush():
            """Hand the results so far to the reporter (or report them here); False when the user quit."""
            if not results:
                return True
            batch = results.copy()
            results.clear()
            if reporter is None:
                return self.report(batch)
            reporter.submit(batch)
            return True

        # Looked up once: this loop is the only per-frame work in the main thread.
        invoke = self.classifier.invoke
        clock = time.perf_counter
        latencies = summary.latencies
        next_frame = reader.next_frame
        frame_ready = reader.frame_ready
        limit = float("inf") if max_frames is None else max_frames
        self.started_at = clock()
        reader.start()
        keep_video = True
        failed = False
        try:
            while summary.frames < limit:
                frame = next_frame()
                if frame is None:
                    break
                invoked_at = clock()
                raw = invoke(frame.prepared)
                seconds = clock() - invoked_at
                latencies.append(seconds)
                results.append((frame, raw, seconds))
                summary.frames += 1
                if not frame_ready() and not flush():
                    break
            flush()
        except KeyboardInterrupt:
            summary.interrupted = True
            flush()
        except SourceError:
            flush()
            failed = True  # this error, not a later one of the reporter, is the one to show
            raise  # frames recorded before a stream died are still worth keeping
        except BaseException:
            keep_video = False
            failed = True
            raise
        finally:
            try:
                if reporter is not None:
                    reporter.close(raise_error=not failed)
            finally:
                summary.seconds = time.perf_counter() - self.started_at
                reader.stop()
                summary.dropped = reader.dropped
                summary.reconnects = getattr(reader, "reconnects", 0)
                if self.saver is not None:
                    keep = keep_video and (reporter is None or reporter.error is None)
                    summary.saved = self.saver.close(keep=keep)
                if self.display is not None:
                    self.display.close()
                self.output.flush()
        return summary
