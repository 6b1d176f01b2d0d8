"""Test programs of generated C, with per-op traces: the model's C and a harness compiled for the host or a
Cortex-M4 (qemu-arm). Not part of edgecnn: users run generated C with `edgecnn emulate --engine c`.

The harness (c_build_harness.c) reads N inputs from a file, calls edgecnn_invoke on each and writes the N outputs;
with a third argument it also records every op's output (EDGECNN_TRACE). On a Cortex-M4 the files are reached
through semihosting (newlib's rdimon), so the same program runs under `qemu-arm -cpu cortex-m4`.
"""

import dataclasses
import pathlib
import shutil
import struct
import subprocess

import numpy as np

from edgecnn.errors import ExternalToolError

HARNESS = pathlib.Path(__file__).with_name("c_build_harness.c")
WARNINGS = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic")
CORTEX_M4 = ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft")
CMSIS_DEFINES = ("-DEDGECNN_USE_CMSIS_NN", "-DARM_NN_ENABLE_F16=0", "-DARM_NN_ENABLE_F32=0")


@dataclasses.dataclass(frozen=True)
class Toolchain:
    """A C compiler and how to run what it builds."""

    name: str
    compiler: str
    flags: tuple
    link_flags: tuple = ()
    runner: tuple = ()  # the emulator command in front of the program, if any


HOST = Toolchain("host", "gcc", ("-O2",))
CORTEX_M4_QEMU = Toolchain(
    "cortex-m4",
    "arm-none-eabi-gcc",
    (*CORTEX_M4, "-Os", "-ffunction-sections", "-fdata-sections"),
    ("--specs=rdimon.specs", "-Wl,--gc-sections"),
    ("qemu-arm", "-cpu", "cortex-m4"),
)
TOOLCHAINS = {toolchain.name: toolchain for toolchain in (HOST, CORTEX_M4_QEMU)}


def _require(program, purpose):
    path = shutil.which(program)
    if path is None:
        raise ExternalToolError(f"{program} is not installed; it is needed for {purpose}")
    return path


def cmsis_root_of(tree):
    """The CMSIS-NN checkout in `tree`: the tree itself, or third_party/cmsis_nn of a TFLite Micro tree."""
    tree = pathlib.Path(tree)
    for root in (tree, tree / "third_party" / "cmsis_nn"):
        if (root / "Include" / "arm_nnfunctions.h").is_file():
            return root
    raise ExternalToolError(
        f"{tree} has no CMSIS-NN (neither Include/arm_nnfunctions.h nor third_party/cmsis_nn/Include/ in it)"
    )


def cmsis_sources(tree):
    """CMSIS-NN's include directory and its .c files, in a CMSIS-NN checkout or a TFLite Micro tree."""
    root = cmsis_root_of(tree)
    return [root / "Include"], sorted((root / "Source").rglob("*.c"))


def cmsis_library(cmsis_root, directory, toolchain=CORTEX_M4_QEMU):
    """CMSIS-NN compiled for `toolchain` into directory/libcmsisnn.a, once (reused while its sources are older)."""
    includes, sources = cmsis_sources(cmsis_root)
    directory = pathlib.Path(directory)
    library = directory / "libcmsisnn.a"
    if library.is_file() and library.stat().st_mtime >= max(source.stat().st_mtime for source in sources):
        return library
    compiler = _require(toolchain.compiler, f"building CMSIS-NN for {toolchain.name}")
    archiver = _require(toolchain.compiler.replace("gcc", "ar"), f"building CMSIS-NN for {toolchain.name}")
    directory.mkdir(parents=True, exist_ok=True)
    objects = []
    for number, source in enumerate(sources):
        target = directory / f"{number:03d}_{source.stem}.o"
        command = [compiler, "-std=c99", *toolchain.flags, *CMSIS_DEFINES, *(f"-I{path}" for path in includes),
                   "-c", str(source), "-o", str(target)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ExternalToolError(f"{compiler} failed on {source}:\n{result.stderr.strip()}")
        objects.append(str(target))
    temporary = directory / "libcmsisnn.a.part"
    temporary.unlink(missing_ok=True)
    subprocess.run([archiver, "rcs", str(temporary), *objects], check=True, capture_output=True)
    temporary.replace(library)
    return library


def build(source_dir, program, toolchain=HOST, extra_flags=(), cmsis_root=None, cmsis_build_dir=None):
    """Compile the generated files in `source_dir` with the harness into `program`; returns its path.

    With `cmsis_root`, the -DEDGECNN_USE_CMSIS_NN build linked against CMSIS-NN (compiled into
    `cmsis_build_dir`, default beside the program, and reused from there).
    """
    compiler = _require(toolchain.compiler, f"building generated C for {toolchain.name}")
    source_dir = pathlib.Path(source_dir)
    flags = [*WARNINGS, *toolchain.flags, *extra_flags, f"-I{source_dir}"]
    libraries = []
    if cmsis_root is not None:
        includes, _ = cmsis_sources(cmsis_root)
        flags += [*CMSIS_DEFINES, *(f"-I{path}" for path in includes)]
        libraries.append(str(cmsis_library(cmsis_root, cmsis_build_dir or pathlib.Path(program).parent, toolchain)))
    sources = [source_dir / "edgecnn_model.c", HARNESS]
    command = [compiler, *flags, *map(str, sources), *libraries, *toolchain.link_flags, "-o", str(program)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ExternalToolError(f"{compiler} failed on {source_dir}:\n{result.stderr.strip()}")
    return pathlib.Path(program)


def compile_object(source_dir, toolchain=HOST, extra_flags=(), out=None):
    """Compile edgecnn_model.c alone with the warning flags (what firmware builds do); returns the object path."""
    compiler = _require(toolchain.compiler, f"building generated C for {toolchain.name}")
    source_dir = pathlib.Path(source_dir)
    out = pathlib.Path(out or source_dir / f"edgecnn_model.{toolchain.name}.o")
    command = [compiler, *WARNINGS, *toolchain.flags, *extra_flags, "-c", str(source_dir / "edgecnn_model.c"),
               "-o", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ExternalToolError(f"{compiler} failed on {source_dir / 'edgecnn_model.c'}:\n{result.stderr.strip()}")
    return out


@dataclasses.dataclass
class RunResult:
    outputs: np.ndarray  # (N, output bytes) int8
    traces: dict  # tensor index -> (N, bytes) int8, when traced


def run(program, inputs, work_dir, toolchain=HOST, trace=False, timeout=600):
    """Run a built program on `inputs` (N arrays of the model's input, int8); outputs and optional op traces."""
    work_dir = pathlib.Path(work_dir)
    inputs = np.ascontiguousarray(np.asarray(inputs, dtype=np.int8))
    count = inputs.shape[0]
    input_path, output_path, trace_path = (work_dir / name for name in ("inputs.bin", "outputs.bin", "trace.bin"))
    input_path.write_bytes(inputs.tobytes())
    for path in (output_path, trace_path):
        path.unlink(missing_ok=True)
    if toolchain.runner:
        _require(toolchain.runner[0], f"running {toolchain.name} programs")
    # Semihosting passes the command line as one short string: run in work_dir with plain relative names.
    link = work_dir / "program"
    if pathlib.Path(program).resolve() != link.resolve():
        link.unlink(missing_ok=True)
        link.symlink_to(pathlib.Path(program).resolve())
    arguments = [path.name for path in (input_path, output_path)] + ([trace_path.name] if trace else [])
    result = subprocess.run(
        [*toolchain.runner, "./program", *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=work_dir,
    )
    if result.returncode != 0:
        raise ExternalToolError(
            f"{program} exited with {result.returncode}: {(result.stderr or result.stdout).strip()[-2000:]}"
        )
    data = np.frombuffer(output_path.read_bytes(), dtype=np.int8)
    outputs = data.reshape(count, -1)
    traces = _read_trace(trace_path.read_bytes(), count) if trace else {}
    return RunResult(outputs, traces)


def _read_trace(data, count):
    """Records (int32 tensor index, uint32 offset, uint32 byte count, bytes) in run order -> tensor index ->
    (N, bytes): a tensor written in parts (a fused op's rows) is put together, a part at offset 0 starting the
    next image's copy."""
    runs, position = {}, 0
    while position < len(data):
        tensor_index, offset, size = struct.unpack_from("<iII", data, position)
        position += 12
        parts = runs.setdefault(tensor_index, [])
        if offset == 0:
            parts.append(bytearray())
        buffer = parts[-1]
        if len(buffer) < offset + size:
            buffer.extend(bytes(offset + size - len(buffer)))
        buffer[offset : offset + size] = data[position : position + size]
        position += size
    return {
        tensor_index: np.stack([np.frombuffer(bytes(buffer), dtype=np.int8) for buffer in buffers[:count]])
        for tensor_index, buffers in runs.items()
    }
