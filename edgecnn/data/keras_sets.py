"""The full MNIST, Fashion-MNIST and CIFAR-10 sets, read from the Keras cache (downloaded there when online)."""

import os
import pathlib
import pickle

import numpy as np

from edgecnn.data import idx
from edgecnn.data.dataset import ArrayDataset
from edgecnn.errors import DatasetError

FASHION_CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
                   "ankle-boot"]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def keras_cache_directory():
    """Where keras.datasets keeps its downloads: $KERAS_HOME/datasets or ~/.keras/datasets."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return pathlib.Path(home) / "datasets"


def _ensure_cached(name, expected_path, downloader):
    """Return `expected_path`, downloading through keras.datasets first if it is not cached."""
    if expected_path.exists():
        return expected_path
    try:
        import keras

        getattr(keras.datasets, downloader).load_data()
    except ImportError as error:
        raise DatasetError(
            f"{name} is not in the Keras cache ({expected_path}) and keras is not installed to fetch it: "
            f'pip install "edgecnn[train]", or copy the file there'
        ) from error
    except Exception as error:  # keras raises assorted errors when offline
        raise DatasetError(
            f"{name} could not be downloaded ({type(error).__name__}); put the file at {expected_path} "
            f"(the path keras.datasets.{downloader} uses), or use the bundled 'mnist-sample'"
        ) from error
    if not expected_path.exists():
        raise DatasetError(f"{name}: keras.datasets.{downloader} did not leave {expected_path}")
    return expected_path


def _pick(split, train, test):
    if split == "train":
        return train
    if split == "test":
        return test
    return tuple(np.concatenate(pair) for pair in zip(train, test))


def load_mnist(split):
    path = _ensure_cached("mnist", keras_cache_directory() / "mnist.npz", "mnist")
    try:
        with np.load(path) as arrays:
            train = (arrays["x_train"], arrays["y_train"])
            test = (arrays["x_test"], arrays["y_test"])
    except (OSError, KeyError, ValueError) as error:
        raise DatasetError(f"cannot read {path}: {error}") from error
    images, labels = _pick(split, train, test)
    return ArrayDataset("mnist", images[..., None], labels.astype(np.int64), [str(digit) for digit in range(10)])


def load_fashion_mnist(split):
    folder = keras_cache_directory() / "fashion-mnist"
    _ensure_cached("fashion-mnist", folder / "t10k-labels-idx1-ubyte.gz", "fashion_mnist")

    def read(prefix):
        images = idx.read_idx(folder / f"{prefix}-images-idx3-ubyte.gz", idx.IMAGE_MAGIC)
        labels = idx.read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", idx.LABEL_MAGIC)
        return images, labels

    images, labels = _pick(split, read("train"), read("t10k"))
    return ArrayDataset("fashion-mnist", images[..., None], labels.astype(np.int64), list(FASHION_CLASSES))


def _cifar10_folder():
    base = keras_cache_directory()
    for candidate in (base / "cifar-10-batches-py", base / "cifar-10-batches-py_extracted" / "cifar-10-batches-py"):
        if (candidate / "test_batch").exists():
            return candidate
    return _ensure_cached("cifar10", base / "cifar-10-batches-py" / "test_batch", "cifar10").parent


def load_cifar10(split):
    folder = _cifar10_folder()

    def read(names):
        images, labels = [], []
        for name in names:
            try:
                with open(folder / name, "rb") as handle:
                    batch = pickle.load(handle, encoding="bytes")
            except (OSError, pickle.UnpicklingError, EOFError) as error:
                raise DatasetError(f"cannot read CIFAR-10 batch {folder / name}: {error}") from error
            images.append(np.asarray(batch[b"data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
            labels.append(np.asarray(batch[b"labels"], np.int64))
        return np.concatenate(images), np.concatenate(labels)

    train_names = [f"data_batch_{number}" for number in range(1, 6)]
    if split == "test":
        images, labels = read(["test_batch"])
    elif split == "train":
        images, labels = read(train_names)
    else:
        images, labels = read(train_names + ["test_batch"])
    return ArrayDataset("cifar10", images, labels, list(CIFAR10_CLASSES))
