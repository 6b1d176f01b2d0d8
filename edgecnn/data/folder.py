"""A folder of class sub-folders of images (JPEG, PNG, BMP, GIF, WebP), one class per sub-folder."""

import pathlib
import warnings

import numpy as np

from edgecnn.data.dataset import Dataset, split_indices
from edgecnn.errors import DatasetError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"}
TEST_FRACTION = 0.2


def read_image(path):
    """Decode an image file to uint8 RGB (H, W, 3) or grayscale (H, W, 1); None if it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image = image.convert("L" if image.mode in ("L", "1", "I;16", "I") else "RGB")
            pixels = np.asarray(image)
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    return pixels[..., None] if pixels.ndim == 2 else pixels


def load_folder(path, preprocessing, split):
    """Read every image under path/<class>/; the split is a deterministic 80/20 division per folder."""
    root = pathlib.Path(path)
    if not root.is_dir():
        raise DatasetError(f"dataset folder does not exist: {root}")
    class_folders = sorted(child for child in root.iterdir() if child.is_dir() and not child.name.startswith("."))
    if not class_folders:
        raise DatasetError(f"dataset folder {root} has no class sub-folders (expected {root}/<class>/<image>)")
    images, labels, unreadable = [], [], 0
    for label, class_folder in enumerate(class_folders):
        for file in sorted(class_folder.rglob("*")):
            if file.suffix.lower() not in IMAGE_SUFFIXES or not file.is_file():
                continue
            pixels = read_image(file)
            if pixels is None:
                unreadable += 1
                continue
            images.append(pixels)
            labels.append(label)
    if unreadable:
        warnings.warn(f"skipped {unreadable} unreadable image file(s) under {root}", stacklevel=2)
    if not images:
        raise DatasetError(f"dataset folder {root} has no readable images in its class sub-folders")
    if preprocessing is not None:
        stacked = preprocessing.prepare_pixels(images)
    elif len({image.shape for image in images}) == 1:
        stacked = np.stack(images)
    else:
        raise DatasetError(f"images under {root} differ in size: give the model's input size (--input-size HxW)")
    labels = np.asarray(labels, np.int64)
    if split != "all":
        train, test = split_indices(len(labels), max(1, int(round(len(labels) * TEST_FRACTION))), seed=0)
        chosen = train if split == "train" else test
        if split == "train" and len(labels) < 5:
            chosen = np.arange(len(labels))
        stacked, labels = stacked[chosen], labels[chosen]
    return Dataset(root.name, stacked, labels, [folder.name for folder in class_folders])
