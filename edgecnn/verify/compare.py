"""Compare the NumPy int8 interpreter tensor by tensor with TFLite's kernels and TFLite Micro.

`verify_model` runs everything and returns a VerifyReport; text.format_report and `to_dict` render it.
A tensor's verdict is "bit-exact", "within 1 LSB" (what optimized kernels that requantize in float32 give) or
"mismatch". The NumPy interpreter must be bit-exact with the reference kernels and with TFLite Micro.
"""

import dataclasses

import numpy as np

from edgecnn.errors import (
    ConfigurationError,
    EdgecnnError,
    ModelFileError,
    RuntimeBackendError,
    UnsupportedModelError,
    short_reason,
)
from edgecnn.tflite import memory
from edgecnn.verify.runtimes import OUTPUTS_ONLY, RUNTIMES, RuntimeOptions

BIT_EXACT = "bit-exact"
WITHIN_ONE = "within 1 LSB"
MISMATCH = "mismatch"
VERDICT_ORDER = (BIT_EXACT, WITHIN_ONE, MISMATCH)


def verdict_for(max_abs_diff):
    if max_abs_diff == 0:
        return BIT_EXACT
    return WITHIN_ONE if max_abs_diff <= 1 else MISMATCH


def worst_verdict(verdicts):
    return max(verdicts, key=VERDICT_ORDER.index, default=BIT_EXACT)


@dataclasses.dataclass
class TensorComparison:
    """One tensor of the NumPy interpreter against the same tensor of a runtime, over all images."""

    op_index: int
    op_name: str
    tensor_index: int
    tensor_name: str
    shape: list
    elements: int
    differing: int
    max_abs_diff: int
    verdict: str

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass
class RuntimeComparison:
    """Every comparable tensor against one runtime."""

    runtime: str
    description: str
    flavor: str
    isolated: bool
    rows: list
    notes: list = dataclasses.field(default_factory=list)

    @property
    def mismatched_elements(self):
        return sum(row.differing for row in self.rows)

    @property
    def verdict(self):
        return worst_verdict(row.verdict for row in self.rows)

    @property
    def max_abs_diff(self):
        return max((row.max_abs_diff for row in self.rows), default=0)

    def to_dict(self):
        return {
            "mismatched_elements": self.mismatched_elements,
            "tensors": len(self.rows),
            "max_abs_diff": self.max_abs_diff,
            "verdict": self.verdict,
            "description": self.description,
            "interpreter_flavor": self.flavor,
            "isolated": self.isolated,
            "notes": list(self.notes),
            "rows": [row.to_dict() for row in self.rows],
        }


@dataclasses.dataclass
class VerifyReport:
    model: str
    inputs: str
    image_count: int
    comparisons: dict
    skipped: dict
    memory: dict
    keras: list = None
    keras_notes: list = dataclasses.field(default_factory=list)

    @property
    def exact_runtimes(self):
        """The compared runtimes the NumPy interpreter must match exactly (not those with float32 rounding)."""
        return [name for name in self.comparisons if RUNTIMES.get(name).exact]

    @property
    def exact(self):
        """True when the NumPy interpreter is bit-exact with every compared runtime it must match exactly."""
        return all(self.comparisons[name].mismatched_elements == 0 for name in self.exact_runtimes)

    def to_dict(self):
        result = {name: comparison.to_dict() for name, comparison in self.comparisons.items()}
        result.update(
            {
                "model": self.model,
                "inputs": self.inputs,
                "images": self.image_count,
                "bit_exact": self.exact,
                "skipped_runtimes": dict(self.skipped),
                "memory": self.memory,
            }
        )
        if self.keras is not None:
            result["keras"] = {"layers": [dict(row) for row in self.keras], "notes": list(self.keras_notes)}
        return result


def compare_arrays(ours, theirs, where):
    """(differing elements, max |diff|) of two int arrays holding the same values for N images."""
    ours = np.asarray(ours)
    theirs = np.asarray(theirs)
    if ours.size != theirs.size:
        raise UnsupportedModelError(
            f"{where}: the NumPy interpreter gives {ours.shape}, the runtime {theirs.shape}"
        )
    difference = np.abs(ours.reshape(-1).astype(np.int64) - theirs.reshape(-1).astype(np.int64))
    return int(np.count_nonzero(difference)), int(difference.max(initial=0))


def resolve_runtimes(against, options=None):
    """(runtime specs to run, {skipped runtime: reason}). `against` None means every installed runtime of the
    default set (the emulated CPUs run only when named: they compile)."""
    if against is None:
        chosen, skipped = [], {}
        for spec in RUNTIMES:
            if not spec.default:
                continue
            missing = spec.missing(options)
            if missing is None:
                chosen.append(spec)
            else:
                skipped[spec.name] = missing
        return chosen, skipped
    chosen = []
    for name in against:
        spec = RUNTIMES.get(name)
        if spec not in chosen:
            chosen.append(spec)
    if not chosen:
        raise ConfigurationError("--against names no runtime")
    for spec in chosen:
        spec.require(options)  # named explicitly: missing is an error
    return chosen, {}


def load_interpreter(model_source, flavor):
    """The NumPy interpreter of `flavor` ("tflite" or "micro") on a model path or bytes.

    It parses and checks the whole model first, so no runtime ever sees a corrupt or unsupported file.
    """
    from edgecnn.reference import Interpreter

    return Interpreter(model_source, flavor=flavor)


def _tensor_info(interpreter):
    return {info.index: info for info in interpreter.tensor_details}


def _row(interpreter, operator, tensor_index, ours, theirs):
    info = _tensor_info(interpreter)[tensor_index]
    where = f"op {operator.index} ({operator.name}) tensor {tensor_index} ({info.name})"
    differing, max_abs_diff = compare_arrays(ours, theirs, where)
    return TensorComparison(
        op_index=operator.index,
        op_name=operator.name,
        tensor_index=tensor_index,
        tensor_name=info.name,
        shape=[int(value) for value in info.shape],
        elements=int(np.asarray(theirs).size),
        differing=differing,
        max_abs_diff=max_abs_diff,
        verdict=verdict_for(max_abs_diff),
    )


def compare_end_to_end(interpreter, our_tensors, their_tensors):
    """Rows for every op output both sides expose, in op order."""
    rows = []
    for operator in interpreter.operators:
        for tensor_index in operator.outputs:
            if tensor_index in their_tensors and tensor_index in our_tensors:
                rows.append(
                    _row(
                        interpreter,
                        operator,
                        tensor_index,
                        our_tensors[tensor_index],
                        their_tensors[tensor_index],
                    )
                )
    return rows


def compare_isolated(interpreter, their_tensors, inputs_by_index):
    """Rows for each op run alone on the runtime's own inputs: a difference stays at the op causing it."""
    info = _tensor_info(interpreter)
    rows, notes = [], []
    for operator in interpreter.operators:
        arrays = []
        for tensor_index in operator.inputs:
            if tensor_index < 0:
                arrays.append(None)
            elif info[tensor_index].is_constant:
                arrays.append(None)
            elif tensor_index in their_tensors:
                arrays.append(their_tensors[tensor_index])
            elif tensor_index in inputs_by_index:
                arrays.append(inputs_by_index[tensor_index])
            else:
                notes.append(
                    f"op {operator.index} ({operator.name}): input tensor {tensor_index} not readable"
                )
                arrays = None
                break
        if arrays is None:
            continue
        outputs = interpreter.run_operator(operator.index, arrays)
        for tensor_index, ours in zip(operator.outputs, outputs):
            if tensor_index in their_tensors:
                rows.append(_row(interpreter, operator, tensor_index, ours, their_tensors[tensor_index]))
    return rows, notes


def _run_numpy(interpreter, inputs):
    try:
        return interpreter.run(inputs.quantized, keep_intermediates=True)
    except EdgecnnError:
        raise
    except (ValueError, TypeError) as error:
        raise UnsupportedModelError(f"the NumPy interpreter cannot run these inputs: {error}") from error


def compare_with_runtime(spec, model_path, interpreter, run, inputs, isolate, options=None):
    """Run one runtime on the inputs and compare it with the NumPy interpreter's run of the same flavor."""
    output_indices = [info.index for info in interpreter.output_details]
    notes = list(spec.notes(options, interpreter.model))
    their_tensors = spec.run(model_path, output_indices, inputs.quantized, options)
    computed = {index for operator in interpreter.operators for index in operator.outputs}
    unreadable = len(computed - set(their_tensors))
    outputs_only = spec.exposes == OUTPUTS_ONLY
    if outputs_only:
        notes.append(f"{spec.description} exposes outputs only")
    elif not isolate and not spec.exact:
        notes.append("end to end, 1-LSB differences can grow downstream; --isolate shows each op's own")
    if not outputs_only and unreadable:
        notes.append(
            f"{unreadable} intermediate tensors are not readable from this runtime (kept in its delegate)"
        )
    inputs_by_index = {info.index: array for info, array in zip(interpreter.input_details, inputs.quantized)}
    if isolate and not outputs_only:
        rows, isolate_notes = compare_isolated(interpreter, their_tensors, inputs_by_index)
        notes.extend(isolate_notes)
    else:
        if isolate:
            notes.append("--isolate needs intermediate tensors; compared end to end")
        rows = compare_end_to_end(interpreter, run.tensors, their_tensors)
    return RuntimeComparison(
        runtime=spec.name,
        description=spec.description,
        flavor=interpreter.flavor,
        isolated=bool(isolate and not outputs_only),
        rows=rows,
        notes=notes,
    )


def memory_summary(interpreter):
    """Tensor lifetimes, the peak of live activation bytes and the arena a greedy planner needs."""
    plan = memory.plan_memory(interpreter.subgraph, interpreter.lifetimes())
    lifetimes = [
        {
            "tensor_index": int(tensor.index),
            "tensor": tensor.name,
            "bytes": int(tensor.size),
            "first_op": int(tensor.first_op),
            "last_op": int(tensor.last_op),
        }
        for tensor in sorted(plan.tensors, key=lambda tensor: (tensor.first_op, tensor.last_op))
    ]
    return {
        "peak_live_bytes": int(plan.peak_live_bytes),
        "greedy_arena_bytes": int(plan.greedy_arena_bytes),
        "lifetimes": lifetimes,
    }


def verify_model(model_path, inputs, against=None, isolate=False, keras_path=None, interpreters=None,
                 tflm_root=None, engine="tflm"):
    """Compare the NumPy interpreter with each runtime in `against` (None: all installed) on `inputs`.

    `interpreters` maps flavor ("tflite", "micro") to an Interpreter already loaded on the model; missing ones
    are built. `tflm_root` and `engine` are for the emulated CPUs (edgecnn.emulate).
    """
    interpreters = dict(interpreters or {})
    interpreter = interpreters.get("tflite") or load_interpreter(str(model_path), "tflite")
    interpreters["tflite"] = interpreter
    options = RuntimeOptions(tflm_root=tflm_root, engine=engine)
    runtimes, skipped = resolve_runtimes(against, options)
    runs = {}
    comparisons = {}
    for spec in runtimes:
        try:
            refusal = spec.refuses(interpreter)
            if refusal is not None:
                raise RuntimeBackendError(refusal)
            if spec.flavor not in interpreters:
                interpreters[spec.flavor] = load_interpreter(str(model_path), spec.flavor)
            if spec.flavor not in runs:
                runs[spec.flavor] = _run_numpy(interpreters[spec.flavor], inputs)
            comparisons[spec.name] = compare_with_runtime(
                spec, model_path, interpreters[spec.flavor], runs[spec.flavor], inputs, isolate, options
            )
        except (RuntimeBackendError, ModelFileError) as error:
            if against is not None:  # named explicitly: a runtime that cannot run is an error
                raise
            skipped[spec.name] = short_reason(str(error), 200)
    keras_rows, keras_notes = None, []
    if keras_path is not None:
        from edgecnn.verify import keras_layers

        run = runs.get("tflite") or _run_numpy(interpreter, inputs)
        keras_rows, keras_notes = keras_layers.compare_with_keras(interpreter, run, keras_path, inputs.floats)
    return VerifyReport(
        model=str(model_path),
        inputs=inputs.description,
        image_count=inputs.count,
        comparisons=comparisons,
        skipped=skipped,
        memory=memory_summary(interpreter),
        keras=keras_rows,
        keras_notes=keras_notes,
    )
