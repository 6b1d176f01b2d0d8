"""`edgecnn edgetpu compile`: the log parser on recorded output, the command with a stand-in compiler."""

import json
import os
import pathlib
import sys

import pytest
from click.testing import CliRunner

from edgecnn.cli import main
from edgecnn.errors import ExternalToolError
from edgecnn.export import edgetpu_compile

DATA = pathlib.Path(__file__).parent / "data"

# A stand-in for edgetpu_compiler: records its argument list, then writes what the real one writes into
# --out_dir (<stem>_edgetpu.tflite and <stem>_edgetpu.log) and prints a summary on stdout.
STANDIN_COMPILER = """#!{python}
import json, pathlib, shutil, sys
arguments = sys.argv[1:]
pathlib.Path({record!r}).write_text(json.dumps(arguments))
if {fail!r}:
    print("Edge TPU Compiler version 16.0.384591198")
    print("Internal compiler error. Aborting!", file=sys.stderr)
    sys.exit(1)
out_dir = pathlib.Path(arguments[arguments.index("--out_dir") + 1])
model = pathlib.Path(arguments[-1])
shutil.copyfile(model, out_dir / (model.stem + "_edgetpu.tflite"))
shutil.copyfile({log!r}, out_dir / (model.stem + "_edgetpu.log"))
print("Edge TPU Compiler version 16.0.384591198")
print("Number of Edge TPU subgraphs: 1")
print("Total number of operations: 8")
"""


def install_standin(folder, fail=False):
    """Put an executable named edgetpu_compiler into `folder` and return the file its arguments go to."""
    record = folder / "arguments.json"
    script = folder / "edgetpu_compiler"
    script.write_text(
        STANDIN_COMPILER.format(
            python=sys.executable,
            record=str(record),
            log=str(DATA / "edgetpu_compiler_sin_model.log"),
            fail=fail,
        )
    )
    script.chmod(0o755)
    return record


@pytest.fixture
def standin_on_path(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


@pytest.fixture
def model_file(tmp_path):
    # The compiler stand-in only copies the file; a real TFLite header keeps the output a plausible model.
    path = tmp_path / "models" / "sin_in_the_middle.tflite"
    path.parent.mkdir()
    path.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(64))
    return path


def test_parse_recorded_stdout_of_a_partly_mapped_model():
    log = edgetpu_compile.parse_operation_log((DATA / "edgetpu_compiler_issue490_stdout.txt").read_text())
    assert log.version == "16.0.384591198"
    assert [(row.operator, row.count) for row in log.rows] == [
        ("DEQUANTIZE", 2),
        ("DEPTHWISE_CONV_2D", 80),
        ("LOGISTIC", 1),
        ("CONCATENATION", 1),
        ("CONCATENATION", 1),
        ("CUSTOM", 1),
    ]
    assert (
        log.rows[2].status
        == "Operation is otherwise supported, but not mapped due to some unspecified limitation"
    )
    assert [row.mapped for row in log.rows] == [False, True, False, True, False, False]
    assert log.numbers == {"edgetpu_ops": 261, "cpu_ops": 6, "total_ops": 267, "edgetpu_subgraphs": 1}
    # The table stops at the first line that is not a row ("Compilation child process completed ...").
    assert (log.mapped_count, log.cpu_count) == (81, 5)


def test_parse_recorded_log_file():
    log = edgetpu_compile.parse_operation_log((DATA / "edgetpu_compiler_sin_model.log").read_text())
    assert [row.operator for row in log.rows if row.mapped] == ["CONV_2D"]
    assert log.cpu_count == 7 and log.numbers == {}


def test_compile_runs_the_compiler_with_the_exact_arguments(standin_on_path, model_file, tmp_path):
    record = install_standin(standin_on_path)
    out_dir = tmp_path / "compiled"
    result = edgetpu_compile.compile_model(model_file, out_dir, min_runtime_version=14)
    assert json.loads(record.read_text()) == [
        "--out_dir",
        str(out_dir),
        "--show_operations",
        "--min_runtime_version",
        "14",
        str(model_file),
    ]
    assert result.arguments[0] == str(standin_on_path / "edgetpu_compiler")
    assert result.model_path == out_dir / "sin_in_the_middle_edgetpu.tflite" and result.model_path.is_file()
    assert result.log_path == out_dir / "sin_in_the_middle_edgetpu.log"
    assert (result.log.mapped_count, result.log.cpu_count) == (1, 7)
    assert result.log.numbers == {"total_ops": 8, "edgetpu_subgraphs": 1}  # from stdout, not in the .log


def test_cli_compile_prints_the_table_and_exits_1_when_ops_stay_on_the_cpu(
    standin_on_path, model_file, tmp_path
):
    record = install_standin(standin_on_path)
    result = CliRunner().invoke(main, ["edgetpu", "compile", str(model_file), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1, result.output
    assert json.loads(record.read_text()) == [
        "--out_dir",
        str(tmp_path / "o"),
        "--show_operations",
        str(model_file),
    ]
    assert "SIN" in result.output and "1 ops on the Edge TPU, 7 on the CPU" in result.output
    result = CliRunner().invoke(main, ["edgetpu", "compile", str(model_file), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["model"] == str(model_file.parent / "sin_in_the_middle_edgetpu.tflite")
    assert report["operations"][3] == {"operator": "SIN", "count": 1, "status": "Operation not supported"}


def test_compiler_failure_is_an_external_tool_error(standin_on_path, model_file, tmp_path):
    install_standin(standin_on_path, fail=True)
    with pytest.raises(ExternalToolError, match=r"failed on .*exit 1.*Internal compiler error"):
        edgetpu_compile.compile_model(model_file, tmp_path / "o")


def test_missing_compiler_gives_the_install_steps(monkeypatch, model_file, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = CliRunner().invoke(main, ["edgetpu", "compile", str(model_file)])
    assert result.exit_code == 2
    assert "edgetpu_compiler is not on PATH" in result.output
    assert "deb https://packages.cloud.google.com/apt coral-edgetpu-stable main" in result.output
    assert "sudo apt-get install edgetpu-compiler" in result.output
