"""The model registry: builders register under a name; callers list, describe and create models by name.

Registration records only metadata (name, default input shape, description, options with their defaults), so
`import edgecnn.zoo` and `list_models()` work without TensorFlow. Keras is imported when a model is built.
"""

import dataclasses
import fnmatch
import inspect
import re

from edgecnn import extras
from edgecnn.errors import ConfigurationError
from edgecnn.registry import Registry

# Builder arguments that every builder takes and create_model() passes itself.
COMMON_ARGUMENTS = ("input_shape", "num_classes")

# The zoo's table, filled by @register_model as the family modules are imported.
MODELS = Registry("model")


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """What the zoo knows about a model without building it."""

    name: str
    default_input_shape: tuple
    description: str
    options: dict  # option name -> default value
    builder: object = dataclasses.field(repr=False, compare=False)

    def to_dict(self):
        return {
            "name": self.name,
            "default_input_shape": list(self.default_input_shape),
            "description": self.description,
            "options": dict(self.options),
        }


def register_model(name, default_input_shape, description=None):
    """Decorator: register `builder(input_shape, num_classes, **options)` under `name`.

    The builder's keyword arguments other than input_shape and num_classes become the model's options, with
    the builder's defaults. The description defaults to the first line of the builder's docstring.
    """
    shape = _checked_shape(default_input_shape, f"default input shape of {name!r}")

    def decorator(builder):
        if name in MODELS:
            existing = MODELS.get(name).builder
            raise ConfigurationError(
                f"model {name!r} is already registered by {existing.__module__}.{existing.__qualname__}"
            )
        parameters = inspect.signature(builder).parameters
        missing = [argument for argument in COMMON_ARGUMENTS if argument not in parameters]
        if missing:
            raise ConfigurationError(f"builder for {name!r} must take {', '.join(missing)}")
        options = {
            option: parameter.default
            for option, parameter in parameters.items()
            if option not in COMMON_ARGUMENTS and parameter.default is not inspect.Parameter.empty
        }
        text = description or (inspect.getdoc(builder) or "").split("\n")[0]
        MODELS.add(ModelInfo(name, shape, text, options, builder))
        return builder

    return decorator


def unregister_model(name):
    """Remove a model (for tests and plug-ins that replace a builder)."""
    MODELS.remove(name)


def list_models(pattern="*"):
    """Sorted names of registered models matching an fnmatch pattern such as "resnet*"."""
    return sorted(name for name in MODELS.names() if fnmatch.fnmatchcase(name, pattern))


def model_info(name):
    """The ModelInfo of a registered model; ConfigurationError listing valid names if unknown."""
    if name not in MODELS:
        raise ConfigurationError(f"unknown model {name!r}; valid models: {', '.join(list_models())}")
    return MODELS.get(name)


def create_model(name, input_shape=None, num_classes=10, **options):
    """Build a fresh (untrained) Keras model from the zoo. Its output is (None, num_classes) probabilities."""
    info = model_info(name)
    shape = info.default_input_shape if input_shape is None else _checked_shape(input_shape, "input shape")
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
        raise ConfigurationError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    unknown = sorted(set(options) - set(info.options))
    if unknown:
        valid = ", ".join(info.options) or "none"
        raise ConfigurationError(f"model {name!r} has no option {', '.join(unknown)}; its options: {valid}")
    keras = load_keras()
    try:
        model = info.builder(input_shape=shape, num_classes=num_classes, **options)
    except ValueError as error:
        raise ConfigurationError(_build_failure_message(name, shape, error)) from error
    _check_no_empty_outputs(model, name, shape, keras)
    return model


def parse_model_options(name, texts):
    """["width=0.5", "batch_norm=false"] -> {"width": 0.5, "batch_norm": False}, typed like each default.

    For command lines (`--option KEY=VALUE`); unknown keys fail listing the model's options.
    """
    info = model_info(name)
    options = {}
    for text in texts:
        key, separator, value = text.partition("=")
        key = key.strip().replace("-", "_")
        if not separator or key not in info.options:
            valid = ", ".join(info.options) or "none"
            raise ConfigurationError(
                f"model option {text!r} is not KEY=VALUE for {name!r}; its options: {valid}"
            )
        options[key] = _typed_like(info.options[key], value.strip(), key)
    return options


def _typed_like(default, text, key):
    try:
        if isinstance(default, bool):
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text.lower() in ("true", "1", "yes")
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        raise ConfigurationError(
            f"model option {key} takes a {type(default).__name__} like {default!r}, got {text!r}"
        ) from None
    return text


def load_keras():
    """Keras with TensorFlow's start-up logging silenced, or MissingExtraError naming the `train` extra."""
    extras.tensorflow("building zoo models")
    return extras.require("keras", "building zoo models")


def _build_failure_message(name, shape, error):
    """Keras reports an input too small for the strides as a zero or negative size, deep in its text."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(error).splitlines()]
    lines = [line for line in lines if line] or [type(error).__name__]
    for line in lines:
        if "zero or negative" in line or "Negative dimension" in line:
            return f"input shape {shape} is too small for {name!r}: {line}"
    return f"cannot build {name!r} for input shape {shape}: {lines[0]}"


def _check_no_empty_outputs(model, name, shape, keras):
    """Keras builds VALID pooling of a 1x1 map into a 0x0 map without complaint; catch it here."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        output_shape = tuple(layer.output.shape)
        if any(dimension == 0 for dimension in output_shape[1:]):
            raise ConfigurationError(
                f"input shape {shape} is too small for {name!r}: layer {layer.name!r} outputs {output_shape}"
            )


def _checked_shape(shape, what):
    try:
        values = tuple(int(value) for value in shape)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{what} must be (height, width, channels), got {shape!r}") from None
    if len(values) != 3 or min(values) < 1 or any(int(v) != v for v in shape):
        raise ConfigurationError(
            f"{what} must be three positive integers (height, width, channels), got {shape!r}"
        )
    return values


def set_batch_norm_statistics(keras_model, images):
    """Give every BatchNormalization the mean and variance of its input on `images`, as training would.

    An untrained model keeps Keras' initial statistics (mean 0, variance 1), and its signal shrinks block after
    block: in mobilenet_v2 the logits' int8 scale falls to ~8e-9, below what the int8 SOFTMAX of TFLite's
    reference kernels and TFLite Micro accept, and every output is the same. For benchmarks and tests of
    untrained zoo models whose figures depend on the shapes only.
    """
    import numpy as np

    keras = load_keras()
    layers = [layer for layer in keras_model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.momentum = 0.0  # the moving statistics become this batch's statistics
    keras_model(np.asarray(images, np.float32), training=True)
    for layer, momentum in zip(layers, momenta):
        layer.momentum = momentum
    return keras_model
