"""An ahead-of-time C compiler for full-int8 TFLite models: portable C99, bit-exact with TFLite Micro.

    from edgecnn import codegen
    sources = codegen.generate_sources("model.tflite")   # checked, planned, emitted; nothing written yet
    codegen.write_sources(sources, "out/")                # edgecnn_model.h, edgecnn_model.c

The arithmetic is the NumPy interpreter's `micro` flavor (edgecnn.reference), each op emitted by the spec
of edgecnn.codegen.ops.EMITTERS; memory is planned by edgecnn.codegen.planner.
"""

import dataclasses
import pathlib

from edgecnn import artifacts, atomic
from edgecnn.codegen import fusion, planner, writer
from edgecnn.codegen import graph as graph_module
from edgecnn.codegen.ops import EMITTERS
from edgecnn.errors import ConfigurationError

# Ops of the NumPy interpreter that only a model with float tensors has; the full-int8 check refuses them first.
NOT_INT8_OPS = ("DEQUANTIZE",)
HEADER_NAME = "edgecnn_model.h"
TRIAL_ROUNDS = 40  # placement search rounds while fusions are tried; the final plan searches longer
SOURCE_NAME = "edgecnn_model.c"


@dataclasses.dataclass
class CSources:
    """The generated files, name -> text, and the figures of the plan behind them."""

    files: dict
    ops: list
    plan: object  # planner.MemoryPlan of the portable build
    cmsis_plan: object  # the plan of the -DEDGECNN_USE_CMSIS_NN build (its scratch buffers included)
    mve_plan: object  # the same on a CPU with MVE (Cortex-M55), whose CMSIS-NN kernels want other buffers
    constant_bytes: int
    cmsis_layers: list  # op indices CMSIS-NN runs in that build
    op_count: int
    out_dir: pathlib.Path = None

    @property
    def arena_bytes(self):
        return self.plan.arena_bytes

    def memory_lines(self):
        plan = self.plan
        total = plan.arena_bytes + plan.output_bytes
        return [
            f"arena: {plan.arena_bytes} bytes (EDGECNN_ARENA_BYTES), + {plan.output_bytes} bytes of output "
            "in the caller's buffer",
            f"TFLite Micro's greedy arena for the same tensors: {plan.greedy_arena_bytes} bytes "
            f"(edgecnn / TFLite Micro: {total / max(plan.greedy_arena_bytes, 1):.3f})",
            f"lower bound without overlapping tensors (peak of live activation bytes): {plan.peak_live_bytes} "
            f"bytes (edgecnn / peak: {total / max(plan.peak_live_bytes, 1):.3f})",
            f"with -DEDGECNN_USE_CMSIS_NN: arena {self.cmsis_plan.arena_bytes} bytes (CMSIS-NN runs "
            f"{len(self.cmsis_layers)} of the {self.op_count} ops)",
        ]

    def summary(self):
        written = f"wrote {', '.join(sorted(self.files))} to {self.out_dir}" if self.out_dir else "generated"
        return "\n".join(
            [written, f"ops: {', '.join(self.ops)}; constants: {self.constant_bytes} bytes", *self.memory_lines()]
        )


def supported_ops():
    return EMITTERS.names()


def generate_sources(model_path, labels=None):
    """Check, plan and emit C for the model at `model_path` (a path or .tflite bytes)."""
    checked = graph_module.load_graph(model_path, EMITTERS.names())
    portable = _plan_with_fusions(checked)
    codes, constants, used_helpers = writer.emit_layers(checked, EMITTERS, portable.copies)
    plans = {"portable": portable}
    by_index = {code.layer.index: code for code in codes}
    for build in ("dsp", "mve"):
        scratch = {code.layer.index: code.scratch_bytes(build) for code in codes if code.scratch_bytes(build)}
        for pair in portable.fusions:
            # The fused call runs both layers' CMSIS-NN row calls on one buffer.
            scratch.pop(pair.producer.index, None)
            needed = max(by_index[layer.index].scratch_bytes(build) for layer in (pair.producer, pair.consumer))
            scratch[pair.consumer.index] = needed
        own_bytes = [
            code.layer.index for code in codes if code.cmsis is not None and build not in code.cmsis.keeps_overlap
        ]
        plans[build] = _cmsis_plan(checked, codes, scratch, own_bytes, portable.fusions)
    metadata = _metadata(checked)
    if labels is None:
        labels = metadata.labels if metadata is not None else _numeric_labels(checked)
    layout = metadata.preprocessing.layout if metadata is not None else "nhwc"
    model_bytes = (
        bytes(model_path) if isinstance(model_path, (bytes, bytearray)) else pathlib.Path(model_path).read_bytes()
    )
    header, source = writer.generate(
        checked, codes, constants, used_helpers, plans, EMITTERS, labels, model_bytes, layout
    )
    return CSources(
        files={HEADER_NAME: header, SOURCE_NAME: source},
        ops=list(dict.fromkeys(layer.name for layer in checked.layers)),
        plan=portable,
        cmsis_plan=plans["dsp"],
        mve_plan=plans["mve"],
        constant_bytes=constants.total_bytes,
        cmsis_layers=[code.layer.index for code in codes if code.cmsis is not None],
        op_count=len(checked.layers),
    )


def _plan_with_fusions(checked):
    """The portable plan, with the fusions that make its arena smaller: each candidate (largest intermediate
    first) added where it helps, then each dropped again where the arena does not grow without it (a fusion
    keeps its producer's input alive longer), until nothing changes."""

    def arena_with(fusions):
        return planner.plan(checked, EMITTERS, fusions=fusions, rounds=TRIAL_ROUNDS).arena_bytes

    candidates = fusion.candidates(checked)
    chosen, best = [], arena_with([])
    for _ in range(3):
        changed = False
        for candidate in candidates:
            taken = {index for chosen_fusion in chosen for index in _fused_ops(chosen_fusion)}
            if candidate in chosen or set(_fused_ops(candidate)) & taken:
                continue  # an op takes part in one fusion at most
            trial = arena_with([*chosen, candidate])
            if trial < best:
                chosen, best, changed = [*chosen, candidate], trial, True
        for candidate in list(chosen):
            without = [other for other in chosen if other is not candidate]
            trial = arena_with(without)
            if trial <= best:
                chosen, best, changed = without, trial, True
        if not changed:
            break
    return planner.plan(checked, EMITTERS, fusions=chosen)


def _cmsis_plan(checked, codes, scratch, own_bytes, fusions):
    """A CMSIS-NN build's plan. A CMSIS-NN convolution whose output overlaps its input is called once per output
    row, which costs a little time: each overlap that does not make the arena smaller is given up."""

    def plan_with(no_overlap, rounds=planner.SEARCH_ROUNDS):
        return planner.plan(
            checked, EMITTERS, scratch, no_overlap=no_overlap, fusions=fusions, ring_copies=2, rounds=rounds
        )

    no_overlap = list(own_bytes)
    first = plan_with(no_overlap, TRIAL_ROUNDS)
    best = first.arena_bytes
    for code in codes:
        if code.cmsis is None or code.cmsis.whole_lines is None or code.layer.index in no_overlap:
            continue
        if not first.overlapping(code.layer):
            continue  # whole-tensor calls already
        trial = plan_with([*no_overlap, code.layer.index], TRIAL_ROUNDS).arena_bytes
        if trial <= best:
            no_overlap.append(code.layer.index)
    return plan_with(no_overlap)


def _fused_ops(chosen_fusion):
    return chosen_fusion.producer.index, chosen_fusion.consumer.index


def _metadata(checked):
    """The model's edgecnn metadata (labels, preprocessing), or None for a model whose input is no image."""
    try:
        return artifacts.tflite_metadata(checked.model)
    except ConfigurationError:
        return None


def _numeric_labels(checked):
    output_shape = checked.tensors[checked.output_index].shape
    return artifacts.numeric_labels(int(output_shape[-1]) if len(output_shape) else 1)


def write_sources(sources, out_dir):
    """Write the files into `out_dir` (created if needed), each atomically."""
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in sources.files.items():
        atomic.write_text(out_dir / name, text)
    sources.out_dir = out_dir
    return sorted(sources.files)
