"""Run edgetpu_compiler and read its per-op table.

The compiler is a closed-source x86-64 Linux binary from Coral's apt repository; edgecnn never downloads it.
It writes <stem>_edgetpu.tflite and <stem>_edgetpu.log into --out_dir; the log holds the table
"Operator / Count / Status" that says which ops were mapped to the Edge TPU.
"""

import dataclasses
import pathlib
import platform
import re
import shutil
import subprocess

from edgecnn.errors import ExternalToolError, ModelFileError

COMPILER = "edgetpu_compiler"
INSTALL_STEPS = """\
edgetpu_compiler is not on PATH. It runs on x86-64 Debian/Ubuntu only; install it from Coral's apt repository:
  curl https://packages.cloud.google.com/apt/doc/apt-key.gpg | sudo apt-key add -
  echo "deb https://packages.cloud.google.com/apt coral-edgetpu-stable main" \\
    | sudo tee /etc/apt/sources.list.d/coral-edgetpu.list
  sudo apt-get update && sudo apt-get install edgetpu-compiler
On other machines run it in an x86-64 Linux container or VM.
`edgecnn edgetpu check MODEL` needs no compiler."""

_VERSION = re.compile(r"Edge TPU Compiler version (\S+)")
_TABLE_HEADER = re.compile(r"^\s*Operator\s+Count\s+Status\s*$")
_TABLE_ROW = re.compile(r"^\s*([A-Z][A-Z0-9_:\-]*)\s+(\d+)\s+(\S.*?)\s*$")
_SUMMARY_NUMBERS = {
    "edgetpu_ops": re.compile(r"Number of operations that will run on Edge TPU:\s*(\d+)"),
    "cpu_ops": re.compile(r"Number of operations that will run on CPU:\s*(\d+)"),
    "total_ops": re.compile(r"Total number of operations:\s*(\d+)"),
    "edgetpu_subgraphs": re.compile(r"Number of Edge TPU subgraphs:\s*(\d+)"),
}
MAPPED = "Mapped to Edge TPU"


@dataclasses.dataclass
class OperationRow:
    operator: str
    count: int
    status: str

    @property
    def mapped(self):
        return self.status == MAPPED


@dataclasses.dataclass
class OperationLog:
    """What the compiler's log says: version, the per-op table and the summary counts when present."""

    version: str
    rows: list
    numbers: dict

    @property
    def mapped_count(self):
        return sum(row.count for row in self.rows if row.mapped)

    @property
    def cpu_count(self):
        return sum(row.count for row in self.rows if not row.mapped)

    def to_dict(self):
        return {
            "version": self.version,
            "edgetpu_ops": self.mapped_count,
            "cpu_ops": self.cpu_count,
            "operations": [dataclasses.asdict(row) for row in self.rows],
            **self.numbers,
        }


@dataclasses.dataclass
class CompileResult:
    model_path: pathlib.Path  # the compiled <stem>_edgetpu.tflite
    log_path: object  # the compiler's .log, or None when it wrote none
    arguments: list
    log: OperationLog


def parse_operation_log(text):
    """Parse the compiler's stdout or .log file; rows keep the compiler's order (one op may have several)."""
    version_match = _VERSION.search(text)
    rows = []
    in_table = False
    for line in text.splitlines():
        if _TABLE_HEADER.match(line):
            in_table = True
            continue
        if not in_table or not line.strip():
            continue
        match = _TABLE_ROW.match(line)
        if match is None:
            in_table = False
            continue
        rows.append(OperationRow(operator=match[1], count=int(match[2]), status=match[3]))
    numbers = {}
    for key, pattern in _SUMMARY_NUMBERS.items():
        match = pattern.search(text)
        if match:
            numbers[key] = int(match[1])
    return OperationLog(version=version_match[1] if version_match else None, rows=rows, numbers=numbers)


def find_compiler():
    """The compiler's path, or ExternalToolError with the install steps."""
    path = shutil.which(COMPILER)
    if path is None:
        machine = platform.machine()
        note = (
            ""
            if machine in ("x86_64", "AMD64")
            else f"\nThis machine is {machine}: the compiler cannot run here."
        )
        raise ExternalToolError(INSTALL_STEPS + note)
    return path


def compiler_arguments(compiler, model_path, out_dir, min_runtime_version=None):
    """The exact command line: output directory, the per-op table on stdout, then the model."""
    arguments = [compiler, "--out_dir", str(out_dir), "--show_operations"]
    if min_runtime_version is not None:
        arguments += ["--min_runtime_version", str(int(min_runtime_version))]
    return arguments + [str(model_path)]


def compile_model(model_path, out_dir=None, min_runtime_version=None, timeout=600):
    """Compile `model_path` for the Edge TPU into `out_dir` (default: beside the model)."""
    model_path = pathlib.Path(model_path)
    if not model_path.is_file():
        raise ModelFileError(f"model file not found: {model_path}")
    out_dir = pathlib.Path(out_dir) if out_dir is not None else model_path.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    arguments = compiler_arguments(find_compiler(), model_path, out_dir, min_runtime_version)
    try:
        result = subprocess.run(arguments, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ExternalToolError(f"{COMPILER} did not finish within {timeout} s on {model_path}") from None
    except OSError as error:
        raise ExternalToolError(f"cannot run {arguments[0]}: {error.strerror or error}") from None
    output = result.stdout + result.stderr
    if result.returncode != 0:
        last_lines = " | ".join(output.strip().splitlines()[-3:]) or "no output"
        raise ExternalToolError(f"{COMPILER} failed on {model_path} (exit {result.returncode}): {last_lines}")
    compiled = out_dir / f"{model_path.stem}_edgetpu.tflite"
    if not compiled.is_file():
        raise ExternalToolError(f"{COMPILER} reported success but wrote no {compiled}")
    log_path = out_dir / f"{model_path.stem}_edgetpu.log"
    log_text = log_path.read_text(errors="replace") if log_path.is_file() else output
    log = parse_operation_log(log_text)
    if not log.rows:
        log = parse_operation_log(output)
    for key, value in parse_operation_log(output).numbers.items():
        log.numbers.setdefault(key, value)
    return CompileResult(
        model_path=compiled,
        log_path=log_path if log_path.is_file() else None,
        arguments=arguments,
        log=log,
    )
