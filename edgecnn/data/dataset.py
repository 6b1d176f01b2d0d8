"""The Dataset every stage consumes: uint8 images, integer labels and class names."""

import dataclasses

import numpy as np


@dataclasses.dataclass
class Dataset:
    """Images as uint8 (N, H, W, C) in RGB or grayscale, with labels indexing `class_names`."""

    name: str
    images: np.ndarray
    labels: np.ndarray
    class_names: list

    def __len__(self):
        return len(self.labels)

    @property
    def num_classes(self):
        return len(self.class_names)

    def inputs(self, preprocessing):
        """Float32 model inputs, preprocessed exactly as at every other stage."""
        return preprocessing.apply(self.images)

    def take(self, count, seed=0):
        """A deterministic random subset of at most `count` samples (all of them, shuffled, if fewer)."""
        order = np.random.default_rng(seed).permutation(len(self))[:count]
        return Dataset(self.name, self.images[order], self.labels[order], self.class_names)

    def subset(self, indices):
        indices = np.asarray(indices)
        return Dataset(self.name, self.images[indices], self.labels[indices], self.class_names)


def split_indices(count, test_count, seed=0):
    """A deterministic train/test split of range(count): (train_indices, test_indices)."""
    order = np.random.default_rng(seed).permutation(count)
    return np.sort(order[test_count:]), np.sort(order[:test_count])
