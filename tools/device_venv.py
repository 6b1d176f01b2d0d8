"""Build the device-only virtual environment: what a Raspberry Pi image has, and no TensorFlow.

It holds tflite-runtime 2.14 with numpy<2, opencv-python-headless (an older release that still supports
numpy 1.x) and edgecnn installed editable without extras. It is built once and reused while its stamp
(requirements + Python version) matches.

    python tools/device_venv.py [PATH]     # default PATH: .venv-device next to this repository's .venv

The tests call `ensure_device_venv()`; CI can prebuild it with the command above. tflite-runtime has
wheels only for Linux and Python 3.8-3.11, so the venv needs a python3.11 (EDGECNN_DEVICE_PYTHON overrides).
"""

import hashlib
import os
import pathlib
import shutil
import subprocess
import sys

REPOSITORY = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_PATH = REPOSITORY / ".venv-device"
REQUIREMENTS = [
    "tflite-runtime==2.14.0",
    "numpy<2",
    # 4.12 and later need numpy>=2.
    "opencv-python-headless>=4.8,<4.12",
]


def find_python():
    """A Python 3.11 (or 3.8-3.10) interpreter for which tflite-runtime 2.14 has wheels."""
    override = os.environ.get("EDGECNN_DEVICE_PYTHON")
    if override:
        return override
    if (3, 8) <= sys.version_info[:2] <= (3, 11):
        return getattr(sys, "_base_executable", sys.executable)
    for name in ("python3.11", "python3.10", "python3.9"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("tflite-runtime 2.14 needs Python 3.8-3.11; set EDGECNN_DEVICE_PYTHON to one")


def stamp_text(python):
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    digest = hashlib.sha256("\n".join([version, *REQUIREMENTS]).encode()).hexdigest()[:16]
    return f"{digest}\n"


def venv_python(path):
    return pathlib.Path(path) / "bin" / "python"


def ensure_device_venv(path=DEFAULT_PATH, quiet=True):
    """Create or reuse the device venv at `path`; return its python executable."""
    path = pathlib.Path(path)
    python = find_python()
    stamp = path / ".edgecnn-device-stamp"
    expected = stamp_text(python)
    if stamp.is_file() and stamp.read_text() == expected and venv_python(path).exists():
        return venv_python(path)
    if path.exists():
        shutil.rmtree(path)
    subprocess.run([python, "-m", "venv", str(path)], check=True)
    quiet_flag = ["--quiet"] if quiet else []
    subprocess.run(
        [
            str(venv_python(path)),
            "-m",
            "pip",
            "install",
            *quiet_flag,
            "--disable-pip-version-check",
            *REQUIREMENTS,
            "-e",
            str(REPOSITORY),
        ],
        check=True,
    )
    stamp.write_text(expected)
    return venv_python(path)


if __name__ == "__main__":
    target = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH
    print(ensure_device_venv(target, quiet=False))
