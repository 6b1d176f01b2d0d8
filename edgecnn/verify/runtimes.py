"""The runtimes the NumPy interpreter is checked against: one table, from which `verify --against` takes its choices.

litert-ref: TFLite's C++ reference kernels (LiteRT with BUILTIN_REF), every tensor readable.
litert:     LiteRT's default path (XNNPACK and optimized kernels); intermediates that the delegate never writes
            back are detected with a sentinel and left out.
tflm:       TFLite Micro through its Python package, outputs only.
cortex-m4 (and the other CPUs of edgecnn.emulate): TFLite Micro compiled for that CPU, run under QEMU, outputs
            only; only when named with --against (the first run compiles TFLite Micro).

Every runner returns {tensor_index: array (N, ...)}: the batch-1 axis of each tensor replaced by the N images.
"""

import dataclasses
import multiprocessing
import os
import pathlib
import signal
import sys
import tempfile
import warnings

import numpy as np

from edgecnn import extras
from edgecnn.errors import EdgecnnError, RuntimeBackendError, short_reason
from edgecnn.registry import Registry

EVERY_TENSOR = "every tensor"
READABLE_TENSORS = "the tensors its delegate writes back"
OUTPUTS_ONLY = "outputs only"


@dataclasses.dataclass(frozen=True)
class RuntimeOptions:
    """What `verify --tflm-root` and `--engine` tell the emulated runtimes; the others ignore it."""

    tflm_root: str = None
    engine: str = "tflm"


@dataclasses.dataclass(frozen=True)
class RuntimeSpec:
    """One runtime verify compares with: what it needs, what it exposes and how exact it must be."""

    name: str
    description: str
    module: str  # the Python module it needs
    flavor: str  # the NumPy interpreter's flavor it is compared with
    exposes: str  # EVERY_TENSOR, READABLE_TENSORS or OUTPUTS_ONLY
    exact: bool  # the NumPy interpreter must match it bit for bit (else float32 rounding is allowed)
    runner: object = dataclasses.field(repr=False)  # (spec, model_path, output_indices) -> runner
    aliases: tuple = ()
    known_problems: object = dataclasses.field(default=None, repr=False)  # interpreter -> [reason, ...]
    default: bool = True  # part of verify's --against when it is not given

    def missing(self, options=None):
        """None when the runtime's Python package imports, else the reason."""
        try:
            extras.require(self.module, self.description)
        except Exception:  # noqa: BLE001 - a broken install counts as missing, whatever it raises
            return f"{self.module} is not installed"
        return None

    def require(self, options=None):
        """Raise the one-line error of a runtime named with --against that cannot run here."""
        extras.require(self.module, self.description)

    def notes(self, options=None, model=None):
        """What the report should say about how this runtime ran (beyond its description)."""
        return []

    def create_runner(self, model_path, output_indices):
        extras.require(self.module, self.description)
        return self.runner(self, model_path, output_indices)

    def refuses(self, interpreter):
        """None when this runtime can be asked to run the interpreter's model, else why not (op and reason)."""
        problems = self.known_problems(interpreter) if self.known_problems else []
        return "; ".join(problems[:2]) or None

    def run(self, model_path, output_indices, inputs, options=None):
        """{tensor index: (N, ...) array} of this runtime on `inputs`, computed in a child process.

        TFLite Micro and the reference kernels abort the whole process on some models (a softmax input scale
        below 2^-26 fails a check in PreprocessSoftmaxScaling); in a child, that is this runtime's error.
        """
        extras.require(self.module, self.description)
        context = multiprocessing.get_context("spawn")
        with tempfile.TemporaryDirectory(prefix="edgecnn-verify-") as folder:
            folder = pathlib.Path(folder)
            np.savez(folder / "inputs.npz", *inputs)
            child = context.Process(
                target=_run_in_child, args=(self, str(model_path), list(output_indices), str(folder))
            )
            child.start()
            child.join()
            log_tail = _log_tail(folder / "native.log")
            if child.exitcode and child.exitcode < 0:
                name = signal.Signals(-child.exitcode).name
                detail = f": {short_reason(log_tail)}" if log_tail else ""
                raise RuntimeBackendError(f"{self.description} crashed on {model_path} ({name}){detail}")
            error_path = folder / "error.txt"
            if error_path.is_file():
                raise RuntimeBackendError(error_path.read_text(encoding="utf-8"))
            if child.exitcode != 0 or not (folder / "outputs.npz").is_file():
                detail = f": {short_reason(log_tail)}" if log_tail else ""
                raise RuntimeBackendError(f"{self.description} failed on {model_path} (exit {child.exitcode}){detail}")
            with np.load(folder / "outputs.npz") as outputs:
                return {int(key): outputs[key] for key in outputs.files}


def _run_in_child(spec, model_path, output_indices, folder):
    """Child process: run the runtime on the saved inputs; native output goes to a log the parent reads."""
    folder = pathlib.Path(folder)
    log = os.open(folder / "native.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log, 1)
    os.dup2(log, 2)
    with np.load(folder / "inputs.npz") as saved:
        inputs = [saved[f"arr_{position}"] for position in range(len(saved.files))]
    try:
        tensors = spec.create_runner(model_path, output_indices).run(inputs)
    except EdgecnnError as error:
        (folder / "error.txt").write_text(str(error), encoding="utf-8")
        return
    np.savez(folder / "outputs.npz", **{str(index): array for index, array in tensors.items()})


def _log_tail(path, lines=3):
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return " ".join(line.strip() for line in text.strip().splitlines()[-lines:])


# _SENTINEL_SEED: a value pattern written into intermediates before each invoke: a tensor still holding it
# afterwards was not written back by a delegate and cannot be compared.
_SENTINEL_SEED = 20240917


def _first_image(array):
    array = np.asarray(array)
    return array[0] if array.ndim and array.shape[0] == 1 else array


def _as_batch_one(image, shape):
    """An image of the runtime's tensor shape without its batch axis, with the batch axis of 1 restored."""
    return np.ascontiguousarray(np.asarray(image).reshape(shape))


class LiteRTRunner:
    """TFLite (ai_edge_litert) with either the reference kernels or the default optimized path."""

    def __init__(self, spec, model_path, output_indices=None):
        module = extras.require(spec.module)
        self.name = spec.name
        self.optimized = spec.exposes != EVERY_TENSOR
        options = {"experimental_preserve_all_tensors": True}
        if not self.optimized:
            options["experimental_op_resolver_type"] = module.OpResolverType.BUILTIN_REF
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        try:
            with warnings.catch_warnings(), extras.quiet_native_output(stdout=False):
                # preserve_all_tensors warns about memory use; keeping every tensor is the point here.
                warnings.simplefilter("ignore")
                self.interpreter = module.Interpreter(model_path=str(model_path), **options)
                self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise RuntimeBackendError(
                f"TFLite ({self.name}) cannot load {model_path}: {short_reason(error)}"
            ) from error
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
            sentinels = self._fill_sentinels() if self.optimized else {}
            for input_index, batch in zip(self.input_indices, inputs):
                shape = self.details[input_index]["shape"]
                self.interpreter.set_tensor(input_index, _as_batch_one(batch[image_index], shape))
            try:
                self.interpreter.invoke()
            except (ValueError, RuntimeError) as error:
                raise RuntimeBackendError(
                    f"TFLite ({self.name}) failed on image {image_index}: {short_reason(error)}"
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

    def __init__(self, spec, model_path, output_indices):
        runtime = extras.require(spec.module)
        self.name = spec.name
        self.output_indices = list(output_indices)
        try:
            self.interpreter = runtime.Interpreter.from_file(str(model_path))
        except (ValueError, RuntimeError) as error:
            raise RuntimeBackendError(f"TFLite Micro cannot load {model_path}: {short_reason(error)}") from error

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
                raise RuntimeBackendError(
                    f"TFLite Micro failed on image {image_index}: {short_reason(error)}"
                ) from error
            for position in range(len(output_indices)):
                collected[position].append(_first_image(self.interpreter.get_output(position)).copy())
        return {index: np.stack(values) for index, values in zip(output_indices, collected)}


def builtin_ref_problems(interpreter):
    """Ops whose int8 BUILTIN_REF kernel is missing or defective in this LiteRT (edgecnn.reference.support)."""
    from edgecnn.reference import support

    known = {**support.BUILTIN_REF_UNSUPPORTED_OPS, **support.BUILTIN_REF_DEFECTS}
    return [
        f"op {operator.index} ({operator.name}): {known[operator.name]}"
        for operator in interpreter.operators
        if operator.name in known
    ]


def micro_problems(interpreter):
    """Ops the pip TFLite Micro lacks or rejects for this model (edgecnn.reference.support)."""
    from edgecnn.reference import support

    return [f"op {index} ({name}): {reason}" for index, name, reason in support.micro_problems(interpreter)]


@dataclasses.dataclass(frozen=True)
class EmulatedRuntimeSpec(RuntimeSpec):
    """A Cortex-M of edgecnn.emulate: the model's firmware, built (cached) and run under QEMU; the firmware is a
    QEMU process, so a model that makes TFLite Micro abort is that runtime's error, not verify's end."""

    def missing(self, options=None):
        from edgecnn import emulate

        options = options or RuntimeOptions()
        return emulate.unavailable_reason(self.name, options.tflm_root, options.engine)

    def require(self, options=None):
        reason = self.missing(options)
        if reason is not None:
            raise RuntimeBackendError(f"{self.name}: {reason}")

    def notes(self, options=None, model=None):
        """What ran (the engine's own notes: the kernels, and known defects the model's ops hit)."""
        from edgecnn.emulate import ENGINES

        options = options or RuntimeOptions()
        return ENGINES.get(options.engine).notes_for(options.tflm_root, model)

    def run(self, model_path, output_indices, inputs, options=None):
        from edgecnn import emulate

        options = options or RuntimeOptions()
        result = emulate.run_model(model_path, cpu=self.name, inputs=list(inputs), engine=options.engine,
                                   tflm_root=options.tflm_root, count_instructions=False)
        return dict(zip(result.output_indices, result.outputs))


def _emulated_runtimes():
    from edgecnn.emulate.cpus import CPUS

    return [
        EmulatedRuntimeSpec(cpu.name, f"the model's firmware on an emulated {cpu.name} (QEMU)", None, "micro",
                            OUTPUTS_ONLY, True, runner=None, known_problems=micro_problems, default=False)
        for cpu in CPUS
    ]


RUNTIMES = Registry(
    "runtime",
    [
        RuntimeSpec("litert-ref", "TFLite reference kernels (LiteRT, BUILTIN_REF)", "ai_edge_litert.interpreter",
                    "tflite", EVERY_TENSOR, True, LiteRTRunner, aliases=("reference",),
                    known_problems=builtin_ref_problems),
        RuntimeSpec("litert", "TFLite default optimized path (LiteRT, XNNPACK)", "ai_edge_litert.interpreter",
                    "tflite", READABLE_TENSORS, False, LiteRTRunner, aliases=("optimized",)),
        RuntimeSpec("tflm", "TFLite Micro (Python package)", "tflite_micro.python.tflite_micro.runtime",
                    "micro", OUTPUTS_ONLY, True, MicroRunner, aliases=("micro",), known_problems=micro_problems),
        *_emulated_runtimes(),
    ],
)
