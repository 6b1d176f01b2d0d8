"""Reader for the IDX format of MNIST and Fashion-MNIST (optionally gzip-compressed)."""

import gzip
import pathlib

import numpy as np

from edgecnn.errors import DatasetError

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049


def read_idx(path, expected_magic):
    """Read an IDX file of unsigned bytes into an array of the shape its header gives."""
    path = pathlib.Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as error:
        raise DatasetError(f"cannot read IDX file {path}: {error}") from error
    if len(data) < 8:
        raise DatasetError(f"{path} is too short to be an IDX file")
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        raise DatasetError(f"{path}: IDX magic number is {magic}, expected {expected_magic}")
    dimensions = data[3]
    header_size = 4 + 4 * dimensions
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dimensions))
    expected_size = header_size + int(np.prod(shape))
    if len(data) != expected_size:
        raise DatasetError(f"{path} holds {len(data)} bytes, its header promises {expected_size}")
    return np.frombuffer(data, np.uint8, offset=header_size).reshape(shape)
