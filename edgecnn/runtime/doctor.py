"""What this machine has for edge work, one check per line, each with the fix when something is missing.

Checks never raise: a broken install is exactly what `edgecnn doctor` is for.
"""

import dataclasses
import glob
import importlib
import importlib.util
import platform
import sys

from edgecnn.runtime import backends, delegate


@dataclasses.dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self):
        status = "ok" if self.ok else "missing"
        text = f"{status:8}{self.name}: {self.detail}"
        if not self.ok and self.fix:
            text += f"\n{'':8}fix: {self.fix}"
        return text


def module_version(name):
    module = importlib.import_module(name)
    return getattr(module, "__version__", "installed")


def check_python():
    version = platform.python_version()
    ok = sys.version_info >= (3, 9)
    return Check(
        "python",
        ok,
        f"{version} ({platform.machine()}, {platform.system()})",
        "edgecnn needs Python 3.9 or newer",
    )


def check_numpy():
    import numpy

    major = int(numpy.__version__.split(".")[0])
    note = " (numpy 2: tflite-runtime 2.14 will not work here; ai-edge-litert does)" if major >= 2 else ""
    return Check("numpy", True, numpy.__version__ + note)


def check_runtime(name):
    backend = backends.BACKENDS.get(name)
    missing = backend.check_available()
    if missing is None:
        version = ""
        if name == "litert":
            version = version_of_distribution("ai-edge-litert")
        elif name == "tflite-runtime":
            version = version_of_distribution("tflite-runtime")
        return Check(f"runtime {name}", True, f"{backend.description} {version}".strip())
    return Check(f"runtime {name}", False, missing.split(":")[0], missing.partition(": ")[2] or missing)


def version_of_distribution(name):
    try:
        from importlib import metadata

        return metadata.version(name)
    except Exception:  # metadata lookups fail in odd ways on vendored installs
        return ""


def check_tensorflow():
    if importlib.util.find_spec("tensorflow") is None:
        return Check(
            "tensorflow",
            False,
            "not installed (only needed to train and quantize, not on the device)",
            'pip install "edgecnn[train]" on the machine that trains',
        )
    return Check(
        "tensorflow", True, f"{version_of_distribution('tensorflow') or 'installed'} (train and quantize)"
    )


def check_edgetpu_library():
    try:
        library = delegate.edgetpu_library_name()
    except Exception as error:  # unsupported platform
        return Check("libedgetpu", False, str(error))
    problem = delegate.library_loadable(library)
    if problem is None:
        return Check("libedgetpu", True, f"{library} loads")
    return Check("libedgetpu", False, f"{library} not loadable ({problem})", delegate.INSTALL_HINT)


def edgetpu_devices():
    """Coral devices visible without opening them: PCIe /dev/apex_*, USB by vendor:product id."""
    found = [f"pci {path}" for path in sorted(glob.glob("/dev/apex_*"))]
    for vendor_file in sorted(glob.glob("/sys/bus/usb/devices/*/idVendor")):
        try:
            with open(vendor_file) as handle:
                vendor = handle.read().strip()
            with open(vendor_file.replace("idVendor", "idProduct")) as handle:
                product = handle.read().strip()
        except OSError:
            continue
        if (vendor, product) in (("1a6e", "089a"), ("18d1", "9302")):
            found.append(f"usb {vendor}:{product}")
    return found


def check_edgetpu_devices():
    devices = edgetpu_devices()
    if devices:
        return Check("edge tpu devices", True, ", ".join(devices))
    return Check(
        "edge tpu devices",
        False,
        "none found (no /dev/apex_*, no USB 1a6e:089a or 18d1:9302)",
        "plug in a Coral USB Accelerator (USB 3 port) or install the PCIe driver (gasket-dkms)",
    )


def check_cameras():
    devices = sorted(glob.glob("/dev/video*"))
    if devices:
        return Check("cameras", True, ", ".join(devices))
    return Check(
        "cameras",
        False,
        "no /dev/video* devices",
        "plug in a USB camera; on a Pi use --source picam (picamera2)",
    )


def check_picamera2():
    if importlib.util.find_spec("picamera2") is not None:
        return Check("picamera2", True, "importable (use --source picam)")
    return Check(
        "picamera2",
        False,
        "not importable (needed only for Raspberry Pi camera modules)",
        "sudo apt install python3-picamera2 and create the venv with --system-site-packages",
    )


def check_opencv():
    try:
        cv2 = importlib.import_module("cv2")
    except ImportError:
        return [
            Check(
                "opencv",
                False,
                "not installed (needed for cameras, streams and video)",
                'pip install "edgecnn[device]" (opencv-python-headless)',
            )
        ]
    info = cv2.getBuildInformation()
    checks = [Check("opencv", True, cv2.__version__)]
    for feature, fix in (
        ("FFMPEG", "streams and video files need an OpenCV built with FFmpeg (the pip wheels are)"),
        (
            "GStreamer",
            "pip OpenCV wheels have no GStreamer: apt install python3-opencv for libcamerasrc pipelines",
        ),
        ("v4l/v4l2", "USB cameras need V4L2 support (Linux OpenCV builds have it)"),
    ):
        value = build_flag(info, feature)
        checks.append(Check(f"opencv {feature}", value.startswith("YES"), value or "not listed", fix))
    return checks


def build_flag(build_information, name):
    for line in build_information.splitlines():
        stripped = line.strip()
        if stripped.startswith(name + ":"):
            return stripped.split(":", 1)[1].strip()
    return ""


def run_checks():
    checks = [check_python(), check_numpy()]
    checks += [check_runtime(name) for name in backends.BACKENDS.names()]
    checks.append(check_tensorflow())
    checks += [check_edgetpu_library(), check_edgetpu_devices(), check_cameras(), check_picamera2()]
    checks += check_opencv()
    return checks


def auto_backend_line():
    try:
        return f"--backend auto uses: {backends.backend_class('auto').name}"
    except Exception as error:  # doctor reports problems instead of failing on them
        return f"--backend auto: {error}"
