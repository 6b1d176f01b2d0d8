"""Datasets and the preprocessing shared by training, calibration, evaluation and the camera.

`open_dataset(spec, split=None, preprocessing=None, cache=None)` is the one way every stage reads a dataset.
"""

from edgecnn.data.dataset import ArrayDataset, Batch, Dataset
from edgecnn.data.preprocessing import Preprocessing
from edgecnn.data.registry import SPLITS, list_datasets, load_dataset, open_dataset

__all__ = ["SPLITS", "ArrayDataset", "Batch", "Dataset", "Preprocessing", "list_datasets", "load_dataset",
           "open_dataset"]
