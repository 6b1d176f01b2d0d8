"""Dataset specs: a registry of named datasets, plus folders of class sub-folders given by path."""

import pathlib

from edgecnn.errors import DatasetError

SPLITS = ("train", "test", "all")
_LOADERS = {}


def register_dataset(name, description):
    """Register `loader(split) -> Dataset` under `name`."""

    def decorate(loader):
        if name in _LOADERS:
            raise ValueError(f"dataset {name!r} is registered twice")
        _LOADERS[name] = (loader, description)
        return loader

    return decorate


def list_datasets():
    """Named datasets with their descriptions (folders are given by path instead)."""
    _import_builtin_loaders()
    return {name: description for name, (_, description) in sorted(_LOADERS.items())}


def load_dataset(spec, preprocessing=None, split="test"):
    """Load a dataset by name or folder path.

    With `preprocessing`, images come back at the model's size and channel count; without it, at their own
    (a folder of differently sized images then needs a preprocessing).
    """
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    _import_builtin_loaders()
    spec = str(spec)
    if spec in _LOADERS:
        dataset = _LOADERS[spec][0](split)
    elif _looks_like_path(spec):
        from edgecnn.data import folder

        return folder.load_folder(spec, preprocessing, split)
    else:
        raise DatasetError(
            f"unknown dataset {spec!r}; use one of {', '.join(sorted(_LOADERS))} or a folder of class sub-folders"
        )
    if preprocessing is not None:
        dataset.images = preprocessing.prepare_pixels(dataset.images)
    return dataset


def _looks_like_path(spec):
    return pathlib.Path(spec).exists() or any(mark in spec for mark in ("/", "\\", "."))


def _import_builtin_loaders():
    # Importing the modules registers their datasets.
    from edgecnn.data import builtin, keras_sets  # noqa: F401
