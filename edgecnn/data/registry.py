"""Dataset specs: the table of named datasets, plus folders of images given by path, opened through one function.

`open_dataset` is what every stage calls (train, quantize, report, verify, bench, emulate): it lists a folder's
files without decoding them, or loads a small named set into memory, and returns a Dataset whose pixels come
at the model's size when given the model's preprocessing.
"""

import dataclasses
import pathlib

from edgecnn.data import builtin, keras_sets
from edgecnn.data.dataset import ArrayDataset, Dataset
from edgecnn.errors import DatasetError
from edgecnn.registry import Registry

SPLITS = ("train", "test", "all")


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A named dataset: `load(split) -> ArrayDataset`."""

    name: str
    description: str
    load: object = dataclasses.field(repr=False)


DATASETS = Registry(
    "dataset",
    [
        DatasetSpec("mnist-sample", "the real MNIST test set bundled with edgecnn: 8,000 train / 2,000 test digits",
                    builtin.load_mnist_sample),
        DatasetSpec("shapes", "seeded synthetic 64x64 RGB circles, squares and triangles on noise: 3,000 / 600",
                    builtin.load_shapes),
        DatasetSpec("mnist", "the full MNIST set (60,000 / 10,000), from the Keras cache or keras.datasets",
                    keras_sets.load_mnist),
        DatasetSpec("fashion-mnist", "Fashion-MNIST (60,000 / 10,000), from the Keras cache or keras.datasets",
                    keras_sets.load_fashion_mnist),
        DatasetSpec("cifar10", "CIFAR-10 (50,000 / 10,000 32x32 RGB), from the Keras cache or keras.datasets",
                    keras_sets.load_cifar10),
    ],
    error=DatasetError,
)


def list_datasets():
    """Named datasets with their descriptions (folders are given by path instead)."""
    return {spec.name: spec.description for spec in sorted(DATASETS, key=lambda spec: spec.name)}


def open_dataset(spec, split=None, preprocessing=None, cache=None):
    """The dataset `spec` names: a registered name, or a folder of class sub-folders (or of train/ and test/).

    split: "train", "test" or "all"; None is what evaluating means: the test split of a named set or of a folder
    with train/ and test/ (or val/) folders, every image of a plain folder of class sub-folders.
    preprocessing: images come at its size and channel count (files are decoded for it); None keeps their own.
    cache: for folders, where decoded images are kept: None for the default (data.cache.default_directory()),
    False for nowhere, or a directory.
    Nothing is decoded here: a folder's files are listed, and read when the dataset's pixels are asked for.
    """
    if split is not None and split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    if isinstance(spec, Dataset):
        return spec.with_preprocessing(preprocessing)  # a Dataset already
    spec = str(spec)
    if spec in DATASETS:
        dataset = DATASETS.get(spec).load(split or "test")
        dataset.split = split or "test"
        return dataset.with_preprocessing(preprocessing)
    if _looks_like_path(spec):
        return _open_folder(spec, split, preprocessing, cache)
    raise DatasetError(
        f"unknown dataset {spec!r}; use one of {', '.join(DATASETS.names())} or a folder of class sub-folders"
    )


def _open_folder(spec, split, preprocessing, cache):
    from edgecnn.data import cache as image_cache
    from edgecnn.data import files, folder

    listing = folder.list_folder(spec)
    split = split or listing.default_split()
    chosen = listing.splits[split]
    reader = files.FileReader(preprocessing, image_cache.open_cache(cache))
    return files.FileDataset(listing.root.name, spec, chosen.paths, chosen.labels, listing.class_names, split,
                             reader)


def load_dataset(spec, preprocessing=None, split="test", cache=None):
    """The dataset with every image decoded into memory (`open_dataset` reads lazily; prefer it for folders)."""
    dataset = open_dataset(spec, split=split, preprocessing=preprocessing, cache=cache)
    if isinstance(dataset, ArrayDataset):
        return dataset
    batch = dataset.read()
    return ArrayDataset(dataset.name, batch.pixels, batch.labels, dataset.class_names, dataset.split,
                        preprocessing, source=dataset.source)


def _looks_like_path(spec):
    return pathlib.Path(spec).exists() or any(mark in spec for mark in ("/", "\\", "."))
