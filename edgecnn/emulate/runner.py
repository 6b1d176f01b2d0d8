"""Run a firmware image in QEMU: qemu-arm for outputs (a process, fast), qemu-system-arm on the CPU's board with
`-icount shift=0` for instruction counts.

The emulator runs in a temporary directory holding the input file, under a plain relative name: semihosting
passes the command line as one space-separated string, so paths with spaces would not survive. A run that prints
nothing for `timeout` seconds is stopped (an emulated program that hangs); a crash, an abort or a failed check
in the firmware is the emulator's exit status, read here into one line.
"""

import ctypes
import dataclasses
import os
import pathlib
import resource
import signal
import subprocess
import tempfile
import threading
import time

from edgecnn.emulate import protocol
from edgecnn.errors import RuntimeBackendError, short_reason

DEFAULT_TIMEOUT = 300.0  # seconds without a line of output
INPUT_NAME = "input.bin"
# What TFLite Micro prints when a check fails on a microcontroller build (TF_LITE_MCU_DEBUG_LOG): TFLITE_ABORT
# is MicroPrintf("HALTED") and an endless loop, where a host build would abort().
HALTED = b"HALTED"
PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclasses.dataclass
class EmulatorRun:
    output: protocol.HarnessOutput
    stdout: str
    stderr: str
    exit_code: int


def run_user_mode(qemu, firmware, samples, timeout=DEFAULT_TIMEOUT):
    """Run `firmware` under qemu-arm on `samples` (the input file's bytes)."""
    command = [qemu.path, "-cpu", firmware.cpu.name, str(firmware.elf), INPUT_NAME]
    return _run(command, firmware, samples, timeout, "qemu-arm")


def run_board(qemu, firmware, samples, timeout=DEFAULT_TIMEOUT):
    """Run `firmware` on the CPU's board under qemu-system-arm, counting SysTick ticks across each inference."""
    semihosting = f"enable=on,target=native,arg=harness,arg=-c,arg={INPUT_NAME}"
    command = [qemu.path, "-M", firmware.cpu.board, "-nographic", "-monitor", "none", "-serial", "none",
               "-semihosting-config", semihosting, "-icount", "shift=0", "-kernel", str(firmware.elf)]
    return _run(command, firmware, samples, timeout, f"qemu-system-arm -M {firmware.cpu.board}")


def run_program(qemu, cpu, elf, timeout=DEFAULT_TIMEOUT):
    """(stdout, stderr, exit code) of any semihosted ELF under qemu-arm; a hang is an error."""
    with tempfile.TemporaryDirectory(prefix="edgecnn-emulate-") as folder:
        stdout, stderr, exit_code, hung, halted = _watched([qemu.path, "-cpu", cpu.name, str(elf)], folder, timeout)
    if halted:
        raise RuntimeBackendError(f"TFLite Micro halted in {elf.name} on {cpu.name}: {_log_lines(stderr)}")
    if hung:
        raise RuntimeBackendError(f"{elf.name} hung on {cpu.name} (qemu-arm): no output for {timeout:g} s, stopped")
    return stdout, stderr, exit_code


def _run(command, firmware, samples, timeout, emulator):
    with tempfile.TemporaryDirectory(prefix="edgecnn-emulate-") as folder:
        (pathlib.Path(folder) / INPUT_NAME).write_bytes(samples)
        stdout, stderr, exit_code, hung, halted = _watched(command, folder, timeout)
    output = protocol.parse(stdout)
    where = f"{firmware.cpu.name} ({emulator}, {firmware.kernels} kernels)"
    if halted:
        raise RuntimeBackendError(
            f"TFLite Micro halted on {where} (a failed check: a microcontroller build prints HALTED and stops "
            f"where a PC build aborts): {_log_lines(stderr)}"
        )
    if hung:
        raise RuntimeBackendError(
            f"the firmware hung on {where}: no output for {timeout:g} s, stopped "
            f"(after {len({sample for sample, _ in output.values})} inputs); raise --timeout for a slow model"
        )
    if exit_code != 0 or output.done is None:
        raise RuntimeBackendError(f"the firmware failed on {where}: {failure_reason(exit_code, output, stderr)}")
    return EmulatorRun(output, stdout, stderr, exit_code)


def failure_reason(exit_code, output, stderr):
    """One line: what the exit status means, the harness's error, the last distinct lines of the runtime's log."""
    if exit_code < 0:  # qemu-arm dies of the guest's fatal signal (SIGSEGV: a bad memory access)
        what = f"the program died of {signal.Signals(-exit_code).name}"
    elif exit_code > 128 and exit_code - 128 in signal.valid_signals():
        # qemu-arm passes a guest's fatal signal on as 128 + signal (SIGSEGV: a bad memory access).
        what = f"the program died of {signal.Signals(exit_code - 128).name}"
    elif exit_code == 1 and output.error is None:
        what = "the program aborted (exit 1: abort() or a failed check in TFLite Micro)"
    else:
        what = f"exit {exit_code}" + (f", {protocol.EXIT_CODES[exit_code]}" if exit_code in protocol.EXIT_CODES else "")
    details = [output.error] if output.error else []
    if _log_lines(stderr):
        details.append(_log_lines(stderr))
    if exit_code == 0 and output.done is None:
        what = "its output ended before the last input"
    return short_reason(f"{what}" + (": " + "; ".join(details) if details else ""), 400)


def _log_lines(stderr, count=3):
    """The last distinct lines of the runtime's log, joined."""
    lines = [line.strip() for line in stderr.splitlines()
             if line.strip() and not line.startswith("qemu: uncaught") and line.strip() != HALTED.decode()]
    return "; ".join(dict.fromkeys(lines[-count:]))


def _watched(command, folder, timeout):
    """(stdout, stderr, exit code, hung, halted) of `command` run in `folder`, stopped after `timeout` s of
    silence or as soon as TFLite Micro reports it halted."""
    process = subprocess.Popen(
        command, cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True, preexec_fn=_child_setup,
    )
    chunks = {"stdout": [], "stderr": []}
    last_activity = [time.monotonic()]
    halted = threading.Event()

    def drain(stream, name):
        for data in iter(lambda: stream.read1(65536), b""):
            chunks[name].append(data)
            last_activity[0] = time.monotonic()
            if name == "stderr" and HALTED in b"".join(chunks[name][-2:]):
                halted.set()

    readers = [threading.Thread(target=drain, args=(process.stdout, "stdout"), daemon=True),
               threading.Thread(target=drain, args=(process.stderr, "stderr"), daemon=True)]
    for reader in readers:
        reader.start()
    hung = False
    try:
        while process.poll() is None:
            if halted.is_set():
                _kill(process)
                break
            if time.monotonic() - last_activity[0] > timeout:
                hung = True
                _kill(process)
                break
            time.sleep(0.02)
        process.wait()
    except BaseException:
        _kill(process)
        raise
    for reader in readers:
        reader.join(timeout=5)
    text = {name: b"".join(parts).decode("utf-8", errors="replace") for name, parts in chunks.items()}
    return text["stdout"], text["stderr"], process.returncode, hung, halted.is_set()


def _kill(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _child_setup():
    # qemu-arm writes qemu_*.core into its directory when a guest crashes and core limits allow it.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # The emulator dies with edgecnn (a killed edgecnn would otherwise leave a halted firmware spinning).
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
