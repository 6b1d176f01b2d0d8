"""Labels and preprocessing carried inside the .tflite file.

They live in a TFLite `metadata` entry named "edgecnn" whose buffer is UTF-8 JSON. TFLite, TFLite Micro and the
Edge TPU compiler all ignore metadata they do not know, so the model stays a plain TFLite model everywhere.
Reading needs only NumPy (edgecnn.tflite); embedding uses TensorFlow's flatbuffer schema, present when quantizing.
"""

import dataclasses
import json

from edgecnn.data.preprocessing import Preprocessing
from edgecnn.errors import ModelFileError

METADATA_NAME = "edgecnn"
METADATA_FORMAT = 1


@dataclasses.dataclass
class ModelMetadata:
    """What every later stage needs to feed the model and name its outputs."""

    labels: list
    preprocessing: Preprocessing
    model_name: str = None
    dataset: str = None

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


def read_model_metadata(path_or_bytes):
    """The edgecnn metadata of a .tflite model, or None when the model has none."""
    from edgecnn import tflite

    model = tflite.read_model(path_or_bytes)
    raw = model.metadata.get(METADATA_NAME)
    if raw is None:
        return None
    where = f"metadata of {path_or_bytes}" if isinstance(path_or_bytes, str) else "model metadata"
    return ModelMetadata.from_json(bytes(raw).decode("utf-8", errors="replace"), where)


def metadata_or_default(path_or_bytes, input_shape, num_classes):
    """The model's own metadata, or the defaults for a model edgecnn did not make."""
    metadata = read_model_metadata(path_or_bytes)
    if metadata is not None:
        return metadata
    return ModelMetadata(
        labels=[str(index) for index in range(num_classes)],
        preprocessing=Preprocessing.for_input_shape(input_shape),
    )


def embed_metadata(tflite_bytes, metadata):
    """Return the model with `metadata` stored under the "edgecnn" entry (replacing an older one)."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(tflite_bytes))
    schema = flatbuffer_utils.schema_fb
    payload = metadata.to_json().encode("utf-8")
    buffer = schema.BufferT()
    buffer.data = list(payload)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    kept = [item for item in (model.metadata or []) if _name(item.name) != METADATA_NAME]
    model.metadata = kept + [entry]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _name(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value
