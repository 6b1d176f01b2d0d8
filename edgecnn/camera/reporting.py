"""Per-frame results out of the classify loop: JSON lines made in batches, and a thread that writes them.

Both exist for speed: with a model as fast as lenet5 (~0.1 ms per frame), json.dumps per frame in the
main thread would cost more than a tenth of the model's own time.
"""

import json
import math
import queue
import threading

import numpy as np


def json_number(value):
    """A float as json.dumps writes it (repr, or NaN/Infinity), without the cost of a json.dumps call."""
    return repr(value) if math.isfinite(value) else json.dumps(value)


class RecordWriter:
    """Formats the per-frame JSON lines exactly as json.dumps(record) would, a batch at a time.

    Labels are encoded once. An 8-bit output has only 256 possible scores per class, so the text of each
    (class, raw value) entry is made once and reused. This keeps the per-frame Python work small enough for
    end-to-end FPS to stay close to the model's own rate.
    """

    def __init__(self, labels, score_table=None):
        self.label_texts = [json.dumps(label) for label in labels]
        self.score_table = score_table
        self.entry_texts = {}
        if score_table is not None:
            self.entry_starts = [f'{{"label": {text}, "score": ' for text in self.label_texts]
            self.score_texts = [json_number(round(score, 6)) + "}" for score in score_table.tolist()]

    def entry(self, index, score):
        return f'{{"label": {self.label_texts[index]}, "score": {json_number(round(score, 6))}}}'

    def text(self, frames, seconds, raw, scores, order):
        """The JSON lines of a batch: frames, their invoke seconds, raw outputs (N, classes), their scores
        and each row's top-k class indices, best first."""
        if self.score_table is None:
            top_scores = np.take_along_axis(scores, order, axis=1).tolist()
            tops = [
                ", ".join([self.entry(index, score) for index, score in zip(indices, row)])
                for indices, row in zip(order.tolist(), top_scores)
            ]
        else:
            rows = np.arange(len(order))[:, None]  # plain indexing: a fraction of take_along_axis's overhead
            keys = (order * 256 + raw.view(np.uint8)[rows, order]).tolist()
            texts = self.entry_texts
            for key in {key for row in keys for key in row}.difference(texts):
                texts[key] = self.entry_starts[key // 256] + self.score_texts[key % 256]
            lookup = texts.__getitem__
            tops = [", ".join(map(lookup, row)) for row in keys]
        return "".join(
            [
                f'{{"frame": {frame.number}, "time": {frame.captured_at!r}, "top": [{top}], '
                f'"latency_ms": {round(seconds * 1000, 3)!r}'
                + ("}\n" if frame.path is None else f', "path": {json.dumps(str(frame.path))}}}\n')
                for frame, seconds, top in zip(frames, seconds, tops)
            ]
        )


class Reporter:
    """Runs `handle(batch)` on batches of results, in order, outside the main thread, which only invokes.

    With `thread=True` (live sources) the reporter has a thread of its own, whose Python work runs while the
    main thread is inside the model's invoke (which releases the GIL); its queue is bounded, so a slow
    consumer of the output slows the loop instead of filling memory. With `thread=False` (files) whoever
    calls `drain` handles the batches: the file reader's capture thread, between chunks. Two threads for
    two jobs (decode, report) fight over the GIL and the second core with the invoking thread; one thread
    doing both raised lenet5's end-to-end rate by a few percent. There the queue needs no bound: the capture
    thread reports after each chunk it hands over, so results wait for at most the chunks in flight.

    The first error (a closed pipe, a full disk) is raised in the main thread at the next `submit` or at
    `close`; `close` also handles what is still queued.
    """

    def __init__(self, handle, queued_batches=8, thread=True):
        self.handle = handle
        self.error = None
        self.handling = threading.Lock()  # one drainer at a time keeps batches in order
        if thread:
            self.queue = queue.Queue(maxsize=queued_batches)
            self.thread = threading.Thread(target=self._run, name="classify output", daemon=True)
            self.thread.start()
        else:
            self.queue = queue.SimpleQueue()
            self.thread = None

    def submit(self, batch):
        if self.error is not None:
            raise self.error
        self.queue.put(batch)

    def _handle(self, batch):
        if self.error is None:  # after an error, keep draining so `submit` never blocks
            try:
                self.handle(batch)
            except BaseException as error:  # noqa: BLE001 - raised in the main thread
                self.error = error

    def _run(self):
        while True:
            batch = self.queue.get()
            if batch is None:
                return
            with self.handling:
                self._handle(batch)

    def drain(self):
        """Handle every batch queued so far, in the calling thread (for `thread=False`)."""
        with self.handling:
            while True:
                try:
                    batch = self.queue.get_nowait()
                except queue.Empty:
                    return
                self._handle(batch)

    def close(self, raise_error=True):
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
        else:
            self.drain()
        if raise_error and self.error is not None:
            raise self.error
