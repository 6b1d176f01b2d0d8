"""Load CNN Explainer's trained Tiny VGG (TF.js layers format) into the zoo's tiny_vgg.

The TF.js export is a model.json (Keras topology plus a weights manifest) and binary shards holding the
weights back to back in manifest order. Checking every manifest entry against the zoo model's own weights
proves that tiny_vgg is the same network, not just one with the same parameter count.
"""

import json
import pathlib

import numpy as np

from edgecnn.errors import ModelFileError
from edgecnn.zoo.registry import create_model

# Output order of the trained model, from CNN Explainer's README.
CNN_EXPLAINER_CLASS_NAMES = (
    "lifeboat", "ladybug", "pizza", "bell pepper", "school bus",
    "koala", "espresso", "red panda", "orange", "sport car",
)

_DTYPES = {"float32": np.float32}


def read_tfjs_weights(directory):
    """{weight name: array} from a TF.js layers model directory (model.json plus its shard files)."""
    directory = pathlib.Path(directory)
    model_path = directory / "model.json"
    try:
        description = json.loads(model_path.read_text(encoding="utf-8"))
        groups = description["weightsManifest"]
    except FileNotFoundError:
        raise ModelFileError(f"no TF.js model.json in {directory}") from None
    except (ValueError, KeyError, TypeError) as error:
        raise ModelFileError(f"{model_path} is not a TF.js layers model: {error}") from error
    weights = {}
    for group in groups:
        data = b"".join(_read_shard(directory / shard) for shard in group["paths"])
        offset = 0
        for entry in group["weights"]:
            dtype = _DTYPES.get(entry.get("dtype", "float32"))
            if dtype is None or "quantization" in entry:
                raise ModelFileError(f"{model_path}: weight {entry['name']!r} is not plain float32")
            shape = tuple(entry["shape"])
            size = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
            if offset + size > len(data):
                raise ModelFileError(
                    f"{model_path}: shards end at byte {len(data)}, weight {entry['name']!r} needs "
                    f"bytes {offset}..{offset + size}"
                )
            count = size // np.dtype(dtype).itemsize
            weights[entry["name"]] = np.frombuffer(data, dtype, count, offset).reshape(shape)
            offset += size
        if offset != len(data):
            raise ModelFileError(f"{model_path}: shards hold {len(data) - offset} bytes beyond the manifest")
    return weights


def load_cnn_explainer_tinyvgg(directory):
    """The zoo's tiny_vgg (64x64x3 in, 10 classes) with CNN Explainer's trained weights from `directory`."""
    weights = read_tfjs_weights(directory)
    model = create_model("tiny_vgg", input_shape=(64, 64, 3), num_classes=len(CNN_EXPLAINER_CLASS_NAMES))
    expected = {
        f"{layer.name}/{variable.name}": variable for layer in model.layers for variable in layer.weights
    }
    if set(weights) != set(expected):
        raise ModelFileError(
            f"{directory}: weights {sorted(weights)} do not match tiny_vgg's {sorted(expected)}"
        )
    for name, variable in expected.items():
        if tuple(variable.shape) != weights[name].shape:
            raise ModelFileError(
                f"{directory}: weight {name!r} has shape {weights[name].shape}, "
                f"tiny_vgg needs {tuple(variable.shape)}"
            )
        variable.assign(weights[name])
    return model


def _read_shard(path):
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"missing weight shard {path}") from None
