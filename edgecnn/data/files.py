"""A dataset of image files, decoded only when its pixels are asked for, in parallel, through the cache.

Decoding runs in a thread pool (Pillow releases the GIL while it decodes and resizes; twice as many threads as
cores keep the cores busy while others run the Python in between) with at most IN_FLIGHT_PER_WORKER files per
thread queued. Only a running decode holds a full-resolution image, so there are never more than the threads
of those, and memory does not grow with the folder. Results come back in order. A file that cannot be decoded is
skipped; each read that met such files says so in one warning, and the dataset leaves them out afterwards.
"""

import collections
import concurrent.futures
import os
import threading
import warnings

import numpy as np

from edgecnn import progress as progress_bar
from edgecnn.data import decode
from edgecnn.data.dataset import DEFAULT_BATCH_SIZE, Batch, Dataset
from edgecnn.errors import DatasetError

IN_FLIGHT_PER_WORKER = 2
THREADS_PER_CORE = 2
MAX_WORKERS = 8
# Reads of more images than this draw a progress bar (on a terminal).
PROGRESS_MINIMUM = 300
HEADER_SAMPLE = 48


def worker_count():
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        available = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, THREADS_PER_CORE * available))


class FileReader:
    """Decodes files for one preprocessing (or at their own size), through a cache; remembers unreadable files.

    Shared by every view of one opened folder, so a file found unreadable once is skipped by all of them.
    """

    def __init__(self, preprocessing=None, cache=None, workers=None):
        self.preprocessing = preprocessing
        self.cache = cache  # used only at a preprocessing's size: entries are keyed by it
        self.workers = workers or worker_count()
        self.unreadable = {}  # path -> reason
        self.reported = set()
        self.entries = {}  # path -> its cache entry, once read: later reads skip the stat and the key
        self.lock = threading.Lock()

    def read_one(self, path):
        """(H, W, C) uint8 pixels of `path`, or None when it cannot be decoded (the reason is kept)."""
        if path in self.unreadable:
            return None
        try:
            return self._read(path)
        except decode.UnreadableImage as error:
            with self.lock:
                self.unreadable[path] = str(error)
            return None

    def _read(self, path):
        if self.preprocessing is None:
            return decode.read_native(path)
        key = None
        if self.cache is not None and self.preprocessing is not None:
            try:
                key = self.cache.key(path, os.stat(path), self.preprocessing)
            except OSError as error:  # gone, unreadable, or a symlink loop
                raise decode.UnreadableImage(error.strerror or str(error)) from None
            pixels = self.cache.load(key, self.preprocessing.input_shape)
            if pixels is not None:
                self.entries[path] = self.cache.pixels_path(key)
                return pixels
            reason = self.cache.load_unreadable(key)
            if reason is not None:
                raise decode.UnreadableImage(reason)
        try:
            pixels = decode.read_image(path, self.preprocessing)
        except decode.UnreadableImage as error:
            if key is not None:
                self.cache.store_unreadable(key, str(error))
            raise
        if key is not None:
            self.cache.store(key, pixels)
            self.entries[path] = self.cache.pixels_path(key)
        return pixels

    def read_again(self, path):
        """Pixels of a file read before: straight from its cache entry when it has one (training's epochs)."""
        entry = self.entries.get(path)
        if entry is not None:
            shape = self.preprocessing.input_shape
            try:
                data = np.fromfile(entry, np.uint8)
                if data.size == shape[0] * shape[1] * shape[2]:
                    return data.reshape(shape)
            except OSError:
                pass
        return self.read_one(path)

    def read_many(self, paths, limit=None, progress=None):
        """Yield (position, pixels) for the readable files among `paths`, in order, at most `limit` of them."""
        wanted = len(paths) if limit is None else min(limit, len(paths))
        if wanted <= 0:
            return
        found = 0
        pending = collections.deque()
        next_position = 0
        executor = concurrent.futures.ThreadPoolExecutor(self.workers, thread_name_prefix="edgecnn-decode")
        try:
            while found < wanted:
                while next_position < len(paths) and len(pending) < self.workers * IN_FLIGHT_PER_WORKER:
                    pending.append((next_position, executor.submit(self.read_one, paths[next_position])))
                    next_position += 1
                if not pending:
                    return
                position, future = pending.popleft()
                pixels = future.result()
                if progress is not None:
                    progress.advance()
                if pixels is not None:
                    found += 1
                    yield position, pixels
        finally:
            for _, future in pending:
                future.cancel()
            executor.shutdown(wait=False, cancel_futures=True)

    def report(self, paths, where):
        """One warning for files of `paths` found unreadable since the last report."""
        with self.lock:
            bad = [path for path in paths if path in self.unreadable]
            new = [path for path in bad if path not in self.reported]
            self.reported.update(new)
        if new:
            example = new[0]
            warnings.warn(
                f"skipped {len(bad)} unreadable image file{'s' if len(bad) != 1 else ''} under {where} "
                f"(for example {example}: {self.unreadable[example]})",
                stacklevel=3,
            )


class FileDataset(Dataset):
    """A view of a folder's image files: positions into the opened split, optionally capped at `limit` images."""

    def __init__(self, name, source, paths, labels, class_names, split, reader, limit=None):
        self.name = name
        self.source = source
        self._paths = list(paths)
        self._labels = np.asarray(labels, np.int64)
        self.class_names = list(class_names)
        self.split = split
        self.reader = reader
        self.limit = limit

    @property
    def preprocessing(self):
        return self.reader.preprocessing

    def _view(self, positions, limit=None, reader=None):
        positions = np.asarray(positions, np.int64)
        return FileDataset(self.name, self.source, [self._paths[index] for index in positions],
                           self._labels[positions], self.class_names, self.split, reader or self.reader, limit)

    def _known_readable(self):
        unreadable = self.reader.unreadable
        return [index for index, path in enumerate(self._paths) if path not in unreadable]

    @property
    def paths(self):
        kept = [self._paths[index] for index in self._known_readable()]
        return kept if self.limit is None else kept[: self.limit]

    @property
    def labels(self):
        kept = self._labels[self._known_readable()]
        return kept if self.limit is None else kept[: self.limit]

    def __len__(self):
        count = len(self._known_readable())
        return count if self.limit is None else min(count, self.limit)

    @property
    def channels(self):
        """3 if any of a spread sample of the files is in colour, else 1 (headers only, no pixels decoded)."""
        step = max(1, len(self._paths) // HEADER_SAMPLE)
        counts = [decode.header_channels(path) for path in self._paths[::step][:HEADER_SAMPLE]]
        return 3 if any(count == 3 for count in counts) or not any(counts) else 1

    def batches(self, batch_size=DEFAULT_BATCH_SIZE, progress=True):
        if self.reader.preprocessing is None:
            yield from self._native_batches(batch_size)
            return
        wanted = len(self._paths) if self.limit is None else min(self.limit, len(self._paths))
        description = f"decoding {self.source}" + (f" ({self.split})" if self.split else "")
        bar = progress_bar.Progress(wanted, description, enabled=None if progress else False,
                                    minimum_total=PROGRESS_MINIMUM)
        pixels, labels = [], []
        found = 0
        try:
            for position, image in self.reader.read_many(self._paths, self.limit, bar):
                pixels.append(image)
                labels.append(self._labels[position])
                found += 1
                if len(pixels) == batch_size:
                    yield self._batch(pixels, labels, found)
                    pixels, labels = [], []
            if pixels:
                yield self._batch(pixels, labels, found)
        finally:
            bar.close()
        if not found and wanted:
            raise self._nothing_readable()
        self.reader.report(self._paths, self.source)

    def _nothing_readable(self):
        bad = [path for path in self._paths if path in self.reader.unreadable]
        example = f"; for example {bad[0]}: {self.reader.unreadable[bad[0]]}" if bad else ""
        return DatasetError(
            f"dataset folder {self.source} has no readable images in its class sub-folders "
            f"({len(bad)} file{'s' if len(bad) != 1 else ''} could not be decoded{example})"
        )

    @staticmethod
    def _batch(pixels, labels, found):
        """A Batch whose positions count readable images, as len(), labels and subset() do: files are read in
        order and the unreadable ones skipped, so the images yielded so far are exactly those before it."""
        return Batch(np.stack(pixels), np.asarray(labels, np.int64), np.arange(found - len(pixels), found))

    def _native_batches(self, batch_size):
        """At their own size (no preprocessing): only when every image has the same size."""
        found = list(self.reader.read_many(self._paths, self.limit))
        if not found:
            raise self._nothing_readable()
        self.reader.report(self._paths, self.source)
        if len({image.shape for _, image in found}) > 1:
            raise DatasetError(
                f"images under {self.source} differ in size: give the model's input size (--input-size HxW)"
            )
        for start in range(0, len(found), batch_size):
            chunk = found[start : start + batch_size]
            yield self._batch([image for _, image in chunk], [self._labels[p] for p, _ in chunk],
                              start + len(chunk))

    def _readable_positions(self):
        kept = self._known_readable()
        return kept if self.limit is None else kept[: self.limit]

    def take(self, count, seed=0):
        kept = self._known_readable()
        order = np.asarray(kept, np.int64)[np.random.default_rng(seed).permutation(len(kept))]
        return self._view(order, limit=count)

    def head(self, count):
        return self._view(self._known_readable(), limit=count)

    def subset(self, positions):
        kept = np.asarray(self._readable_positions(), np.int64)
        return self._view(kept[np.asarray(positions, np.int64)])

    def with_preprocessing(self, preprocessing):
        if preprocessing == self.reader.preprocessing:
            return self
        reader = FileReader(preprocessing, self.reader.cache, self.reader.workers)
        reader.unreadable = self.reader.unreadable  # a file unreadable at one size is unreadable at any
        reader.reported = self.reader.reported
        return self._view(np.arange(len(self._paths)), self.limit, reader)

    def prepare(self, progress=True):
        """Decode every file into the cache now (for training, which reads each epoch); the readable view."""
        for _ in self.batches(progress=progress):
            pass
        return self._view(self._readable_positions())

    def gather(self, positions):
        shape = self.reader.preprocessing.input_shape
        out = np.zeros((len(positions), *shape), np.uint8)
        for row, position in enumerate(positions):
            pixels = self.reader.read_again(self._paths[position])
            if pixels is not None:  # gone since `prepare`: a blank image rather than a crashed epoch
                out[row] = pixels
        return out
