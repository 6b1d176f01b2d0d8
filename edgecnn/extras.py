"""Lazy imports of optional dependencies, failing with the pip extra that brings them."""

import contextlib
import importlib
import io
import os
import sys
import tempfile

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
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if sys.modules.get("tensorflow") is not None:
        return sys.modules["tensorflow"]
    with quiet_native_output():
        return require("tensorflow", purpose)


@contextlib.contextmanager
def quiet_native_output():
    """Hide what native code prints on stdout and stderr (TensorFlow's start-up and converter logs).

    Much of it comes from C++ writing to file descriptors 1 and 2, so Python's redirect_stdout is not enough.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as sink:
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)
