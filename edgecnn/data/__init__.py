"""Datasets and the preprocessing shared by training, calibration, evaluation and the camera."""

from edgecnn.data.dataset import Dataset
from edgecnn.data.preprocessing import Preprocessing
from edgecnn.data.registry import list_datasets, load_dataset

__all__ = ["Dataset", "Preprocessing", "list_datasets", "load_dataset"]
