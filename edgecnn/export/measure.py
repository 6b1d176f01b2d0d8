"""Measure what TFLite Micro really allocates, with the `tflite-micro` package's RecordingMicroAllocator.

print_allocations() writes to the C stdout, which Python cannot capture in-process; a child process runs the
interpreter and its output is parsed here. Used to check the arena estimate, not to produce it.
"""

import dataclasses
import re
import subprocess
import sys

from edgecnn import extras
from edgecnn.errors import ExternalToolError

_CHILD = """
import sys
from tflite_micro.python.tflite_micro import runtime
interpreter = runtime.Interpreter.from_file(sys.argv[1], arena_size=int(sys.argv[2]))
interpreter.print_allocations()
"""

_LINE = re.compile(r"Arena allocation (total|head|tail) (\d+) bytes")
_RECORD = re.compile(r"'([^']+)' used (\d+) bytes with alignment overhead \(requested (\d+) bytes for (\d+)")


@dataclasses.dataclass
class MeasuredArena:
    total_bytes: int
    head_bytes: int
    tail_bytes: int
    records: dict  # name -> (used bytes, requested bytes, count)


def measure_arena(model_path, arena_size=8 * 1024 * 1024, timeout=120):
    """Run TFLite Micro on `model_path` with an arena of `arena_size` bytes and return its figures."""
    extras.require("tflite_micro", "measuring the TFLite Micro arena")
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(model_path), str(int(arena_size))],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = result.stdout + result.stderr  # MicroPrintf writes to stderr in some builds, stdout in others
    figures = {name: int(value) for name, value in _LINE.findall(output)}
    if result.returncode != 0 or set(figures) != {"total", "head", "tail"}:
        last_line = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ExternalToolError(
            f"TFLite Micro could not allocate {model_path} in {arena_size} bytes: {last_line}"
        )
    records = {
        name: (int(used), int(requested), int(count))
        for name, used, requested, count in _RECORD.findall(output)
    }
    return MeasuredArena(figures["total"], figures["head"], figures["tail"], records)
