"""Inference backends behind one small interface, each importing its runtime only when it loads.

A backend takes a .tflite file and runs one batch at a time on raw tensors (int8 in, int8 out for a full-int8
model). Quantization, preprocessing and labels live in edgecnn.runtime.model, the same for every backend.
`BACKENDS` is the table of backends users pass to `--backend`, in the order `auto` tries them.
"""

import collections
import importlib

import numpy as np

from edgecnn import extras
from edgecnn.errors import ModelFileError, RuntimeBackendError, short_reason
from edgecnn.registry import Registry

TensorInfo = collections.namedtuple("TensorInfo", "index name shape dtype scale zero_point")


class Backend:
    """One loaded model on one runtime. Subclasses set `name` and implement the loading and `invoke`."""

    name = ""
    aliases = ()
    description = ""
    supports_delegates = False

    def __init__(self, model_path, threads=None, delegates=()):
        self.model_path = str(model_path)
        self.threads = threads
        self.input_details = []
        self.output_details = []

    @classmethod
    def check_available(cls):
        """Return None when this backend can run here, or a sentence saying what is missing and the fix."""
        raise NotImplementedError

    @classmethod
    def load_delegate(cls, library, options):
        raise RuntimeBackendError(f"the {cls.name} backend cannot load delegates such as {library}")

    def invoke(self, input_array):
        """Run one input tensor (already quantized to the input's dtype); return the raw output tensors."""
        raise NotImplementedError


class InterpreterBackend(Backend):
    """Backends built on a TFLite-style Python Interpreter (LiteRT, tflite-runtime, tf.lite)."""

    supports_delegates = True
    module_name = ""

    @classmethod
    def interpreter_module(cls):
        return importlib.import_module(cls.module_name)

    @classmethod
    def check_available(cls):
        try:
            cls.interpreter_module()
        except ImportError as error:
            return f"{cls.module_name} does not import ({error}): {cls.install_hint}"
        return None

    @classmethod
    def load_delegate(cls, library, options):
        return cls.interpreter_module().load_delegate(library, options)

    def __init__(self, model_path, threads=None, delegates=()):
        super().__init__(model_path, threads, delegates)
        module = self.interpreter_module()
        try:
            # The runtime announces its XNNPACK delegate on stderr; failures still arrive as exceptions.
            with extras.quiet_native_output():
                self.interpreter = module.Interpreter(
                    model_path=self.model_path,
                    num_threads=threads,
                    experimental_delegates=list(delegates) or None,
                )
                self.interpreter.allocate_tensors()
        except ValueError as error:
            raise ModelFileError(
                f"{self.model_path}: {self.name} cannot load this model ({short_reason(error)})"
            ) from error
        except RuntimeError as error:
            raise RuntimeBackendError(
                f"{self.model_path}: {self.name} failed to prepare the model ({short_reason(error)})"
            ) from error
        self.input_details = [tensor_info(detail) for detail in self.interpreter.get_input_details()]
        self.output_details = [tensor_info(detail) for detail in self.interpreter.get_output_details()]
        self._input_index = self.input_details[0].index
        self._output_indices = [detail.index for detail in self.output_details]

    def invoke(self, input_array):
        self.interpreter.set_tensor(self._input_index, input_array)
        self.interpreter.invoke()
        return [self.interpreter.get_tensor(index) for index in self._output_indices]


def tensor_info(detail):
    scale, zero_point = detail.get("quantization", (0.0, 0))
    return TensorInfo(
        int(detail["index"]),
        detail["name"],
        tuple(int(value) for value in detail["shape"]),
        np.dtype(detail["dtype"]),
        float(scale),
        int(zero_point),
    )


class LiteRTBackend(InterpreterBackend):
    name = "litert"
    description = "ai-edge-litert (LiteRT), the successor of tflite-runtime"
    module_name = "ai_edge_litert.interpreter"
    install_hint = 'pip install "edgecnn[device]" (ai-edge-litert)'


class TFLiteRuntimeBackend(InterpreterBackend):
    name = "tflite-runtime"
    description = "tflite-runtime 2.14, the standalone runtime many Pi images carry (needs numpy<2)"
    module_name = "tflite_runtime.interpreter"
    install_hint = 'pip install tflite-runtime "numpy<2" (Linux, Python 3.8-3.11)'

    @classmethod
    def check_available(cls):
        missing = super().check_available()
        if missing:
            return missing
        # Compiled against numpy 1.x: with numpy 2 it imports but fails when an Interpreter is created.
        if int(np.__version__.split(".")[0]) >= 2:
            return (
                f"tflite-runtime is installed but numpy is {np.__version__}; it was built for numpy 1.x and "
                'fails with "_ARRAY_API not found": use it in an environment with pip install "numpy<2"'
            )
        return None


class TensorFlowLiteBackend(InterpreterBackend):
    name = "tensorflow"
    description = "tf.lite.Interpreter from a full TensorFlow install"
    install_hint = 'pip install "edgecnn[train]" (tensorflow)'

    @classmethod
    def interpreter_module(cls):
        import os

        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import warnings

        import tensorflow

        # tf.lite.Interpreter warns on every creation that it is deprecated in favour of LiteRT.
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated.*")
        return TensorFlowModule(tensorflow)

    @classmethod
    def check_available(cls):
        import importlib.util

        if importlib.util.find_spec("tensorflow") is None:
            return f"tensorflow is not installed: {cls.install_hint}"
        return None


class TensorFlowModule:
    """tf.lite spelled like the interpreter modules of LiteRT and tflite-runtime."""

    def __init__(self, tensorflow):
        self.Interpreter = tensorflow.lite.Interpreter
        self.load_delegate = tensorflow.lite.experimental.load_delegate


class NumpyBackend(Backend):
    """edgecnn's NumPy interpreter: slow but exact, for debugging a model when the runtimes disagree."""

    name = "numpy"
    aliases = ("reference",)  # its name before verify's runtimes were named: it is not TFLite's BUILTIN_REF
    description = "edgecnn's NumPy int8 interpreter (slow, exact, for debugging)"

    @classmethod
    def check_available(cls):
        return None

    def __init__(self, model_path, threads=None, delegates=()):
        super().__init__(model_path, threads, delegates)
        if delegates:
            raise RuntimeBackendError("the numpy backend runs on the CPU only and cannot use a delegate")
        from edgecnn import reference

        self.interpreter = reference.Interpreter(self.model_path, flavor="tflite")
        self.input_details = [convert_reference_info(detail) for detail in self.interpreter.input_details]
        self.output_details = [convert_reference_info(detail) for detail in self.interpreter.output_details]

    def invoke(self, input_array):
        return [np.asarray(output) for output in self.interpreter.run(input_array).outputs]


def convert_reference_info(detail):
    return TensorInfo(
        int(detail.index),
        str(detail.name),
        tuple(int(value) for value in detail.shape),
        np.dtype(detail.dtype),
        float(detail.scale or 0.0),
        int(detail.zero_point or 0),
    )


# In the order `--backend auto` tries them.
BACKENDS = Registry("backend", [LiteRTBackend, TFLiteRuntimeBackend, TensorFlowLiteBackend, NumpyBackend],
                    error=RuntimeBackendError)
AUTO = "auto"


def choices():
    """What `--backend` accepts: auto, every backend and the old names."""
    return (AUTO, *BACKENDS.choices())


def backend_class(name):
    """The backend class for `name`, or for `auto` the first one that can run here."""
    if name == AUTO:
        reasons = []
        for candidate in BACKENDS:
            missing = candidate.check_available()
            if missing is None:
                return candidate
            reasons.append(f"{candidate.name}: {missing}")
        raise RuntimeBackendError("no inference runtime is usable here; " + "; ".join(reasons))
    candidate = BACKENDS.get(name)
    missing = candidate.check_available()
    if missing:
        raise RuntimeBackendError(f"backend {candidate.name} is not usable: {missing}")
    return candidate
