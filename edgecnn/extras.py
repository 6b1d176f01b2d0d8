"""Lazy imports of optional dependencies, failing with the pip extra that brings them."""

import importlib

from edgecnn.errors import MissingExtraError

# module name -> (pip extra, what it is needed for)
EXTRA_FOR_MODULE = {
    "tensorflow": "train",
    "keras": "train",
    "matplotlib": "train",
    "cv2": "device",
    "ai_edge_litert": "device",
    "tflite_micro": "dev",
}


def require(module_name, purpose=""):
    """Import and return `module_name`, or raise MissingExtraError naming the extra to install."""
    try:
        return importlib.import_module(module_name)
    except ImportError as error:
        extra = EXTRA_FOR_MODULE.get(module_name.split(".")[0])
        needed_for = f" for {purpose}" if purpose else ""
        if extra is None:
            raise MissingExtraError(f"{module_name} is not installed{needed_for} ({error})") from error
        raise MissingExtraError(
            f"{module_name} is not installed{needed_for}: pip install \"edgecnn[{extra}]\""
        ) from error


def tensorflow(purpose="this command"):
    """Import TensorFlow quietly (its C++ start-up logging is noise for CLI users)."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return require("tensorflow", purpose)
