"""Folders of images: which layout a folder has, and the list of its image files per split, without decoding.

Two layouts:
- class sub-folders, `root/<class>/**/<image>`: one class per sub-folder. Its "test" split is a fixed 20% of each
  class, chosen by a hash of each file's path, so adding photos later never moves an old photo between splits;
  "train" is the rest and "all" is everything (the default for evaluating).
- split folders, as Ultralytics' classify datasets and ImageNet ship: `root/train/<class>/...` with
  `root/test/<class>/...` (or val/, valid/, validation/): "train" and "test" are those folders.

Sub-folders are walked recursively, following symbolic links but never the same directory twice (a link loop
is walked once); hidden files and folders (".name") are skipped.
"""

import dataclasses
import hashlib
import os
import pathlib

import numpy as np

from edgecnn.errors import DatasetError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"})
TEST_FRACTION = 0.2
TEST_FOLDER_NAMES = ("test", "val", "valid", "validation")
# Below this many images a plain folder's "train" split is all of it: nothing is left to learn from otherwise.
SMALLEST_SPLIT_FOLDER = 5


@dataclasses.dataclass
class SplitFiles:
    paths: list  # absolute paths, as strings
    labels: np.ndarray


@dataclasses.dataclass
class FolderListing:
    """The image files of a dataset folder, per split, with its class names."""

    root: pathlib.Path
    layout: str  # "classes" or "splits"
    class_names: list
    splits: dict  # "train" / "test" / "all" -> SplitFiles
    unlistable: list  # folders that could not be read

    def default_split(self):
        """What evaluating a folder means: its test folder in the split layout, every image otherwise."""
        return "test" if self.layout == "splits" else "all"


def is_image_file(name):
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES


def walk_images(folder, unlistable=None):
    """Sorted paths of the image files under `folder`, following symbolic links without looping."""
    found = []
    visited = set()

    def note_error(error):
        if unlistable is not None:
            unlistable.append(f"{error.filename}: {error.strerror}")

    for directory, subdirectories, files in os.walk(folder, followlinks=True, onerror=note_error):
        try:
            status = os.stat(directory)
        except OSError as error:
            note_error(error)
            subdirectories[:] = []
            continue
        identity = (status.st_dev, status.st_ino)
        if identity in visited:  # reached again through a link: a loop, or a second link to the same folder
            subdirectories[:] = []
            continue
        visited.add(identity)
        subdirectories[:] = sorted(name for name in subdirectories if not name.startswith("."))
        found.extend(os.path.join(directory, name) for name in files if is_image_file(name))
    return sorted(found)


def _class_folders(folder):
    try:
        children = sorted(folder.iterdir())
    except OSError as error:
        raise DatasetError(f"cannot list dataset folder {folder}: {error.strerror}") from error
    return [child for child in children if not child.name.startswith(".") and child.is_dir()]


def _test_folder(root):
    for name in TEST_FOLDER_NAMES:
        if (root / name).is_dir():
            return root / name
    return None


def _is_split_layout(root):
    train = root / "train"
    return train.is_dir() and _test_folder(root) is not None and bool(_class_folders(train))


def list_folder(path):
    """List a dataset folder: its layout, class names and the files of each split. Decodes nothing."""
    root = pathlib.Path(path)
    if not root.is_dir():
        raise DatasetError(f"dataset folder does not exist: {root}")
    unlistable = []
    if _is_split_layout(root):
        split_roots = {"train": root / "train", "test": _test_folder(root)}
        names = sorted({child.name for folder in split_roots.values() for child in _class_folders(folder)})
        per_split = {
            split: _files_by_class(folder, names, unlistable) for split, folder in split_roots.items()
        }
        splits = {split: _flatten(files) for split, files in per_split.items()}
        splits["all"] = _flatten({name: per_split["train"][name] + per_split["test"][name] for name in names})
        listing = FolderListing(root, "splits", names, splits, unlistable)
    else:
        class_folders = _class_folders(root)
        if not class_folders:
            loose = len([name for name in os.listdir(root) if is_image_file(name)])
            hint = f"; it holds {loose} images directly: put them in one sub-folder per class" if loose else ""
            raise DatasetError(
                f"dataset folder {root} has no class sub-folders (expected {root}/<class>/<image>){hint}"
            )
        names = [folder.name for folder in class_folders]
        by_class = _files_by_class(root, names, unlistable)
        listing = FolderListing(root, "classes", names, _plain_splits(root, by_class, names), unlistable)
    if not len(listing.splits["all"].paths):
        raise DatasetError(
            f"dataset folder {root} has no readable images in its class sub-folders "
            f"(looked for {', '.join(sorted(IMAGE_SUFFIXES))})"
        )
    return listing


def _files_by_class(folder, names, unlistable):
    files = {}
    for name in names:
        class_folder = folder / name
        files[name] = walk_images(class_folder, unlistable) if class_folder.is_dir() else []
    return files


def _flatten(files_by_class):
    paths, labels = [], []
    for label, name in enumerate(files_by_class):
        paths.extend(files_by_class[name])
        labels.extend([label] * len(files_by_class[name]))
    return SplitFiles(paths, np.asarray(labels, np.int64))


def _plain_splits(root, by_class, names):
    """train / test / all of a folder of class sub-folders: per class, the 20% of files whose path hashes lowest."""
    rank = {}
    test = {}
    for name in names:
        files = by_class[name]
        for file in files:
            relative = pathlib.Path(file).relative_to(root).as_posix()
            rank[file] = hashlib.sha256(relative.encode("utf-8", "surrogateescape")).hexdigest()
        count = int(len(files) * TEST_FRACTION + 0.5)
        test[name] = set(sorted(files, key=rank.get)[:count])
    total = sum(len(files) for files in by_class.values())
    if total >= 2 and not any(test.values()):
        lowest = min((file for files in by_class.values() for file in files), key=rank.get)
        test[next(name for name in names if lowest in by_class[name])] = {lowest}
    train = {name: [file for file in by_class[name] if file not in test[name]] for name in names}
    if total < SMALLEST_SPLIT_FOLDER:
        train = by_class
    return {
        "train": _flatten(train),
        "test": _flatten({name: [file for file in by_class[name] if file in test[name]] for name in names}),
        "all": _flatten(by_class),
    }
