"""The files of a trained model, and loading Keras models with the settings saved beside them.

A training run writes DIR/model.keras with DIR/preprocessing.json (labels, preprocessing, model and dataset
names: the same JSON that travels inside the .tflite) and DIR/labels.txt, so later steps find them by path.
"""

import pathlib
import zipfile

from edgecnn import extras
from edgecnn.data.preprocessing import Preprocessing
from edgecnn.errors import ModelFileError
from edgecnn.quantize.metadata import ModelMetadata

SETTINGS_FILE = "preprocessing.json"
LABELS_FILE = "labels.txt"


def load_keras_model(path):
    """Load a .keras (or .h5) model, turning every way it can fail into one clear ModelFileError."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}")
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path} is not a Keras model (a .keras file is a zip archive)")
    extras.tensorflow("loading Keras models")
    import keras

    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for corrupt or foreign files
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelFileError(f"cannot load Keras model {path}: {message[:200]}") from error


def saved_settings(model_path):
    """The metadata saved beside a model edgecnn trained, or None."""
    settings_path = pathlib.Path(model_path).with_name(SETTINGS_FILE)
    if not settings_path.is_file():
        return None
    return ModelMetadata.from_json(settings_path.read_text(encoding="utf-8"), str(settings_path))


def settings_for_model(model_path, input_shape, num_classes, scale=None, mean=None, std=None, labels=None):
    """Saved settings, or defaults from the input shape, with the user's overrides applied."""
    metadata = saved_settings(model_path)
    if metadata is None:
        metadata = ModelMetadata(
            labels=[str(index) for index in range(num_classes)],
            preprocessing=Preprocessing.for_input_shape(input_shape),
        )
    preprocessing = metadata.preprocessing
    if tuple(preprocessing.input_shape) != tuple(input_shape):
        raise ModelFileError(
            f"{pathlib.Path(model_path).with_name(SETTINGS_FILE)} describes input {preprocessing.input_shape}, "
            f"the model takes {tuple(input_shape)}"
        )
    if scale is not None or mean is not None or std is not None:
        preprocessing = Preprocessing(
            preprocessing.height,
            preprocessing.width,
            preprocessing.channels,
            preprocessing.scale if scale is None else scale,
            preprocessing.mean if mean is None else tuple(mean),
            preprocessing.std if std is None else tuple(std),
        )
    if labels is not None:
        if len(labels) != num_classes:
            raise ModelFileError(f"{len(labels)} labels given, the model has {num_classes} outputs")
        metadata.labels = list(labels)
    if len(metadata.labels) != num_classes:
        raise ModelFileError(f"{len(metadata.labels)} labels saved with the model, it has {num_classes} outputs")
    metadata.preprocessing = preprocessing
    return metadata


def read_labels_file(path):
    """One label per line; blank lines are ignored."""
    try:
        lines = pathlib.Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ModelFileError(f"cannot read labels file {path}: {error.strerror}") from error
    return [line.strip() for line in lines if line.strip()]
