"""The external programs `emulate` needs, found on PATH and checked once: the Arm GNU toolchain and QEMU.

Every check fails with one line naming the Debian package that brings the missing piece.
"""

import dataclasses
import functools
import re
import shutil
import subprocess

from edgecnn.errors import ExternalToolError

TOOLCHAIN_PACKAGES = "gcc-arm-none-eabi, libnewlib-arm-none-eabi and libstdc++-arm-none-eabi-newlib"
QEMU_MINIMUM = (8, 0)
# Debian bookworm ships QEMU 7.2, whose qemu-arm aborts on every Cortex-M program; backports has 10.
QEMU_HINT = "QEMU 8 or later (Debian bookworm: apt-get install -t bookworm-backports qemu-user qemu-system-arm)"


@dataclasses.dataclass(frozen=True)
class ArmToolchain:
    cxx: str
    cc: str
    ar: str
    size: str
    version: str  # the compiler's own version line, part of the library cache key


@dataclasses.dataclass(frozen=True)
class Qemu:
    path: str
    version: tuple
    cpus: tuple  # qemu-arm: the -cpu names it knows; qemu-system-arm: its board (-M) names


def arm_toolchain():
    """The arm-none-eabi compiler, archiver and size tool, with newlib's semihosting specs and libstdc++."""
    paths = {}
    for tool in ("g++", "gcc", "ar", "size"):
        path = shutil.which("arm-none-eabi-" + tool)
        if path is None:
            raise ExternalToolError(
                f"arm-none-eabi-{tool} is not on PATH: install the Arm GNU toolchain "
                f"(Debian/Ubuntu: apt-get install {TOOLCHAIN_PACKAGES})"
            )
        paths[tool] = path
    return _checked_toolchain(paths["g++"], paths["gcc"], paths["ar"], paths["size"])


@functools.lru_cache(maxsize=4)
def _checked_toolchain(cxx, cc, ar, size):
    version = _output([cxx, "--version"]).splitlines()[0].strip()
    for file_name, package in (("rdimon.specs", "libnewlib-arm-none-eabi"),
                               ("libstdc++.a", "libstdc++-arm-none-eabi-newlib")):
        found = _output([cxx, "-mthumb", "-mcpu=cortex-m4", f"-print-file-name={file_name}"]).strip()
        if found == file_name:  # gcc echoes the bare name when it has no such file
            raise ExternalToolError(
                f"{cxx} has no {file_name}: install {package} (the toolchain needs {TOOLCHAIN_PACKAGES})"
            )
    return ArmToolchain(cxx=cxx, cc=cc, ar=ar, size=size, version=version)


def qemu_user():
    """qemu-arm (user mode: runs a semihosted ELF as a process), QEMU 8 or later."""
    return _qemu("qemu-arm", ["-cpu", "help"], "qemu-user")


def qemu_system():
    """qemu-system-arm (whole boards, -icount), QEMU 8 or later."""
    return _qemu("qemu-system-arm", ["-M", "help"], "qemu-system-arm")


def _qemu(name, listing, package):
    path = shutil.which(name)
    if path is None:
        raise ExternalToolError(f"{name} is not on PATH: install {package}, {QEMU_HINT}")
    return _checked_qemu(path, tuple(listing))


@functools.lru_cache(maxsize=8)
def _checked_qemu(path, listing):
    text = _output([path, "--version"])
    match = re.search(r"version (\d+)\.(\d+)", text)
    if match is None:
        raise ExternalToolError(f"{path} --version printed no QEMU version: {text.strip()[:80]!r}")
    version = (int(match[1]), int(match[2]))
    if version < QEMU_MINIMUM:
        raise ExternalToolError(
            f"{path} is QEMU {version[0]}.{version[1]}, which aborts on Cortex-M programs: {QEMU_HINT}"
        )
    # qemu-arm -cpu help lists its CPUs, then exits 1 for want of a program to run.
    listed = _output([path, *listing], check=False)
    names = tuple(line.split()[0] for line in listed.splitlines()[1:] if line.strip())
    return Qemu(path=path, version=version, cpus=names)


def _output(command, check=True):
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ExternalToolError(f"cannot run {command[0]}: {error}") from error
    if check and result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip()).splitlines()[:1]
        raise ExternalToolError(f"{' '.join(command)} failed (exit {result.returncode}): {''.join(detail)}")
    return result.stdout
