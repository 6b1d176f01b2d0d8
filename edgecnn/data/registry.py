"""Dataset specs: the table of named datasets, plus folders of class sub-folders given by path."""

import dataclasses
import pathlib

from edgecnn.data import builtin, keras_sets
from edgecnn.errors import DatasetError
from edgecnn.registry import Registry

SPLITS = ("train", "test", "all")


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A named dataset: `load(split) -> Dataset`."""

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


def load_dataset(spec, preprocessing=None, split="test"):
    """Load a dataset by name or folder path.

    With `preprocessing`, images come back at the model's size and channel count; without it, at their own
    (a folder of differently sized images then needs a preprocessing).
    """
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    spec = str(spec)
    if spec in DATASETS:
        dataset = DATASETS.get(spec).load(split)
    elif _looks_like_path(spec):
        from edgecnn.data import folder

        return folder.load_folder(spec, preprocessing, split)
    else:
        raise DatasetError(
            f"unknown dataset {spec!r}; use one of {', '.join(DATASETS.names())} or a folder of class sub-folders"
        )
    if preprocessing is not None:
        dataset.images = preprocessing.prepare_pixels(dataset.images)
    return dataset


def _looks_like_path(spec):
    return pathlib.Path(spec).exists() or any(mark in spec for mark in ("/", "\\", "."))
