"""The Coral Edge TPU delegate: parse `--delegate edgetpu[:usb|:pci|:N]` and load libedgetpu.

The library name per platform and the `device` option follow pycoral's make_interpreter. A failed load says
whether the library itself is missing or no Edge TPU answered, because the two have different fixes.
"""

import ctypes
import ctypes.util
import dataclasses
import platform
import re

from edgecnn.errors import ConfigurationError, RuntimeBackendError, short_reason

EDGETPU_LIBRARY = {
    "Linux": "libedgetpu.so.1",
    "Darwin": "libedgetpu.1.dylib",
    "Windows": "edgetpu.dll",
}

INSTALL_HINT = (
    "install the Edge TPU runtime (Debian/Raspberry Pi OS: add the coral-edgetpu-stable apt repository "
    "from packages.cloud.google.com, then apt install libedgetpu1-std; "
    "elsewhere: github.com/google-coral/libedgetpu)"
)


@dataclasses.dataclass(frozen=True)
class DelegateSpec:
    """A parsed --delegate value: the delegate kind and the device it should open ("" = the first found)."""

    kind: str
    device: str = ""

    def __str__(self):
        return f"{self.kind}:{self.device}" if self.device else self.kind


def parse_delegate(text):
    """`edgetpu`, `edgetpu:usb`, `edgetpu:usb:1`, `edgetpu:pci`, `edgetpu:pci:0`, `edgetpu:0` -> spec."""
    if text is None or text in ("", "none", "cpu"):
        return None
    kind, _, device = text.partition(":")
    if kind != "edgetpu":
        raise ConfigurationError(
            f"unknown delegate {text!r}; use edgetpu, edgetpu:usb, edgetpu:pci or edgetpu:N"
        )
    if device and not re.fullmatch(r"(usb|pci)(:\d+)?|\d+", device):
        raise ConfigurationError(
            f"unknown Edge TPU device {device!r} in --delegate {text}; use usb, usb:N, pci, pci:N or N"
        )
    return DelegateSpec(kind, device)


def edgetpu_library_name(system=None):
    system = system or platform.system()
    if system not in EDGETPU_LIBRARY:
        raise RuntimeBackendError(f"the Edge TPU runtime is not available for {system}")
    return EDGETPU_LIBRARY[system]


def delegate_options(spec):
    """The options dictionary libedgetpu reads: {"device": "usb" | "usb:N" | "pci" | "pci:N" | ":N"}."""
    if not spec.device:
        return {}
    device = f":{spec.device}" if spec.device.isdigit() else spec.device
    return {"device": device}


def library_loadable(library):
    """Return None when the shared library can be loaded by name, else the loader's message."""
    try:
        ctypes.CDLL(library)
    except OSError as error:
        return str(error)
    return None


def load_edgetpu_delegate(backend_class, spec, library=None):
    """Load libedgetpu with the backend's load_delegate, or raise RuntimeBackendError saying what is wrong."""
    library = library or edgetpu_library_name()
    if not backend_class.supports_delegates:
        raise RuntimeBackendError(
            f"--delegate {spec} needs a TFLite runtime (litert or tflite-runtime); the {backend_class.name} "
            "backend runs on the CPU only"
        )
    library_problem = library_loadable(library)
    if library_problem is not None:
        raise RuntimeBackendError(
            f"cannot use --delegate {spec}: the Edge TPU library {library} is missing ({library_problem}); "
            f"{INSTALL_HINT}; or pass --fallback-cpu to run on the CPU"
        )
    try:
        return backend_class.load_delegate(library, delegate_options(spec))
    except (ValueError, RuntimeError, OSError) as error:
        where = spec.device or "any"
        raise RuntimeBackendError(
            f"cannot use --delegate {spec}: {library} loaded but no Edge TPU was found on device {where} "
            f"({short_reason(error)}); plug in the Coral USB Accelerator (a USB 3 port, the udev rules of "
            "libedgetpu1-std) "
            "or pass --fallback-cpu to run on the CPU"
        ) from error
