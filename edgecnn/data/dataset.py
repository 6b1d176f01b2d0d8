"""The datasets every stage reads: one interface over images in memory and image files read lazily.

A dataset has class names, labels and a length, and gives its images as uint8 (N, H, W, C) pixels in batches,
at the model's size when it was opened with the model's preprocessing. `take`, `head` and `subset` are views:
nothing is decoded until pixels are asked for, and a view of a folder decodes only its own files.
"""

import dataclasses

import numpy as np

DEFAULT_BATCH_SIZE = 64


@dataclasses.dataclass
class Batch:
    """Pixels of the readable images among a run of positions, their labels, and those positions in the view."""

    pixels: np.ndarray
    labels: np.ndarray
    positions: np.ndarray

    def __len__(self):
        return len(self.labels)


class Dataset:
    """What every dataset offers; ArrayDataset holds its pixels, data.files.FileDataset reads files."""

    name = ""
    class_names = ()
    split = None
    preprocessing = None
    source = ""  # what was opened: a dataset name or a folder path

    @property
    def num_classes(self):
        return len(self.class_names)

    @property
    def labels(self):
        raise NotImplementedError

    def __len__(self):
        return len(self.labels)

    @property
    def channels(self):
        """1 or 3: the channel count the images have before any preprocessing (to pick a model's input)."""
        raise NotImplementedError

    @property
    def paths(self):
        """The files behind the images, or None for images that are not files."""
        return None

    def batches(self, batch_size=DEFAULT_BATCH_SIZE, progress=True):
        """Yield Batch after Batch of up to `batch_size` images, in order, skipping files that cannot be read."""
        raise NotImplementedError

    def read(self, progress=True):
        """Every image of this view as one Batch."""
        parts = list(self.batches(progress=progress))
        if not parts:
            shape = self.preprocessing.input_shape if self.preprocessing else (0, 0, 1)
            return Batch(np.zeros((0, *shape), np.uint8), np.zeros(0, np.int64), np.zeros(0, np.int64))
        return Batch(
            np.concatenate([part.pixels for part in parts]),
            np.concatenate([part.labels for part in parts]),
            np.concatenate([part.positions for part in parts]),
        )

    @property
    def images(self):
        """All pixels in memory: convenient for a small dataset, use `batches` for a big one."""
        return self.read().pixels

    def inputs(self, preprocessing=None):
        """Float32 model inputs of every image, preprocessed exactly as at every other stage."""
        preprocessing = preprocessing or self.preprocessing
        return preprocessing.apply(self.images)

    def pixels_at(self, positions):
        """Pixels of the images at `positions` of this view (for thumbnails)."""
        return self.subset(positions).read(progress=False).pixels

    def gather(self, positions):
        """(N, H, W, C) pixels of the images at `positions`, read one after another: the random access training
        batches need, for a dataset whose files are all known readable (data.files.FileDataset.prepare)."""
        raise NotImplementedError

    def take(self, count, seed=0):
        """A deterministic random subset of at most `count` images (all of them, shuffled, if fewer)."""
        raise NotImplementedError

    def head(self, count):
        """The first `count` images."""
        raise NotImplementedError

    def subset(self, positions):
        raise NotImplementedError

    def with_preprocessing(self, preprocessing):
        """The same images at `preprocessing`'s size and channel count."""
        raise NotImplementedError

    def prepare(self, progress=True):
        """Ready for many passes (training's epochs): a folder decodes every file into the cache now and comes
        back without the unreadable ones; images in memory are ready already."""
        return self

    def describe(self, count=None):
        """'1,000 images of photos/ (split test)': what a command says it used."""
        count = len(self) if count is None else count
        split = f" (split {self.split})" if self.split else ""
        return f"{count:,} image{'s' if count != 1 else ''} of {self.source or self.name}{split}"


class ArrayDataset(Dataset):
    """Images already in memory as one uint8 (N, H, W, C) array: the bundled and keras.datasets sets."""

    def __init__(self, name, images, labels, class_names, split=None, preprocessing=None, source=None):
        self.name = name
        self._images = images
        self._labels = np.asarray(labels, np.int64)
        self.class_names = list(class_names)
        self.split = split
        self.preprocessing = preprocessing
        self.source = source or name

    def _view(self, images, labels, preprocessing=None):
        return ArrayDataset(self.name, images, labels, self.class_names, self.split,
                            preprocessing or self.preprocessing, self.source)

    @property
    def images(self):
        return self._images

    @images.setter
    def images(self, value):
        self._images = value

    @property
    def labels(self):
        return self._labels

    @property
    def channels(self):
        return 1 if self._images.ndim == 3 or self._images.shape[-1] == 1 else 3

    def batches(self, batch_size=DEFAULT_BATCH_SIZE, progress=True):
        for start in range(0, len(self), batch_size):
            stop = min(start + batch_size, len(self))
            yield Batch(self._images[start:stop], self._labels[start:stop], np.arange(start, stop))

    def read(self, progress=True):
        return Batch(self._images, self._labels, np.arange(len(self)))

    def pixels_at(self, positions):
        return self._images[np.asarray(positions, np.int64)]

    gather = pixels_at

    def take(self, count, seed=0):
        order = np.random.default_rng(seed).permutation(len(self))[:count]
        return self._view(self._images[order], self._labels[order])

    def head(self, count):
        return self._view(self._images[:count], self._labels[:count])

    def subset(self, positions):
        positions = np.asarray(positions, np.int64)
        return self._view(self._images[positions], self._labels[positions])

    def with_preprocessing(self, preprocessing):
        if preprocessing is None or preprocessing == self.preprocessing:
            return self
        shape = tuple(self._images.shape[1:])
        if shape == tuple(preprocessing.input_shape):
            return self._view(self._images, self._labels, preprocessing)
        return self._view(preprocessing.prepare_pixels(self._images), self._labels, preprocessing)


def split_indices(count, test_count, seed=0):
    """A deterministic train/test split of range(count): (train_indices, test_indices)."""
    order = np.random.default_rng(seed).permutation(count)
    return np.sort(order[test_count:]), np.sort(order[:test_count])
