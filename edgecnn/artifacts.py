"""The files a model travels with, and the one place every stage reads them from.

- Inside a .tflite: a metadata entry named "edgecnn" whose buffer is UTF-8 JSON (labels, preprocessing, model
  and dataset names). TFLite, TFLite Micro and the Edge TPU compiler ignore metadata they do not know, so the
  model stays a plain TFLite model everywhere. Reading needs only NumPy; embedding uses TensorFlow's schema.
- Beside a .keras that edgecnn trained: preprocessing.json (the same JSON) and labels.txt.

A model edgecnn did not make gets numeric labels and the default preprocessing for its input shape; a label
list that does not match the model's outputs is never used silently.
"""

import dataclasses
import json
import logging
import pathlib
import zipfile

from edgecnn import atomic, extras
from edgecnn.data.preprocessing import Preprocessing
from edgecnn.errors import ModelFileError, short_reason

log = logging.getLogger("edgecnn.artifacts")

METADATA_NAME = "edgecnn"
METADATA_FORMAT = 1
SETTINGS_FILE = "preprocessing.json"
LABELS_FILE = "labels.txt"


@dataclasses.dataclass
class ModelMetadata:
    """What every later stage needs to feed the model and name its outputs."""

    labels: list
    preprocessing: Preprocessing
    model_name: str = None
    dataset: str = None
    from_model: bool = dataclasses.field(default=True, compare=False)  # False: defaults for a foreign model

    def to_json(self):
        return json.dumps(
            {
                "format": METADATA_FORMAT,
                "model": self.model_name,
                "dataset": self.dataset,
                "labels": list(self.labels),
                "preprocessing": self.preprocessing.to_dict(),
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text, where="model metadata"):
        try:
            values = json.loads(text)
            return cls(
                labels=[str(label) for label in values["labels"]],
                preprocessing=Preprocessing.from_dict(values["preprocessing"]),
                model_name=values.get("model"),
                dataset=values.get("dataset"),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise ModelFileError(f"{where} is not valid edgecnn metadata: {error}") from error


def default_metadata(input_shape, num_classes, layout=None):
    """Numeric labels and the default preprocessing, for a model edgecnn did not make.

    `input_shape` is an input tensor's shape; without `layout`, its layout is guessed from it.
    """
    return ModelMetadata(
        labels=numeric_labels(num_classes),
        preprocessing=Preprocessing.for_input_shape(input_shape, layout=layout),
        from_model=False,
    )


def numeric_labels(count):
    return [str(index) for index in range(count)]


# --- .tflite -------------------------------------------------------------------------------------------------


def read_tflite_metadata(source):
    """The edgecnn metadata of a .tflite model (path, bytes or edgecnn.tflite Model), or None when it has none."""
    from edgecnn import tflite

    model = source if isinstance(source, tflite.Model) else tflite.read_model(source)
    raw = model.metadata.get(METADATA_NAME)
    if raw is None:
        return None
    return ModelMetadata.from_json(bytes(raw).decode("utf-8", errors="replace"), f"metadata of {model.source}")


def tflite_metadata(source, strict=False):
    """The metadata every stage uses for a .tflite model: its own, or defaults from its input and output.

    Labels are checked against the output size; a mismatch (or, unless `strict`, unreadable metadata) falls
    back to numeric labels with a warning, so a runtime never names classes wrongly.
    """
    from edgecnn import tflite

    model = source if isinstance(source, tflite.Model) else tflite.read_model(source)
    graph = model.main
    input_shape = graph.tensors[graph.inputs[0]].shape
    output_shape = graph.tensors[graph.outputs[0]].shape
    num_classes = int(output_shape[-1]) if output_shape else 1
    try:
        metadata = read_tflite_metadata(model)
    except ModelFileError as error:
        if strict:
            raise
        log.warning("%s; using default preprocessing and labels", error)
        metadata = None
    if metadata is None:
        return default_metadata(input_shape, num_classes)
    if len(metadata.labels) != num_classes:
        log.warning("%s: %d labels for %d outputs; using indices", model.source, len(metadata.labels), num_classes)
        metadata.labels = numeric_labels(num_classes)
    return metadata


def tflite_input_layout(source):
    """"nhwc" or "nchw": the metadata's, else guessed from the input shape (any shape, image or not)."""
    from edgecnn import tflite
    from edgecnn.data.preprocessing import detect_layout

    model = source if isinstance(source, tflite.Model) else tflite.read_model(source)
    try:
        metadata = read_tflite_metadata(model)
    except ModelFileError:
        metadata = None
    if metadata is not None:
        return metadata.preprocessing.layout
    return detect_layout(model.main.tensors[model.main.inputs[0]].shape)


def tflite_labels(source):
    """The class names of a .tflite model's first output: its metadata's, else numeric.

    Unlike tflite_metadata this needs no preprocessing, so it works for models whose input is not an image.
    """
    from edgecnn import tflite

    model = source if isinstance(source, tflite.Model) else tflite.read_model(source)
    graph = model.main
    output_shape = graph.tensors[graph.outputs[0]].shape
    num_classes = int(output_shape[-1]) if len(output_shape) else 1
    try:
        metadata = read_tflite_metadata(model)
    except ModelFileError as error:
        log.warning("%s; using numeric labels", error)
        metadata = None
    if metadata is not None and len(metadata.labels) == num_classes:
        return list(metadata.labels)
    return numeric_labels(num_classes)


def model_label_index(class_name, dataset_index, model_labels):
    """A dataset's class as the model numbers its outputs: by name when the model's labels include it."""
    labels = list(model_labels)
    return labels.index(class_name) if class_name in labels else int(dataset_index)


def embed_metadata(tflite_bytes, metadata):
    """Return the model with `metadata` stored under the "edgecnn" entry (replacing an older one)."""
    flatbuffer_utils = extras.flatbuffer_utils("writing model metadata")
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(tflite_bytes))
    schema = flatbuffer_utils.schema_fb
    buffer = schema.BufferT()
    buffer.data = list(metadata.to_json().encode("utf-8"))
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(model.buffers) - 1

    def name_of(item):
        return item.name.decode("utf-8") if isinstance(item.name, bytes) else item.name

    kept = [item for item in (model.metadata or []) if name_of(item) != METADATA_NAME]
    model.metadata = kept + [entry]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


# --- .keras and the files beside it ---------------------------------------------------------------------------


def load_keras_model(path, purpose="loading Keras models"):
    """Load a .keras (or .h5) model, turning every way it can fail into one clear ModelFileError."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}")
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path} is not a Keras model (a .keras file is a zip archive)")
    extras.tensorflow(purpose)
    import keras

    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for corrupt or foreign files
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelFileError(f"cannot load Keras model {path}: {short_reason(message, 200)}") from error


def saved_settings(model_path):
    """The metadata saved beside a model edgecnn trained, or None."""
    settings_path = pathlib.Path(model_path).with_name(SETTINGS_FILE)
    if not settings_path.is_file():
        return None
    return ModelMetadata.from_json(settings_path.read_text(encoding="utf-8"), str(settings_path))


def float_model_metadata(model_path, input_shape, num_classes, scale=None, mean=None, std=None, labels=None):
    """Saved settings of a float model (Keras or PyTorch), or defaults from its (H, W, C) image shape, with the
    user's overrides applied.

    Unlike a .tflite at run time, a mismatch here is the user's to fix before quantizing, so it is an error.
    """
    metadata = saved_settings(model_path) or default_metadata(input_shape, num_classes, layout="nhwc")
    preprocessing = metadata.preprocessing
    if tuple(preprocessing.input_shape) != tuple(input_shape):
        raise ModelFileError(
            f"{pathlib.Path(model_path).with_name(SETTINGS_FILE)} describes input {preprocessing.input_shape}, "
            f"the model takes {tuple(input_shape)}"
        )
    if scale is not None or mean is not None or std is not None:
        preprocessing = dataclasses.replace(
            preprocessing,
            scale=preprocessing.scale if scale is None else scale,
            mean=preprocessing.mean if mean is None else tuple(mean),
            std=preprocessing.std if std is None else tuple(std),
        )
    if labels is not None:
        if len(labels) != num_classes:
            raise ModelFileError(f"{len(labels)} labels given, the model has {num_classes} outputs")
        metadata.labels = list(labels)
    if len(metadata.labels) != num_classes:
        raise ModelFileError(f"{len(metadata.labels)} labels saved with the model, it has {num_classes} outputs")
    metadata.preprocessing = preprocessing
    return metadata


def write_settings(out_dir, metadata):
    """preprocessing.json and labels.txt beside a model, each written atomically."""
    out_dir = pathlib.Path(out_dir)
    atomic.write_text(out_dir / SETTINGS_FILE, metadata.to_json() + "\n")
    write_labels_file(out_dir / LABELS_FILE, metadata.labels)


def write_labels_file(path, labels):
    atomic.write_text(path, "".join(f"{label}\n" for label in labels))


def read_labels_file(path):
    """One label per line; blank lines are ignored."""
    try:
        lines = pathlib.Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ModelFileError(f"cannot read labels file {path}: {error.strerror}") from error
    return [line.strip() for line in lines if line.strip()]
