import subprocess
import sys

from click.testing import CliRunner

from edgecnn.cli import COMMANDS, main

HEAVY_MODULES = ("tensorflow", "keras", "cv2", "matplotlib")


def modules_loaded_by(code):
    script = f"import sys\n{code}\nprint(' '.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


def test_import_and_help_load_no_heavy_modules():
    assert modules_loaded_by("import edgecnn, edgecnn.cli, edgecnn.data, edgecnn.zoo") == ""
    code = ("from click.testing import CliRunner\nfrom edgecnn.cli import main\n"
            "result = CliRunner().invoke(main, ['--help'])\nassert result.exit_code == 0")
    assert modules_loaded_by(code) == ""


def test_every_listed_command_loads_and_has_help():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output
        sub = CliRunner().invoke(main, [name, "--help"])
        assert sub.exit_code == 0, (name, sub.output)
        assert "Usage:" in sub.output


def test_missing_extra_names_the_pip_extra(tmp_path):
    # Block TensorFlow's import the way a device install lacks it.
    code = (
        "import sys\nsys.modules['tensorflow'] = None\nsys.modules['keras'] = None\n"
        "from edgecnn.cli import main\n"
        f"main(['train', 'lenet5', '--dataset', 'mnist-sample', '--out', {str(tmp_path / 'run')!r}])"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert completed.returncode != 0
    assert completed.stderr.strip() == 'error: tensorflow is not installed for training: pip install "edgecnn[train]"'


def test_console_script_reports_errors_in_one_line():
    completed = subprocess.run([sys.executable, "-m", "edgecnn", "quantize", "nowhere.keras", "--calibration",
                                "mnist-sample", "--out", "x.tflite"], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert completed.stderr == "error: model file not found: nowhere.keras\n"


def test_usage_errors_are_one_error_line_with_exit_code_2(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(b"x" * 64)
    cases = [
        (["bench", str(model), "--threads", "a"], "--threads"),
        (["export", str(model), "--target", "nosuch", "--out", str(tmp_path / "out")], "'nosuch'"),
        (["verify", str(model), "--count", "0"], "--count"),
        (["quantize", "m.keras", "--samples", "-1", "--out", "x.tflite"], "--samples"),
        (["no-such-command"], "no-such-command"),
        (["zoo", "--no-such-option"], "--no-such-option"),
    ]
    for arguments, fragment in cases:
        result = CliRunner().invoke(main, arguments)
        assert result.exit_code == 2, (arguments, result.output)
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], (arguments, result.output)
    assert not (tmp_path / "out").exists()


def test_old_runtime_names_are_accepted_aliases():
    from edgecnn.runtime import BACKENDS
    from edgecnn.verify import RUNTIMES

    assert BACKENDS["reference"] is BACKENDS["numpy"]
    assert [RUNTIMES[name].name for name in ("reference", "optimized", "micro")] == ["litert-ref", "litert", "tflm"]
    assert "litert-ref" in RUNTIMES.choices() and "reference" in RUNTIMES.choices()
