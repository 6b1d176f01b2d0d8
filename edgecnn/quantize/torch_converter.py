"""PyTorch models to TFLite through Google's litert-torch converter and its PT2E quantizer (extra `torch`).

Full int8 is static post-training quantization: torch.export at batch 1, `prepare_pt2e` with litert-torch's
symmetric quantizer (per-channel weights, histogram-calibrated activations), calibration one image at a time
(the export is static: a batch of 8 fails its shape guards), `convert_pt2e`, then `litert_torch.convert` with
the same quantizer. The result has int8 input and output with no QUANTIZE/DEQUANTIZE op, unless an op the
quantizer does not annotate stays float; `checks.require_full_int8` refuses such a model.

Layout: PyTorch models take NCHW. By default the model is wrapped with `litert_torch.to_channel_last_io`, so the
.tflite takes NHWC like every TFLite image model and starts with the first convolution; "nchw" keeps PyTorch's
layout, and the converter puts a TRANSPOSE (a RESHAPE for one channel) first.
"""

import os
import re
import sys
import warnings

import numpy as np

from edgecnn import extras
from edgecnn.errors import ConfigurationError, UnsupportedModelError, error_reason

MODES = ("int8", "float32")
FLOAT_OPS_HINT = (
    "the PT2E quantizer leaves ops it does not annotate (softmax, LayerNorm, GELU, ...) in float: end the model "
    "at its logits or replace those ops"
)
# prepare_pt2e's assertion when one module instance is called twice (seen with nn.MaxPool2d).
_SHARED_MODULE_ASSERTION = "please make sure only refer to edge or node that has observer"


def import_litert_torch():
    """litert_torch, imported once and quietly (torchao's start-up prints about CUDA kernels it cannot load)."""
    os.environ.setdefault("LITERT_TORCH_SHOW_PROGRESS", "n")
    if sys.modules.get("litert_torch") is not None:
        return sys.modules["litert_torch"]
    extras.require("torch", "PyTorch models")
    with extras.quiet_native_output(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return extras.require("litert_torch", "converting PyTorch models")


def convert_torch_model(model, calibration_inputs=None, mode="int8", layout="nhwc"):
    """TFLite bytes of `model` (a torch_models.TorchModel).

    mode "int8": full-integer, calibrated on `calibration_inputs` ((N, H, W, C) float32, preprocessed);
    "float32": no quantization (report's float latency). `layout` is the .tflite input's: "nhwc" or "nchw".
    """
    if mode not in MODES:
        raise ConfigurationError(f"PyTorch models convert with --mode int8 (or float32), not {mode!r}")
    litert_torch = import_litert_torch()
    torch = sys.modules["torch"]
    module = model.module
    if layout == "nhwc":
        module = litert_torch.to_channel_last_io(module, args=[0])
    channels, height, width = model.input_shape
    sample = (torch.zeros((1, height, width, channels) if layout == "nhwc" else (1, channels, height, width)),)
    with extras.quiet_native_output(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if mode == "float32":
            return _lower(litert_torch, model.spec, _in_eval_mode(module), sample)
        calibration = _check_calibration(calibration_inputs, model.image_shape)
        from litert_torch.quantize import pt2e_quantizer, quant_config
        from torchao.quantization.pt2e import move_exported_model_to_eval, quantize_pt2e

        quantizer = pt2e_quantizer.PT2EQuantizer().set_global(
            pt2e_quantizer.get_symmetric_quantization_config(is_per_channel=True, is_dynamic=False)
        )
        graph = _export(torch, module, sample, model.spec)
        try:
            prepared = quantize_pt2e.prepare_pt2e(graph, quantizer)
        except Exception as error:  # noqa: BLE001 - assertion and type errors from the quantizer's passes
            hint = ""
            if _SHARED_MODULE_ASSERTION in str(error):
                hint = " (is one module instance, such as an nn.MaxPool2d, called twice? give each call its own)"
            raise UnsupportedModelError(
                f"the PT2E quantizer cannot prepare {model.spec}: {error_reason(error)}{hint}"
            ) from error
        with torch.no_grad():
            for index, image in enumerate(calibration):
                tensor = torch.from_numpy(image if layout == "nhwc" else np.moveaxis(image, -1, 0).copy())[None]
                try:
                    prepared(tensor)
                except Exception as error:  # noqa: BLE001 - the user's forward
                    raise UnsupportedModelError(
                        f"{model.spec} fails on calibration image {index}: {error_reason(error)}"
                    ) from error
        converted = move_exported_model_to_eval(quantize_pt2e.convert_pt2e(prepared, fold_quantize=False))
        converted.training = False  # a loaded exported module keeps True, and litert-torch warns about it
        return _lower(litert_torch, model.spec, converted, sample,
                      quant_config=quant_config.QuantConfig(pt2e_quantizer=quantizer))


def _check_calibration(calibration_inputs, image_shape):
    if calibration_inputs is None or len(calibration_inputs) == 0:
        raise ConfigurationError("full-int8 quantization needs calibration images, and none were usable")
    calibration = np.ascontiguousarray(calibration_inputs, np.float32)
    if calibration.shape[1:] != tuple(image_shape):
        raise ConfigurationError(
            f"calibration images have shape {calibration.shape[1:]}, the model takes {tuple(image_shape)} (HxWxC)"
        )
    return calibration


def _in_eval_mode(module):
    """`module.eval()`, except for exported graph modules, which refuse it (they were exported in a mode)."""
    try:
        return module.eval()
    except (NotImplementedError, RuntimeError):
        return module


def _export(torch, module, sample, spec):
    try:
        return torch.export.export(module, sample).module()
    except Exception as error:  # noqa: BLE001 - torch.export's many error types (data-dependent flow, ...)
        raise UnsupportedModelError(f"torch.export cannot capture {spec}: {error_reason(error)}") from error


def _lower(litert_torch, spec, module, sample, **options):
    try:
        return bytes(litert_torch.convert(module, sample, **options).model_content())
    except Exception as error:  # noqa: BLE001 - lowering raises RuntimeError, AssertionError, jax errors, ...
        raise UnsupportedModelError(f"litert-torch cannot convert {spec} to TFLite: {error_reason(error)}") from error



def torch_location(tensor_name):
    """Where a tensor of a litert-torch model comes from: "LayerNorm 'n'", "SimpleCNN.forward", or None.

    litert-torch names tensors by module path, e.g. "pkg.Net/torch.nn.modules.normalization.LayerNorm_n;6"
    (class, then the attribute the parent holds it in); the wrapper that moves channels last adds "_wrapped".
    """
    pieces = [piece for piece in tensor_name.split(";") if piece and not piece.isdigit()]
    if not pieces:
        return None
    component = pieces[-1].rsplit("/", 1)[-1]
    match = re.fullmatch(r"(?:[\w.]*\.)?([A-Za-z][A-Za-z0-9]*)(?:_(\w+))?", component)
    if match is None or component.startswith("serving_default"):
        return None
    class_name, attribute = match.groups()
    return f"{class_name}.forward" if attribute in (None, "wrapped") else f"{class_name} {attribute!r}"
