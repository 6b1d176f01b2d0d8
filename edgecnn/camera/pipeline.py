"""The classify loop: frames from a reader, the model on each, results to JSON lines, a window or a video.

The capture thread decodes and preprocesses frames ahead (in chunks, for files) while the model runs. The
summary separates model-only latency (the invoke) from end-to-end throughput (everything, per second).
"""

import dataclasses
import json
import logging
import math
import os
import pathlib
import sys
import time

import numpy as np

from edgecnn import extras
from edgecnn.camera import readers
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


def json_number(value):
    """A float as json.dumps writes it (repr, or NaN/Infinity), without the cost of a json.dumps call."""
    return repr(value) if math.isfinite(value) else json.dumps(value)


class RecordWriter:
    """Formats the per-frame JSON lines exactly as json.dumps(record) would, a batch at a time.

    Labels are encoded once; scores are rounded like Prediction.to_json. This keeps the main thread's
    per-frame work small enough for end-to-end FPS to stay close to the model's own rate.
    """

    def __init__(self, labels):
        self.label_texts = [json.dumps(label) for label in labels]

    def line(self, frame, top_indices, top_scores, seconds):
        top = ", ".join(
            f'{{"label": {self.label_texts[index]}, "score": {json_number(round(score, 6))}}}'
            for index, score in zip(top_indices, top_scores)
        )
        text = (
            f'{{"frame": {frame.number}, "time": {json_number(round(frame.captured_at, 3))}, "top": [{top}], '
            f'"latency_ms": {json_number(round(seconds * 1000, 3))}'
        )
        if frame.path is not None:
            text += f', "path": {json.dumps(str(frame.path))}'
        return text + "}\n"


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

    The main thread only invokes the model; results are scored, formatted and written in batches, at the
    end of each chunk the capture thread handed over (every frame for live sources).
    """
    output = output or sys.stdout
    summary = summary if summary is not None else Summary()
    display = None if headless else Display.open()
    if not headless and display is None:
        log.warning("no display here (or OpenCV without GUI support): printing JSON lines as with --headless")
        headless = True

    def prepare(image):
        return classifier.prepare(bgr_to_rgb(image))

    def prepare_batch(images):
        return classifier.prepare_batch([bgr_to_rgb(image) for image in images])

    reader = readers.make_reader(source, prepare, reconnect_timeout, batch_transform=prepare_batch)
    writer = RecordWriter(classifier.labels)
    k = max(1, min(top_k, len(classifier.labels)))
    state = {"saver": None}
    keep_video = True
    results = []  # (frame, raw output, invoke seconds) not yet reported

    def report():
        """Score, format and show the frames run since the last report; False when the user quit."""
        if not results:
            return True
        raw = np.stack([result[1].reshape(-1) for result in results])
        scores = classifier.scores(raw)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        top_scores = np.take_along_axis(scores, order, axis=1).tolist()
        if headless:
            output.write(
                "".join(
                    writer.line(frame, indices, row_scores, seconds)
                    for (frame, _, seconds), indices, row_scores in zip(results, order.tolist(), top_scores)
                )
            )
        if display is not None or save_path:
            for row, (frame, _, _) in enumerate(results):
                prediction = classifier.top_k(scores[row], k)
                fps = summary.frames / max(time.perf_counter() - start, 1e-9)
                annotated = annotate(frame.image, prediction, fps)
                if save_path:
                    if state["saver"] is None:
                        state["saver"] = VideoSaver(save_path, source_fps(source))
                    state["saver"].write(annotated)
                if display is not None and not display.show(annotated):
                    results.clear()
                    return False
        results.clear()
        return True

    invoke = classifier.backend.invoke
    clock = time.perf_counter
    latencies = summary.latencies
    start = clock()
    reader.start()
    try:
        while max_frames is None or summary.frames < max_frames:
            frame = reader.next_frame()
            if frame is None:
                break
            invoked_at = clock()
            raw = invoke(frame.prepared)[0]
            seconds = clock() - invoked_at
            latencies.append(seconds)
            results.append((frame, raw, seconds))
            summary.frames += 1
            if not reader.frame_ready() and not report():
                break
        report()
    except KeyboardInterrupt:
        summary.interrupted = True
        report()
    except SourceError:
        report()
        raise  # frames recorded before a stream died are still worth keeping
    except BaseException:
        keep_video = False
        raise
    finally:
        summary.seconds = time.perf_counter() - start
        reader.stop()
        summary.dropped = reader.dropped
        summary.reconnects = getattr(reader, "reconnects", 0)
        if state["saver"] is not None:
            summary.saved = state["saver"].close(keep=keep_video)
        if display is not None:
            display.close()
        output.flush()
    return summary
