"""Datasets that need no download: the bundled MNIST digits and the synthetic shapes."""

import functools
import importlib.resources

import numpy as np

from edgecnn.data import idx
from edgecnn.data.dataset import ArrayDataset, split_indices

MNIST_SAMPLE_TEST_COUNT = 2000
DIGITS = [str(digit) for digit in range(10)]
SHAPE_NAMES = ["circle", "square", "triangle"]


@functools.lru_cache(maxsize=1)
def _mnist_sample_arrays():
    folder = importlib.resources.files("edgecnn.data") / "mnist_sample"
    with importlib.resources.as_file(folder) as path:
        images = idx.read_idx(path / "t10k-images-idx3-ubyte.gz", idx.IMAGE_MAGIC)
        labels = idx.read_idx(path / "t10k-labels-idx1-ubyte.gz", idx.LABEL_MAGIC)
    return images[..., None], labels.astype(np.int64)


def load_mnist_sample(split):
    images, labels = _mnist_sample_arrays()
    train, test = split_indices(len(labels), MNIST_SAMPLE_TEST_COUNT, seed=0)
    chosen = {"train": train, "test": test, "all": np.arange(len(labels))}[split]
    return ArrayDataset("mnist-sample", images[chosen], labels[chosen], list(DIGITS))


def load_shapes(split):
    train_count, test_count = 3000, 600
    if split == "train":
        return make_shapes(train_count, seed=1)
    if split == "test":
        return make_shapes(test_count, seed=2)
    train, test = make_shapes(train_count, seed=1), make_shapes(test_count, seed=2)
    return ArrayDataset("shapes", np.concatenate([train.images, test.images]),
                   np.concatenate([train.labels, test.labels]), list(SHAPE_NAMES))


def make_shapes(count, seed, size=64):
    """`count` RGB images of one filled shape each, random colour, size and place, on a noisy background."""
    rng = np.random.default_rng(seed)
    rows, columns = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    images = np.empty((count, size, size, 3), np.uint8)
    labels = rng.integers(0, len(SHAPE_NAMES), count)
    for index, label in enumerate(labels):
        background = rng.integers(0, 256, 3)
        image = np.clip(background + rng.normal(0, 25, (size, size, 3)), 0, 255)
        colour = (background + rng.integers(80, 176, 3)) % 256
        radius = rng.uniform(0.18, 0.32) * size
        center_row, center_column = rng.uniform(radius + 1, size - radius - 1, 2)
        mask = _shape_mask(label, rows - center_row, columns - center_column, radius)
        image[mask] = colour
        images[index] = image.astype(np.uint8)
    return ArrayDataset("shapes", images, labels.astype(np.int64), list(SHAPE_NAMES))


def _shape_mask(label, dy, dx, radius):
    if SHAPE_NAMES[label] == "circle":
        return dy ** 2 + dx ** 2 <= radius ** 2
    if SHAPE_NAMES[label] == "square":
        half = radius * 0.85
        return (np.abs(dy) <= half) & (np.abs(dx) <= half)
    # An upright triangle: below the two slanted edges, above the base.
    base = radius * 0.8
    return (dy <= base) & (dy >= -radius + 1.7 * np.abs(dx))
