"""The float models `quantize` and `report` take: one table of formats, each recognising the MODEL text it reads.

keras:   a .keras (or .h5) file; input NHWC, as Keras models are.
pytorch: FILE.pt2 (torch.export.save) or module.py:function (with --weights state_dict.pt), plus --input-shape
         CxHxW; extra `torch`. The .tflite takes NHWC by default, or NCHW as PyTorch does (--input-layout nchw).

Every format gives a FloatModel with the same few things: its (H, W, C) image shape, its class count, float
scores for preprocessed (N, H, W, C) inputs, and TFLite bytes from a conversion.
"""

import dataclasses
import pathlib

import numpy as np

from edgecnn import artifacts
from edgecnn.errors import ConfigurationError, ModelFileError
from edgecnn.registry import Registry


@dataclasses.dataclass
class FloatModel:
    """A loaded float model of one format."""

    format: object  # the format spec that loaded it
    spec: str  # MODEL as the user gave it
    image_shape: tuple  # (H, W, C)
    num_classes: int
    handle: object  # the framework's model (keras.Model, torch_models.TorchModel)
    files: tuple  # the files it came from; saved settings are looked for beside the first

    @property
    def size_bytes(self):
        return sum(path.stat().st_size for path in self.files if path.is_file())

    def predict(self, inputs):
        """Float scores (N, classes) for preprocessed (N, H, W, C) float32 inputs."""
        return self.format.predict(self, inputs)

    def convert(self, calibration_inputs=None, mode="int8", io_type="int8", metadata=None, layout="nhwc"):
        """TFLite bytes, with `metadata` embedded when given (see each format for the modes it converts)."""
        return self.format.convert(self, calibration_inputs, mode, io_type, metadata, layout)


class KerasFormat:
    name = "keras"
    description = "a Keras model file (.keras, .h5)"
    layouts = ("nhwc",)

    @staticmethod
    def matches(spec):
        return True  # the fallback: anything no other format claims, as edgecnn read models before

    def load(self, spec, input_shape=None, weights=None):
        from edgecnn.quantize import converter

        for option, value in (("--input-shape", input_shape), ("--weights", weights)):
            if value is not None:
                raise ConfigurationError(
                    f"{option} is for PyTorch models (FILE.pt2 or module.py:function); {spec} is read as Keras"
                )
        keras_model = artifacts.load_keras_model(spec)
        image_shape = converter.model_input_shape(keras_model)
        num_classes = int(keras_model.outputs[0].shape[-1])
        return FloatModel(self, str(spec), image_shape, num_classes, keras_model, (pathlib.Path(spec),))

    @staticmethod
    def predict(model, inputs):
        return np.asarray(model.handle.predict(inputs, batch_size=256, verbose=0), np.float32)

    @staticmethod
    def convert(model, calibration_inputs, mode, io_type, metadata, layout):
        from edgecnn.quantize import converter

        return converter.quantize_keras_model(model.handle, calibration_inputs, mode, io_type, metadata)


class PyTorchFormat:
    name = "pytorch"
    description = "a PyTorch model: FILE.pt2 (torch.export) or module.py:function, with --input-shape CxHxW"
    layouts = ("nhwc", "nchw")
    _WEIGHTS_SUFFIXES = (".pt", ".pth")

    def matches(self, spec):
        from edgecnn.quantize import torch_models

        return torch_models.is_torch_spec(spec) or str(spec).lower().endswith(self._WEIGHTS_SUFFIXES)

    def load(self, spec, input_shape=None, weights=None):
        from edgecnn.quantize import torch_models

        if str(spec).lower().endswith(self._WEIGHTS_SUFFIXES):
            raise ModelFileError(
                f"{spec} is a PyTorch weights file, not a model: give module.py:function --weights {spec}, "
                "or a .pt2 from torch.export.save"
            )
        torch_model = torch_models.load_torch_model(spec, input_shape, weights)
        return FloatModel(self, str(spec), torch_model.image_shape, torch_model.num_classes, torch_model,
                          torch_model.files)

    @staticmethod
    def predict(model, inputs):
        return model.handle.predict(inputs)

    @staticmethod
    def convert(model, calibration_inputs, mode, io_type, metadata, layout):
        from edgecnn.quantize import integer_model, torch_converter

        if mode not in torch_converter.MODES:
            raise ConfigurationError(f"PyTorch models convert with --mode int8, not {mode}")
        if mode != "int8" and io_type != "float32":
            raise ConfigurationError(f"--mode {mode} keeps float32 input and output; --io {io_type} needs --mode int8")
        tflite_bytes = torch_converter.convert_torch_model(model.handle, calibration_inputs, mode, layout)
        if mode == "int8":
            integer_model.require_full_int8(tflite_bytes, model.spec, torch_converter.torch_location,
                                            torch_converter.FLOAT_OPS_HINT)
            tflite_bytes = integer_model.set_io_type(tflite_bytes, io_type)
        if metadata is not None:
            tflite_bytes = artifacts.embed_metadata(tflite_bytes, metadata)
        return tflite_bytes


FORMATS = Registry("model format", [PyTorchFormat(), KerasFormat()])


def model_format(spec):
    """The first format that claims `spec` (the table's order: PyTorch's forms, then Keras for the rest)."""
    return next(spec_format for spec_format in FORMATS if spec_format.matches(spec))


def load_float_model(spec, input_shape=None, weights=None):
    return model_format(spec).load(spec, input_shape, weights)


def check_layout(model, layout):
    """The .tflite input layout for `model`: `layout` if its format converts to it, else NHWC by default."""
    if layout is None:
        return "nhwc"
    if layout not in model.format.layouts:
        raise ConfigurationError(
            f"--input-layout {layout}: {model.format.description} converts to {', '.join(model.format.layouts)}"
        )
    return layout
