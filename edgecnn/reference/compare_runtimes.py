"""The runtimes the NumPy interpreter is checked against, each run one image at a time.

reference: TFLite's C++ reference kernels (BUILTIN_REF), every tensor readable.
optimized: TFLite's default path (XNNPACK and optimized kernels); intermediates that the delegate never writes
           back are detected with a sentinel and left out.
micro:     TFLite Micro, outputs only.

Every runner returns {tensor_index: array (N, ...)}: the batch-1 axis of each tensor replaced by the N images.
"""

import contextlib
import os
import sys
import warnings

import numpy as np

from edgecnn import extras
from edgecnn.errors import RuntimeBackendError

RUNTIME_NAMES = ("reference", "optimized", "micro")

# runtime name -> (module it needs, interpreter flavor of the NumPy interpreter it is compared with)
RUNTIME_MODULES = {
    "reference": "ai_edge_litert.interpreter",
    "optimized": "ai_edge_litert.interpreter",
    "micro": "tflite_micro.python.tflite_micro.runtime",
}
RUNTIME_FLAVORS = {"reference": "tflite", "optimized": "tflite", "micro": "micro"}
RUNTIME_DESCRIPTIONS = {
    "reference": "TFLite reference kernels (BUILTIN_REF)",
    "optimized": "TFLite default optimized path (XNNPACK)",
    "micro": "TFLite Micro",
}

# A value pattern written into intermediates before each invoke: a tensor still holding it afterwards was not
# written back by a delegate and cannot be compared.
_SENTINEL_SEED = 20240917


def is_installed(runtime_name):
    """Whether the Python package behind `runtime_name` imports."""
    try:
        extras.require(RUNTIME_MODULES[runtime_name])
    except Exception:  # noqa: BLE001 - a broken install counts as missing, whatever it raises
        return False
    return True


def require_runtime(runtime_name):
    """Import the runtime's module, or raise MissingExtraError naming the pip extra."""
    return extras.require(RUNTIME_MODULES[runtime_name], RUNTIME_DESCRIPTIONS[runtime_name])


def create_runner(runtime_name, model_path, output_indices):
    """A runner for `runtime_name` on `model_path` (output indices for the runtime that hides them)."""
    if runtime_name == "micro":
        return MicroRunner(model_path, output_indices)
    return LiteRTRunner(model_path, optimized=runtime_name == "optimized")


@contextlib.contextmanager
def quiet_native_stderr():
    """Silence C++ start-up chatter (XNNPACK delegate created); errors still come back as exceptions."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _first_image(array):
    array = np.asarray(array)
    return array[0] if array.ndim and array.shape[0] == 1 else array


def _as_batch_one(image, shape):
    """An image of the runtime's tensor shape without its batch axis, with the batch axis of 1 restored."""
    return np.ascontiguousarray(np.asarray(image).reshape(shape))


class LiteRTRunner:
    """TFLite (ai_edge_litert) with either the reference kernels or the default optimized path."""

    def __init__(self, model_path, optimized=False):
        module = require_runtime("optimized" if optimized else "reference")
        self.name = "optimized" if optimized else "reference"
        options = {"experimental_preserve_all_tensors": True}
        if not optimized:
            options["experimental_op_resolver_type"] = module.OpResolverType.BUILTIN_REF
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        try:
            with warnings.catch_warnings(), quiet_native_stderr():
                # preserve_all_tensors warns about memory use; keeping every tensor is the point here.
                warnings.simplefilter("ignore")
                self.interpreter = module.Interpreter(model_path=str(model_path), **options)
                self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise RuntimeBackendError(f"TFLite ({self.name}) cannot load {model_path}: {error}") from error
        self.input_indices = [detail["index"] for detail in self.interpreter.get_input_details()]
        self.output_indices = [detail["index"] for detail in self.interpreter.get_output_details()]
        self.details = {detail["index"]: detail for detail in self.interpreter.get_tensor_details()}
        self.computed_indices = self._computed_tensor_indices()

    def _computed_tensor_indices(self):
        produced = set()
        for operator in self.interpreter._get_ops_details():
            produced.update(int(index) for index in operator["outputs"] if index >= 0)
        return sorted(produced)

    def _fill_sentinels(self):
        sentinels = {}
        random = np.random.default_rng(_SENTINEL_SEED)
        for index in self.computed_indices:
            if index in self.output_indices:
                continue
            detail = self.details[index]
            if detail["dtype"] not in (np.int8, np.uint8, np.int16, np.int32):
                continue
            info = np.iinfo(detail["dtype"])
            pattern = random.integers(info.min, info.max, size=detail["shape"], endpoint=True).astype(
                detail["dtype"]
            )
            try:
                self.interpreter.set_tensor(index, pattern)
            except ValueError:
                continue
            sentinels[index] = pattern
        return sentinels

    def run(self, inputs):
        """Run every image; return {tensor_index: (N, ...) array} for the tensors this runtime exposes."""
        count = len(inputs[0])
        collected = {index: [] for index in self.computed_indices}
        unreadable = set()
        for image_index in range(count):
            sentinels = self._fill_sentinels() if self.name == "optimized" else {}
            for input_index, batch in zip(self.input_indices, inputs):
                shape = self.details[input_index]["shape"]
                self.interpreter.set_tensor(input_index, _as_batch_one(batch[image_index], shape))
            try:
                self.interpreter.invoke()
            except (ValueError, RuntimeError) as error:
                raise RuntimeBackendError(
                    f"TFLite ({self.name}) failed on image {image_index}: {error}"
                ) from error
            for index in self.computed_indices:
                if index in unreadable:
                    continue
                try:
                    value = self.interpreter.get_tensor(index)
                except ValueError:
                    unreadable.add(index)
                    continue
                if index in sentinels and np.array_equal(value, sentinels[index]):
                    unreadable.add(index)
                    continue
                collected[index].append(_first_image(value).copy())
        return {index: np.stack(values) for index, values in collected.items() if index not in unreadable}


class MicroRunner:
    """TFLite Micro through its Python wrapper: outputs only."""

    name = "micro"

    def __init__(self, model_path, output_indices):
        runtime = require_runtime("micro")
        self.output_indices = list(output_indices)
        try:
            self.interpreter = runtime.Interpreter.from_file(str(model_path))
        except (ValueError, RuntimeError) as error:
            raise RuntimeBackendError(f"TFLite Micro cannot load {model_path}: {error}") from error

    def run(self, inputs):
        """Run every image; return {output tensor index: (N, ...) array}."""
        output_indices = self.output_indices
        count = len(inputs[0])
        collected = [[] for _ in output_indices]
        for image_index in range(count):
            for position, batch in enumerate(inputs):
                shape = self.interpreter.get_input_details(position)["shape"]
                self.interpreter.set_input(_as_batch_one(batch[image_index], shape), position)
            try:
                self.interpreter.invoke()
            except (ValueError, RuntimeError) as error:
                raise RuntimeBackendError(f"TFLite Micro failed on image {image_index}: {error}") from error
            for position in range(len(output_indices)):
                collected[position].append(_first_image(self.interpreter.get_output(position)).copy())
        return {index: np.stack(values) for index, values in zip(output_indices, collected)}
