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
    "torch": "torch",
    "torchao": "torch",
    "litert_torch": "torch",
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


def flatbuffer_utils(purpose="editing a .tflite model"):
    """The TFLite flatbuffer object API (read, change, write a model): LiteRT's copy, else TensorFlow's.

    LiteRT ships the same module as TensorFlow and comes with the device and torch extras, so a machine with
    either can write models without TensorFlow.
    """
    try:
        return importlib.import_module("ai_edge_litert.tools.flatbuffer_utils")
    except ImportError:
        tensorflow(purpose)
        return require("tensorflow.lite.tools.flatbuffer_utils", purpose)


@contextlib.contextmanager
def quiet_native_output(stdout=True, stderr=True):
    """Hide what native code prints on stdout and/or stderr (TensorFlow's start-up and converter logs).

    Much of it comes from C++ writing to file descriptors 1 and 2, so Python's redirect_stdout is not enough.
    Where the descriptors cannot be duplicated (no real stdout, as under some test runners) nothing is hidden.
    """
    descriptors = [descriptor for descriptor, wanted in ((1, stdout), (2, stderr)) if wanted]
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(descriptor) for descriptor in descriptors]
    except (OSError, ValueError):
        yield
        return
    redirects = []
    if stdout:
        redirects.append(contextlib.redirect_stdout(io.StringIO()))
    if stderr:
        redirects.append(contextlib.redirect_stderr(io.StringIO()))
    with tempfile.TemporaryFile() as sink, contextlib.ExitStack() as stack:
        try:
            for descriptor in descriptors:
                os.dup2(sink.fileno(), descriptor)
            for redirect in redirects:
                stack.enter_context(redirect)
            yield
        finally:
            stack.close()
            sys.stdout.flush()
            sys.stderr.flush()
            for descriptor, copy in zip(descriptors, saved):
                os.dup2(copy, descriptor)
                os.close(copy)
