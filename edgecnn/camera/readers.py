"""Capture threads that read and preprocess frames while the model runs on the previous one.

Live sources use a one-slot buffer: a new frame replaces an unread one (counted as dropped), so latency stays
one frame when the model is slower than the camera. After a failed read the source is released and reopened
with capped exponential backoff; with no frame for `reconnect_timeout` seconds the reader gives up with a
SourceError. Finite sources (files, folders) use a bounded queue: every frame is processed, none dropped.
"""

import logging
import queue
import threading
import time

from edgecnn.errors import SourceError

log = logging.getLogger("edgecnn.camera")

BACKOFF_INITIAL_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 10.0


def capture_time():
    """Now, rounded to the millisecond here in the capture thread, as the JSON lines print it."""
    return round(time.time(), 3)


class Frame:
    """One captured frame: its number, BGR pixels, model input and capture time (Unix seconds, to the ms)."""

    __slots__ = ("number", "image", "prepared", "captured_at", "path")

    def __init__(self, number, image, prepared, captured_at, path=None):
        self.number = number
        self.image = image
        self.prepared = prepared
        self.captured_at = captured_at
        self.path = path


class Reader:
    """Base of both readers: owns the source and a daemon capture thread."""

    def __init__(self, source, transform=None, batch_transform=None):
        self.source = source
        self.transform = transform or (lambda image: None)
        self.batch_transform = batch_transform
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run_safely, name=f"capture {source.spec}", daemon=True)
        self.error = None
        self.frames_read = 0
        self.dropped = 0

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stop_event.set()
        self.thread.join(timeout=15)

    def _run_safely(self):
        try:
            self._run()
        except BaseException as error:  # handed to the consumer, which raises it in the main thread
            self.error = error
        finally:
            self.source.release()
            self._finish()

    def _make_frame(self, image):
        number = self.frames_read
        self.frames_read += 1
        return Frame(
            number, image, self.transform(image), capture_time(), getattr(self.source, "current_path", None)
        )

    def _make_frames(self, images, captured_at, paths):
        """Frames for a chunk of images, preprocessed with one `batch_transform` call when there is one."""
        if self.batch_transform is not None:
            batch = self.batch_transform(images)
            prepared = [batch[index : index + 1] for index in range(len(images))]
        else:
            prepared = [self.transform(image) for image in images]
        first = self.frames_read
        self.frames_read += len(images)
        return [
            Frame(first + index, image, inputs, when, path)
            for index, (image, inputs, when, path) in enumerate(zip(images, prepared, captured_at, paths))
        ]

    def frame_ready(self):
        """True when `next_frame` can answer at once from frames already handed over."""
        return False

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


class LatestFrameReader(Reader):
    """Keeps only the newest frame of a live source and reconnects after failures."""

    def __init__(
        self,
        source,
        transform=None,
        reconnect_timeout=30.0,
        backoff_initial=BACKOFF_INITIAL_SECONDS,
        backoff_max=BACKOFF_MAX_SECONDS,
    ):
        super().__init__(source, transform)
        self.reconnect_timeout = reconnect_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.condition = threading.Condition()
        self.slot = None
        self.finished = False
        self.reconnects = 0

    def _run(self):
        opened = False
        backoff = self.backoff_initial
        last_frame_at = time.monotonic()
        ever_opened = False
        while not self.stop_event.is_set():
            if not opened:
                try:
                    self.source.open()
                except SourceError as error:
                    self._check_timeout(last_frame_at, error)
                    log.warning("%s; retrying in %.1f s", error, backoff)
                    self.stop_event.wait(backoff)
                    backoff = min(backoff * 2, self.backoff_max)
                    continue
                opened = True
                if ever_opened:
                    self.reconnects += 1
                    log.warning("reconnected to %s", self.source)
                else:
                    log.info("opened %s", self.source)
                ever_opened = True
            image = self.source.read()
            if image is None:
                log.warning("no frame from %s; closing it and reconnecting in %.1f s", self.source, backoff)
                self.source.release()
                opened = False
                self._check_timeout(last_frame_at, SourceError(f"lost {self.source}"))
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, self.backoff_max)
                continue
            backoff = self.backoff_initial
            last_frame_at = time.monotonic()
            frame = self._make_frame(image)
            with self.condition:
                if self.slot is not None:
                    self.dropped += 1
                self.slot = frame
                self.condition.notify()

    def _check_timeout(self, last_frame_at, error):
        waited = time.monotonic() - last_frame_at
        if waited >= self.reconnect_timeout:
            raise SourceError(
                f"no frame from {self.source} for {waited:.1f} s "
                f"(--reconnect-timeout {self.reconnect_timeout:g}); "
                f"last problem: {error}"
            )

    def _finish(self):
        with self.condition:
            self.finished = True
            self.condition.notify_all()

    def next_frame(self, timeout=None):
        """The newest unread frame; None once stopped. Raises the capture thread's SourceError."""
        with self.condition:
            while self.slot is None and not self.finished:
                if not self.condition.wait(timeout):
                    return None
            frame, self.slot = self.slot, None
        if frame is None and self.error is not None:
            raise self.error
        return frame


class SequentialReader(Reader):
    """Reads every frame of a finite source into a bounded queue, in chunks to keep locking cheap.

    The capture thread decodes a chunk and preprocesses it with one `batch_transform` call, so the
    consumer only runs the model. Chunks hold at most CHUNK_BYTES of pixels, so big frames queue few.
    `between_chunks`, when given, runs in the capture thread after each chunk is handed over and while
    it waits for room in the queue: the classify loop reports results there.
    """

    END = object()
    CHUNK_BYTES = 16 * 1024 * 1024
    HANDOVER_SECONDS = 0.002

    def __init__(
        self, source, transform=None, queue_chunks=4, chunk_size=16, batch_transform=None, between_chunks=None
    ):
        super().__init__(source, transform, batch_transform)
        self.queue = queue.Queue(maxsize=queue_chunks)
        self.chunk_size = chunk_size
        self.between_chunks = between_chunks or (lambda: None)
        self.pending = []

    def _run(self):
        clock = time.perf_counter
        self.source.open()
        chunk_size = None  # set from the first frame's size
        ended = False
        while not ended and not self.stop_event.is_set():
            images, captured_at, paths = [], [], []
            started = clock()
            while chunk_size is None or len(images) < chunk_size:
                try:
                    image = self.source.read()
                except SourceError:
                    if images:  # the frames before a bad file still count
                        self._put(self._make_frames(images, captured_at, paths))
                    raise
                if image is None:
                    ended = True
                    break
                images.append(image)
                captured_at.append(capture_time())
                paths.append(getattr(self.source, "current_path", None))
                if chunk_size is None:
                    chunk_size = max(1, min(self.chunk_size, self.CHUNK_BYTES // max(1, image.nbytes)))
                # Hand frames over early when the consumer is idle, but only once the chunk has taken
                # HANDOVER_SECONDS to read: a slow source (big images) still hands over frame by frame,
                # while fast decoding is never split into 1-frame chunks, whose fixed costs (batch
                # preprocessing, queueing, reporting) would keep the consumer idle.
                if clock() - started >= self.HANDOVER_SECONDS and self.queue.empty():
                    break
            if images:
                self._put(self._make_frames(images, captured_at, paths))

    def _put(self, item):
        while not self.stop_event.is_set():
            try:
                self.queue.put(item, timeout=0.1)
            except queue.Full:
                self.between_chunks()
                continue
            if item is not self.END:
                self.between_chunks()
            return

    def _finish(self):
        self._put(self.END)

    def frame_ready(self):
        return bool(self.pending)

    def next_frame(self, timeout=None):
        """The next frame in order; None at the end. Raises the capture thread's error."""
        if not self.pending:
            item = self.queue.get(timeout=timeout)
            if item is self.END:
                self.queue.put(self.END)
                if self.error is not None:
                    raise self.error
                return None
            self.pending = item
            self.pending.reverse()
        return self.pending.pop()


def make_reader(source, transform=None, reconnect_timeout=30.0, batch_transform=None, between_chunks=None):
    """A LatestFrameReader for live sources, a SequentialReader (chunked, batch-preprocessed) for files."""
    if source.live:
        return LatestFrameReader(source, transform, reconnect_timeout)
    return SequentialReader(source, transform, batch_transform=batch_transform, between_chunks=between_chunks)
