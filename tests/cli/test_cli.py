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
