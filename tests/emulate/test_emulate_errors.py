"""What goes wrong, each in one line with a non-zero exit and nothing half-written: no toolchain, no or an old
qemu-arm, a CPU QEMU does not know, no tree, an op TFLite Micro export does not know, an arena too small, a
model TFLite Micro halts on, and firmware that crashes, aborts or hangs (through the engine seam)."""

import os
import pathlib
import shutil
import stat
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner

from edgecnn import emulate, verify
from edgecnn.cli import main
from edgecnn.emulate import engines, firmware, library, toolchain
from edgecnn.errors import RuntimeBackendError


def run_emulate(*arguments):
    return CliRunner().invoke(main, ["emulate", *map(str, arguments)])


def assert_one_line_error(result, *fragments):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip() and not line.startswith("edgecnn: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def tools_folder(tmp_path, keep=("arm-none-eabi-g++", "arm-none-eabi-gcc", "arm-none-eabi-ar", "arm-none-eabi-size"),
                 fake_qemu=None):
    """A PATH folder holding only the named tools (links to the real ones) and maybe a fake qemu-arm."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in keep:
        os.symlink(shutil.which(name), folder / name)
    if fake_qemu is not None:
        script = folder / "qemu-arm"
        lines = "".join(f"echo '{line}'\n" for line in fake_qemu.splitlines())
        script.write_text(f"#!/bin/sh\n{lines}")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


def test_no_arm_toolchain(foreign_models, reference_tree, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tools_folder(tmp_path, keep=())))
    result = run_emulate(foreign_models["smallcnn"], "--tflm-root", reference_tree)
    assert_one_line_error(result, "arm-none-eabi-g++ is not on PATH", "gcc-arm-none-eabi", "libnewlib-arm-none-eabi")
    assert "arm-none-eabi-g++" in emulate.unavailable_reason("cortex-m4", reference_tree)


def test_no_qemu_arm(foreign_models, reference_tree, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tools_folder(tmp_path)))
    assert_one_line_error(run_emulate(foreign_models["smallcnn"], "--tflm-root", reference_tree),
                          "qemu-arm is not on PATH", "qemu-user", "QEMU 8 or later")


def test_qemu_7_is_refused_for_its_cortex_m_bug(foreign_models, reference_tree, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tools_folder(tmp_path, fake_qemu="qemu-arm version 7.2.0 (Debian)")))
    assert_one_line_error(run_emulate(foreign_models["smallcnn"], "--tflm-root", reference_tree),
                          "QEMU 7.2, which aborts on Cortex-M programs", "bookworm-backports")


def test_cpu_the_installed_qemu_does_not_know(foreign_models, reference_tree, tmp_path, monkeypatch):
    listing = "qemu-arm version 8.0.0\nAvailable CPUs:\n  cortex-m4\n  cortex-m7"
    monkeypatch.setenv("PATH", str(tools_folder(tmp_path, fake_qemu=listing)))
    assert_one_line_error(run_emulate(foreign_models["smallcnn"], "--cpu", "cortex-m55", "--tflm-root",
                                      reference_tree), "does not know the CPU cortex-m55")


def test_unknown_cpu_name_lists_the_choices(foreign_models):
    assert_one_line_error(run_emulate(foreign_models["smallcnn"], "--cpu", "cortex-m99"),
                          "unknown CPU 'cortex-m99'", "cortex-m4, cortex-m7, cortex-m33, cortex-m55")


def test_no_tree_says_how_to_make_one(foreign_models, emulator, monkeypatch):
    monkeypatch.delenv("EDGECNN_TFLM_ROOT", raising=False)
    assert_one_line_error(run_emulate(foreign_models["smallcnn"]), "no TFLite Micro source tree given",
                          "create_tflm_tree.py", "--tflm-root")
    monkeypatch.setenv("EDGECNN_TFLM_ROOT", "/nonexistent/tflm")
    assert_one_line_error(run_emulate(foreign_models["smallcnn"]), "/nonexistent/tflm", "EDGECNN_TFLM_ROOT")


def test_op_tflite_micro_export_does_not_know(reference_tree, tmp_path):
    tf = pytest.importorskip("tensorflow")
    from emulated import reference_models

    model = tmp_path / "cumsum.tflite"
    calibration = np.random.default_rng(0).normal(size=(8, 4, 4, 3)).astype(np.float32)
    model.write_bytes(reference_models().convert_function(lambda x: tf.math.cumsum(x, axis=2), (4, 4, 3),
                                                          calibration))
    assert_one_line_error(run_emulate(model, "--tflm-root", reference_tree), "does not know the op(s) CUMSUM")


def test_arena_too_small_names_what_tflite_micro_asked_for(foreign_models, cmsis_tree):
    """With CMSIS-NN's debug log (silent without a callback) the reason reaches the user too."""
    result = run_emulate(foreign_models["smallcnn"], "--tflm-root", cmsis_tree, "--arena-size", 4096, "--no-count")
    assert_one_line_error(result, "the tensor arena is too small", "AllocateTensors() failed with an arena of 4096",
                          "Failed to")


def test_model_tflite_micro_halts_on(foreign_models, reference_tree, tmp_path):
    """A check that fails inside TFLite Micro stops a microcontroller (HALTED, then a loop): one line, at once."""
    pytest.importorskip("tensorflow")
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(foreign_models["smallcnn"]))
    graph = model.subgraphs[0]
    softmax_code = flatbuffer_utils.schema_fb.BuiltinOperator.SOFTMAX
    softmax = next(op for op in graph.operators if model.operatorCodes[op.opcodeIndex].builtinCode == softmax_code)
    graph.tensors[softmax.inputs[0]].quantization.scale = [1e-12]  # far below the 2^-26 softmax accepts
    path = tmp_path / "tiny_softmax_scale.tflite"
    flatbuffer_utils.write_model(model, str(path))
    result = run_emulate(path, "--tflm-root", reference_tree, "--no-count", "--timeout", 60)
    assert_one_line_error(result, "TFLite Micro halted on cortex-m4")


# --- firmware that crashes, aborts, halts or hangs, through the engine seam ---------------------------------

PROGRAMS = {
    "crash": "int main(void) { *(volatile int *)0xFFFFFFF0u = 1; return 0; }\n",
    "abort": "#include <stdlib.h>\nint main(void) { abort(); }\n",
    "halt": '#include <stdio.h>\nint main(void) { fputs("HALTED\\n", stderr); for (;;) { } }\n',
    "hang": "int main(void) { for (;;) { } }\n",
}


@pytest.fixture
def program_engines(emulator, tmp_path):
    """Engines whose 'firmware' is one of PROGRAMS, linked with the emulator's start-up code."""
    names = []

    def engine(name):
        def build(model_path, cpu, tflm_root=None, arena_size=None, progress=None, optimization=None):
            tools = toolchain.arm_toolchain()
            folder = tmp_path / f"{name}-{cpu.name}"
            folder.mkdir(exist_ok=True)
            source = folder / f"{name}.c"
            source.write_text(PROGRAMS[name])
            flags = [*cpu.compile_flags, *library.CORTEX_M_FLAGS, *library.C_FLAGS, "-O1"]
            objects = []
            for path in (source, *(firmware.NATIVE / support for support in firmware.SUPPORT_SOURCES)):
                objects.append(folder / (path.stem + ".o"))
                subprocess.run([tools.cc, *flags, "-c", str(path), "-o", str(objects[-1])], check=True)
            elf = folder / "program.elf"
            firmware.link(tools, cpu, flags, objects, [], elf)
            flash, ram = firmware.image_size(tools, elf)
            return firmware.Firmware(elf, cpu, name, name, 0, 0, flash, ram)

        return engines.EngineSpec(name, f"a test program that does {name}", build, needs_tree=False)

    for name in PROGRAMS:
        engines.ENGINES.add(engine(name))
        names.append(name)
    yield names
    for name in names:
        engines.ENGINES.remove(name)


@pytest.mark.parametrize("engine,fragment", [("crash", "died of SIGSEGV"), ("abort", "the program aborted"),
                                             ("halt", "TFLite Micro halted"), ("hang", "hung")])
def test_firmware_that_fails_is_one_error(program_engines, foreign_models, engine, fragment):
    with pytest.raises(RuntimeBackendError) as caught:
        emulate.run_model(foreign_models["smallcnn"], engine=engine, timeout=3, count_instructions=False)
    message = str(caught.value)
    assert fragment in message and "\n" not in message, message


def test_a_crashing_emulated_runtime_is_verifys_error_not_its_end(program_engines, foreign_models):
    model = foreign_models["smallcnn"]
    interpreter = verify.load_interpreter(str(model), "tflite")
    inputs = verify.random_inputs(interpreter, 2, seed=0)
    with pytest.raises(RuntimeBackendError, match="died of SIGSEGV"):
        verify.verify_model(model, inputs, against=["cortex-m4"], engine="crash")
    # Not named, the emulated CPUs stay out of verify's default set, so nothing is compiled or run for them.
    report = verify.verify_model(model, inputs, engine="crash")
    assert not any(name.startswith("cortex-") for name in [*report.comparisons, *report.skipped])


def test_failures_leave_nothing_half_written_in_the_cache(foreign_models, reference_tree):
    """Everything above ran against the shared cache: no temporary build directory may be left behind."""
    root = library.cache_root()
    leftovers = [path for path in root.rglob(".*") if path.is_dir() and path.name != ".lock"] if root.exists() else []
    assert leftovers == []
    for unit in root.glob("*/units/*"):
        assert (unit / "lib.a").is_file(), unit
    for folder in root.glob("*/firmware/*"):
        assert {"harness.elf", "firmware.json"} <= {path.name for path in folder.iterdir()}, folder
    assert pathlib.Path(reference_tree).is_dir()
