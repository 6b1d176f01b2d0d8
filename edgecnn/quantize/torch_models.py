"""PyTorch models as `quantize` and `report` take them: a torch.export program (FILE.pt2) or module.py:function.

A module.py:function names a Python file and a function in it that takes no arguments and returns the
nn.Module; its weights come from `--weights state_dict.pt` (torch.save of `model.state_dict()`), unless the
function loads them itself. A .pt2 (torch.export.save) carries its weights and its input shape.

PyTorch models take NCHW images, so `--input-shape` is CxHxW (or 1xCxHxW), as PyTorch takes it. torch is
imported only inside these functions (extra `torch`).
"""

import contextlib
import dataclasses
import importlib.util
import pathlib
import re
import sys
import traceback
import zipfile

import numpy as np

from edgecnn import extras
from edgecnn.errors import ConfigurationError, ModelFileError, UnsupportedModelError, error_reason, short_reason

EXPORTED_PROGRAM_SUFFIX = ".pt2"
_FUNCTION_SPEC = re.compile(r"^(?P<path>.+\.py):(?P<function>[A-Za-z_][A-Za-z0-9_]*)$")


@dataclasses.dataclass
class TorchModel:
    """A float PyTorch classifier in eval mode, with the NCHW shape it takes and the classes it scores."""

    module: object  # torch.nn.Module
    spec: str  # as the user wrote it, for messages
    input_shape: tuple  # (C, H, W)
    num_classes: int
    files: tuple  # the files it came from (the .pt2, or module.py and its weights)
    batch_size: int = 1  # an exported program's shapes are static: batch 1; a module's are not


    @property
    def image_shape(self):
        """(H, W, C), the order edgecnn's datasets and preprocessing use."""
        channels, height, width = self.input_shape
        return (height, width, channels)

    def predict(self, inputs):
        """Float scores (N, classes) for (N, H, W, C) float32 inputs."""
        torch = extras.require("torch", "PyTorch models")
        inputs = np.asarray(inputs, np.float32)
        scores = [np.zeros((0, self.num_classes), np.float32)]
        with torch.no_grad():
            for start in range(0, len(inputs), self.batch_size):
                batch = np.ascontiguousarray(np.moveaxis(inputs[start : start + self.batch_size], -1, 1))
                scores.append(_run(self.module, torch.from_numpy(batch), self.spec).numpy().astype(np.float32))
        return np.concatenate(scores)


def is_torch_spec(text):
    """True for what names a PyTorch model: FILE.pt2 or module.py:function."""
    text = str(text)
    return text.lower().endswith(EXPORTED_PROGRAM_SUFFIX) or _FUNCTION_SPEC.match(text) is not None


def parse_input_shape(text):
    """"1x28x28" or "1x1x28x28" (PyTorch's C x H x W, with or without the batch of 1) -> (C, H, W)."""
    try:
        values = tuple(int(part) for part in str(text).lower().split("x"))
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise ConfigurationError(
            f"--input-shape must be CxHxW or 1xCxHxW, as the PyTorch model takes it (e.g. 1x28x28), got {text!r}"
        )
    if len(values) == 4 and values[0] != 1:
        raise ConfigurationError(f"--input-shape {text}: edgecnn converts with batch 1, not {values[0]}")
    if len(values) not in (3, 4):
        raise ConfigurationError(
            f"--input-shape {text} has {len(values)} dimensions; PyTorch image models take CxHxW "
            "(or 1xCxHxW), e.g. 1x28x28"
        )
    channels = values[-3]
    if channels not in (1, 3):
        raise ConfigurationError(
            f"--input-shape {text} gives {channels} channels (CxHxW: channels first); models take 1 or 3"
        )
    return values[-3:]


def load_torch_model(spec, input_shape=None, weights=None):
    """Load the model `spec` names, check it runs on one image of `input_shape` and scores classes."""
    spec = str(spec)
    torch = extras.require("torch", "PyTorch models")
    shape = parse_input_shape(input_shape) if input_shape is not None else None
    if spec.lower().endswith(EXPORTED_PROGRAM_SUFFIX):
        if weights is not None:
            raise ConfigurationError(f"--weights is for module.py:function models; {spec} carries its weights")
        module, exported_shape = _load_exported_program(torch, pathlib.Path(spec))
        if shape is not None and exported_shape is not None and shape != exported_shape:
            raise ConfigurationError(
                f"{spec} was exported for input 1x{'x'.join(map(str, exported_shape))}, "
                f"--input-shape says 1x{'x'.join(map(str, shape))}"
            )
        shape = shape or exported_shape
        if shape is None:
            raise ConfigurationError(f"{spec} has a dynamic input shape: give --input-shape CxHxW")
        files = (pathlib.Path(spec),)
    else:
        match = _FUNCTION_SPEC.match(spec)
        if match is None:
            raise ModelFileError(f"{spec} names no PyTorch model: give FILE.pt2 or module.py:function")
        if shape is None:
            raise ConfigurationError(f"{spec}: give --input-shape CxHxW (e.g. 1x28x28) for a module.py:function")
        module = _call_model_function(torch, pathlib.Path(match["path"]), match["function"], spec)
        files = (pathlib.Path(match["path"]),)
        if weights is not None:
            _load_weights(torch, module, pathlib.Path(weights), spec)
            files += (pathlib.Path(weights),)
        module.eval()
    with torch.no_grad():
        output = _run(module, torch.zeros((1, *shape)), spec, shape)
    if output.ndim != 2 or output.shape[0] != 1:
        raise UnsupportedModelError(
            f"{spec} returns a tensor of shape {list(output.shape)}; edgecnn quantizes classifiers that return "
            "(1, classes) scores"
        )
    batch_size = 1 if spec.lower().endswith(EXPORTED_PROGRAM_SUFFIX) else 256
    return TorchModel(module, spec, tuple(shape), int(output.shape[1]), files, batch_size)


def _run(module, tensor, spec, shape=None):
    """The module's output for one input tensor, or one line saying why it does not run."""
    torch = sys.modules["torch"]
    try:
        output = module(tensor)
    except Exception as error:  # noqa: BLE001 - whatever the user's forward raises
        where = f"an input of shape {'x'.join(map(str, (1, *shape)))} (--input-shape)" if shape else "its input"
        raise UnsupportedModelError(f"{spec} does not run on {where}: {error_reason(error)}") from error
    if not isinstance(output, torch.Tensor):
        raise UnsupportedModelError(
            f"{spec} returns a {type(output).__name__}; edgecnn quantizes classifiers with one output tensor"
        )
    return output



def _load_exported_program(torch, path):
    """(GraphModule, (C, H, W) or None) of a torch.export.save file."""
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(
            f"{path} is not a PyTorch exported program (a .pt2 from torch.export.save is a zip archive)"
        )
    with zipfile.ZipFile(path) as archive:
        if not any(name.endswith("archive_format") for name in archive.namelist()):
            raise ModelFileError(
                f"{path} is not a torch.export program but another PyTorch zip (torch.save of weights or a "
                "module?): save it with torch.export.save(torch.export.export(model, (example_input,)), path)"
            )
    try:
        with extras.quiet_native_output():
            program = torch.export.load(str(path))
    except Exception as error:  # noqa: BLE001 - torch raises many types for foreign or corrupt archives
        raise ModelFileError(f"cannot load {path} as a torch.export program: {error_reason(error)}") from error
    user_inputs = list(program.graph_signature.user_inputs)
    if len(user_inputs) != 1:
        raise UnsupportedModelError(f"{path} takes {len(user_inputs)} inputs; edgecnn converts one image input")
    shape = None
    for node in program.graph.nodes:
        if node.op == "placeholder" and node.name == user_inputs[0]:
            value = node.meta.get("val")
            dimensions = tuple(getattr(value, "shape", ()))
            if all(isinstance(dimension, int) for dimension in dimensions):
                if len(dimensions) != 4 or dimensions[0] != 1:
                    raise UnsupportedModelError(
                        f"{path} was exported for an input of shape {list(dimensions)}; edgecnn converts "
                        "image models exported with one (1, C, H, W) input"
                    )
                shape = dimensions[1:]
    return program.module(), shape


def _call_model_function(torch, path, function_name, spec):
    """Import `path` as a module (its folder first on sys.path, for its own imports) and call the function."""
    if not path.is_file():
        raise ModelFileError(f"module file not found: {path} (from {spec})")
    # The module's name shows in the converted model's tensor names ("simple_cnn.SimpleCNN/...").
    module_name = path.stem if path.stem.isidentifier() and path.stem not in sys.modules else "edgecnn_user_model"
    loader_spec = importlib.util.spec_from_file_location(module_name, path)
    python_module = importlib.util.module_from_spec(loader_spec)
    with _first_on_path(path.resolve().parent):
        sys.modules[module_name] = python_module  # dataclasses and pickling look modules up by name
        try:
            loader_spec.loader.exec_module(python_module)
        except Exception as error:  # noqa: BLE001 - a SyntaxError, an ImportError, whatever the file raises
            sys.modules.pop(module_name, None)
            lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__)
                     if pathlib.Path(frame.filename) == path.resolve()]
            at = f" (line {lines[-1]})" if lines and not isinstance(error, SyntaxError) else ""
            raise ModelFileError(f"cannot import {path}{at}: {error_reason(error)}") from error
        function = getattr(python_module, function_name, None)
        if not callable(function):
            raise ModelFileError(f"{path} has no function {function_name!r} (from {spec})")
        try:
            model = function()
        except Exception as error:  # noqa: BLE001 - the user's function
            raise ModelFileError(f"{spec}() failed: {error_reason(error)}") from error
    if not isinstance(model, torch.nn.Module):
        raise ModelFileError(f"{spec}() returned a {type(model).__name__}, not a torch.nn.Module")
    return model


@contextlib.contextmanager
def _first_on_path(folder):
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(folder))


def _load_weights(torch, module, path, spec):
    """torch.load a state_dict (tensors only: weights_only) into `module`, strictly."""
    if not path.is_file():
        raise ModelFileError(f"weights file not found: {path}")
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - UnpicklingError, RuntimeError, EOFError, ...
        raise ModelFileError(
            f"{path} is not a state_dict saved with torch.save(model.state_dict(), ...): {error_reason(error)}"
        ) from error
    if not isinstance(state, dict):
        raise ModelFileError(f"{path} holds a {type(state).__name__}, not a state_dict (a dict of tensors)")
    try:
        module.load_state_dict(state)
    except Exception as error:  # noqa: BLE001 - RuntimeError listing every mismatch, one per line
        lines = [line.strip() for line in str(error).splitlines()[1:] if line.strip()]
        detail = short_reason(" ".join(lines) or str(error), 200)
        raise ModelFileError(f"weights {path} do not fit {spec} ({type(module).__name__}): {detail}") from error
