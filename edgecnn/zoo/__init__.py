"""The model zoo: named Keras CNN builders behind one registry.

    import edgecnn.zoo as zoo
    zoo.list_models("resnet*")
    model = zoo.create_model("lenet5", num_classes=10, activation="relu")
    zoo.summarize(model).macs

Importing this package registers every builder but does not import TensorFlow or Keras; builders import
Keras when called.
"""

from edgecnn.zoo import classic, mobilenet, resnet, vgg  # noqa: F401  (registers the builders)
from edgecnn.zoo.cnn_explainer import CNN_EXPLAINER_CLASS_NAMES, load_cnn_explainer_tinyvgg, read_tfjs_weights
from edgecnn.zoo.registry import (
    ModelInfo,
    create_model,
    list_models,
    model_info,
    parse_model_options,
    register_model,
    set_batch_norm_statistics,
    unregister_model,
)
from edgecnn.zoo.summary import ModelSummary, summarize

__all__ = [
    "CNN_EXPLAINER_CLASS_NAMES",
    "ModelInfo",
    "ModelSummary",
    "create_model",
    "list_models",
    "load_cnn_explainer_tinyvgg",
    "model_info",
    "parse_model_options",
    "read_tfjs_weights",
    "register_model",
    "set_batch_norm_statistics",
    "summarize",
    "unregister_model",
]
