"""Deployment estimates: what the model needs on each target, measured, and which boards it fits.

Cortex-M figures come from `edgecnn emulate` (the real TFLite Micro built for the CPU and run under qemu: flash,
RAM, arena, instructions per inference); Raspberry Pi and Coral figures from `edgecnn bench --json` files the
user measured on the device. Nothing is estimated from model size or MACs: a target that could not be measured
is shown as not measured, with the reason.

"Fits" compares a board with the measurement of its own core: the firmware's flash and its RAM (which holds the
tensor arena) against the board's. For a board whose core is not emulated, only the model and the arena are
compared (the model's bytes in flash, the arena TFLite Micro used on a measured Cortex-M), and the row says so.
"""

import dataclasses
import json
import pathlib
from typing import Optional

from edgecnn.errors import ConfigurationError, EdgecnnError
from edgecnn.report.boards import BOARDS, KIB

EMULATE_SOURCE = "edgecnn emulate (TFLite Micro on qemu)"
BENCH_SOURCE = "edgecnn bench"
ALL_TARGETS = "all"
BENCH_FIELDS = ("model", "backend", "device", "threads", "model_ms_p50")


@dataclasses.dataclass
class TargetRow:
    """One target's measurements, or why there are none."""

    target: str
    source: str
    measured: bool
    reason: Optional[str] = None
    flash_bytes: Optional[int] = None
    ram_bytes: Optional[int] = None
    arena_used_bytes: Optional[int] = None
    tensor_arena_size: Optional[int] = None
    instructions_per_inference: Optional[int] = None
    kernels: Optional[str] = None
    model: Optional[str] = None
    backend: Optional[str] = None
    device: Optional[str] = None
    threads: Optional[str] = None
    latency_ms_p50: Optional[float] = None
    latency_ms_p95: Optional[float] = None

    def to_dict(self):
        return dataclasses.asdict(self)


def load_emulate():
    """(the edgecnn.emulate module, None) or (None, why it cannot be used)."""
    import importlib

    try:
        return importlib.import_module("edgecnn.emulate"), None
    except ModuleNotFoundError as error:
        if error.name == "edgecnn.emulate":
            return None, "this edgecnn has no emulate stage (edgecnn.emulate is not installed)"
        return None, f"edgecnn emulate cannot load: {error}"
    except ImportError as error:
        return None, f"edgecnn emulate cannot load: {error}"


def resolve_targets(text, emulate_module=None):
    """The CPU names `--targets` asks for ("all": every CPU edgecnn emulate knows), checked when it can be."""
    names = [name.strip() for name in str(text).split(",") if name.strip()]
    if not names:
        raise ConfigurationError("--targets names no CPU")
    emulate, _ = (emulate_module, None) if emulate_module is not None else load_emulate()
    if ALL_TARGETS in names:
        return list(emulate.CPUS.names()) if emulate is not None else [ALL_TARGETS]
    if emulate is not None:
        return [emulate.CPUS.canonical(name) for name in names]  # an unknown CPU fails naming the choices
    return names


def measure_cpus(model_path, cpu_names, tflm_root=None, emulate_module=None):
    """A TargetRow per CPU: measured by edgecnn emulate, or not measured with the one-line reason."""
    emulate, missing = (emulate_module, None) if emulate_module is not None else load_emulate()
    rows = []
    for name in cpu_names:
        label = "Cortex-M (every CPU edgecnn emulate knows)" if name == ALL_TARGETS else name
        reason = missing if emulate is None else emulate.unavailable_reason(name, tflm_root=tflm_root)
        if reason is None:
            try:
                result = emulate.run_model(str(model_path), cpu=name, inputs=None, engine="tflm",
                                           tflm_root=tflm_root).to_dict()
            except EdgecnnError as error:
                reason = " ".join(str(error).split())
        if reason is not None:
            rows.append(TargetRow(label, EMULATE_SOURCE, False, reason=reason))
            continue
        rows.append(TargetRow(
            target=name, source=EMULATE_SOURCE, measured=True,
            flash_bytes=int(result["flash_bytes"]), ram_bytes=int(result["ram_bytes"]),
            arena_used_bytes=int(result["arena_used_bytes"]), tensor_arena_size=int(result["tensor_arena_size"]),
            instructions_per_inference=int(result["instructions_per_inference"]), kernels=result.get("kernels"),
        ))
    return rows


def parse_bench_spec(text):
    """"[LABEL=]FILE.jsonl" -> (label, path); the label defaults to the file's stem."""
    label, separator, path = str(text).partition("=")
    if not separator:
        label, path = pathlib.Path(text).stem, text
    return label.strip(), pathlib.Path(path)


def bench_rows(spec):
    """TargetRows from one `edgecnn bench --json` output file (one JSON object per line)."""
    label, path = parse_bench_spec(spec)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ConfigurationError(f"cannot read --bench file {path}: {error.strerror or error}") from None
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            values = json.loads(line)
        except ValueError:
            values = None
        missing = [field for field in BENCH_FIELDS if not isinstance(values, dict) or field not in values]
        if missing:
            raise ConfigurationError(f"{path} line {number} is not an `edgecnn bench --json` row "
                                     f"(missing {', '.join(missing)})")
        rows.append(TargetRow(
            target=label, source=BENCH_SOURCE, measured=True, model=str(values["model"]),
            backend=str(values["backend"]), device=str(values["device"]), threads=str(values["threads"]),
            latency_ms_p50=float(values["model_ms_p50"]),
            latency_ms_p95=None if values.get("model_ms_p95") is None else float(values["model_ms_p95"]),
        ))
    if not rows:
        raise ConfigurationError(f"--bench file {path} has no rows")
    return rows


def _kib(count):
    return f"{count / KIB:,.1f} KiB"


def board_fits(rows, model_bytes, boards=BOARDS):
    """One dict per board: does the model fit, against which measurement, and by how much."""
    measured = {row.target: row for row in rows if row.measured and row.source == EMULATE_SOURCE}
    unmeasured = {row.target: row for row in rows if not row.measured and row.source == EMULATE_SOURCE}
    results = []
    for board in boards:
        entry = {"board": board.name, "core": board.core, "ram_bytes": board.ram_bytes,
                 "flash_bytes": board.flash_bytes, "notes": board.notes, "measured_on": None}
        row = measured.get(board.cpu) if board.cpu else None
        if row is not None:
            fits_flash, fits_ram = row.flash_bytes <= board.flash_bytes, row.ram_bytes <= board.ram_bytes
            entry.update(measured_on=row.target, fits="yes" if fits_flash and fits_ram else "no", detail=(
                f"flash {_kib(row.flash_bytes)} of {_kib(board.flash_bytes)}, RAM {_kib(row.ram_bytes)} "
                f"(arena {_kib(row.arena_used_bytes)}) of {_kib(board.ram_bytes)}"))
        elif board.cpu is None and measured:
            proxy = next(iter(measured.values()))
            fits = model_bytes <= board.flash_bytes and proxy.arena_used_bytes <= board.ram_bytes
            entry.update(measured_on=proxy.target, fits=f"model + arena only: {'yes' if fits else 'no'}", detail=(
                f"model {_kib(model_bytes)} of {_kib(board.flash_bytes)} flash, arena "
                f"{_kib(proxy.arena_used_bytes)} (measured on {proxy.target}) of {_kib(board.ram_bytes)} RAM; "
                "the runtime's own code and RAM on this core are not measured"))
        else:
            if board.cpu is None:
                reason = "no Cortex-M target was measured (--targets)"
            elif board.cpu in unmeasured or ALL_TARGETS in unmeasured:
                reason = f"{board.cpu} could not be measured (see the targets table)"
            else:
                reason = f"{board.cpu} was not measured (add it to --targets)"
            entry.update(fits="not measured", detail=reason)
        results.append(entry)
    return results


def deployment_section(model_path, targets=None, bench_specs=(), tflm_root=None, emulate_module=None):
    """The report's deployment section: target rows (emulated CPUs, then bench files) and the boards table."""
    rows = []
    if targets:
        rows += measure_cpus(model_path, targets, tflm_root, emulate_module)
    for spec in bench_specs:
        rows += bench_rows(spec)
    model_bytes = pathlib.Path(model_path).stat().st_size
    return {
        "targets": [row.to_dict() for row in rows],
        "boards": board_fits(rows, model_bytes) if targets else [],
        "model_bytes": model_bytes,
    }
