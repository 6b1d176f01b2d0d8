"""Firmware projects: file layout, golden build files, a test input that matches the dataset with the output
edgecnn's interpreter computes for it, sources that compile with the host g++ and arm-none-eabi-g++ against the
real TFLite Micro tree, and the common core's self-test printing PASS on an emulated Cortex-M4.

PlatformIO, ESP-IDF and the Arduino toolchains download their compilers and libraries at build time, which
is not possible here, so the projects are checked against those tools' documented layouts instead; only the
boards' own headers (Arduino.h, FreeRTOS) have stand-ins (standin_platform/).
"""

import os
import pathlib
import re
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner
from external_tools import require_tool
from tflm_trees import CMSIS_NN, REFERENCE, require_tree

from edgecnn.cli import main
from edgecnn.export import firmware

HERE = pathlib.Path(__file__).parent
SELF_TEST_MAIN = pathlib.Path(firmware.__file__).parents[1] / "emulate" / "native" / "selftest_main.cc"
STANDIN_PLATFORM = HERE / "standin_platform"
GOLDEN = HERE / "golden" / "firmware"
PROJECT = "edgecnn_demo"  # the output folder name, which names the project and the Arduino sketch

EXPECTED_FILES = {
    "esp-idf": [
        "CMakeLists.txt",
        "main/CMakeLists.txt",
        "main/camera_esp32.cc",
        "main/edgecnn_classifier.cc",
        "main/edgecnn_classifier.h",
        "main/idf_component.yml",
        "main/labels.h",
        "main/main.cc",
        "main/model_data.cc",
        "main/model_data.h",
        "main/model_settings.h",
        "main/op_resolver.h",
        "main/preprocessing.h",
        "main/test_input.h",
        "sdkconfig.defaults",
    ],
    "platformio-esp32s3": [
        "CMakeLists.txt",
        "platformio.ini",
        "sdkconfig.defaults",
        "src/CMakeLists.txt",
        "src/camera_esp32.cc",
        "src/edgecnn_classifier.cc",
        "src/edgecnn_classifier.h",
        "src/idf_component.yml",
        "src/labels.h",
        "src/main.cc",
        "src/model_data.cc",
        "src/model_data.h",
        "src/model_settings.h",
        "src/op_resolver.h",
        "src/preprocessing.h",
        "src/test_input.h",
    ],
    "platformio-nano33ble": [
        "platformio.ini",
        "src/edgecnn_classifier.cpp",
        "src/edgecnn_classifier.h",
        "src/labels.h",
        "src/main.cpp",
        "src/model_data.cpp",
        "src/model_data.h",
        "src/model_settings.h",
        "src/op_resolver.h",
        "src/preprocessing.h",
        "src/test_input.h",
    ],
    "arduino": [
        f"{PROJECT}.ino",
        "edgecnn_classifier.cpp",
        "edgecnn_classifier.h",
        "labels.h",
        "model_data.cpp",
        "model_data.h",
        "model_settings.h",
        "op_resolver.h",
        "preprocessing.h",
        "test_input.h",
    ],
}
GOLDEN_FILES = {
    "esp-idf": ["CMakeLists.txt", "main/CMakeLists.txt", "main/idf_component.yml", "sdkconfig.defaults"],
    "platformio-esp32s3": ["platformio.ini", "CMakeLists.txt", "src/CMakeLists.txt", "src/idf_component.yml"],
    "platformio-nano33ble": ["platformio.ini"],
    "arduino": [f"{PROJECT}.ino"],
}
SOURCE_DIRS = {"esp-idf": "main", "platformio-esp32s3": "src", "platformio-nano33ble": "src", "arduino": "."}


@pytest.fixture(scope="session")
def digit_model(tmp_path_factory):
    """A small int8 MNIST-shaped CNN carrying edgecnn metadata (labels, preprocessing, dataset)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from edgecnn.artifacts import ModelMetadata
    from edgecnn.data import Preprocessing, load_dataset
    from edgecnn.quantize.converter import quantize_keras_model

    rng = np.random.default_rng(3)
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Softmax()(keras.layers.Dense(10)(x)))
    for weight in model.weights:
        weight.assign(rng.normal(0.0, 0.3, weight.shape).astype("float32"))
    preprocessing = Preprocessing(28, 28, 1)
    images = load_dataset("mnist-sample", preprocessing=preprocessing).images[:16]
    metadata = ModelMetadata(
        labels=[str(index) for index in range(10)],
        preprocessing=preprocessing,
        model_name="digits",
        dataset="mnist-sample",
    )
    path = tmp_path_factory.mktemp("firmware_model") / "digits.tflite"
    path.write_bytes(quantize_keras_model(model, preprocessing.scale_pixels(images), metadata=metadata))
    return path


@pytest.fixture(scope="session")
def projects(digit_model, tmp_path_factory):
    root = tmp_path_factory.mktemp("firmware_projects")
    made = {}
    for target in firmware.FIRMWARE_TARGETS.names():
        out = root / target / PROJECT
        firmware.export_firmware(digit_model, out, target)
        made[target] = out
    return made


@pytest.mark.parametrize("target", sorted(EXPECTED_FILES))
def test_project_layout(projects, target):
    out = projects[target]
    written = sorted(path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file())
    assert written == sorted(EXPECTED_FILES[target])


@pytest.mark.parametrize("target,file_name", [(t, f) for t in sorted(GOLDEN_FILES) for f in GOLDEN_FILES[t]])
def test_golden_build_files(projects, target, file_name):
    assert (projects[target] / file_name).read_text() == (GOLDEN / target / file_name).read_text()


def test_build_files_follow_the_documented_layouts(projects):
    """The facts each toolchain depends on, spelled out (the goldens pin the rest)."""
    ini = (projects["platformio-nano33ble"] / "platformio.ini").read_text()
    assert "platform = nordicnrf52\nboard = nano33ble\nframework = arduino\n" in ini
    assert "lib_deps =\n    https://github.com/tensorflow/tflite-micro-arduino-examples.git\n" in ini
    ini = (projects["platformio-esp32s3"] / "platformio.ini").read_text()
    assert "platform = espressif32\nboard = esp32-s3-devkitc-1\nframework = espidf\n" in ini
    for target, manifest in (("esp-idf", "main"), ("platformio-esp32s3", "src")):
        yml = (projects[target] / manifest / "idf_component.yml").read_text()
        assert '  espressif/esp-tflite-micro: "^1.3.0"\n' in yml
        root_cmake = (projects[target] / "CMakeLists.txt").read_text()
        assert "include($ENV{IDF_PATH}/tools/cmake/project.cmake)\nproject(edgecnn_demo)\n" in root_cmake
    sketch = (projects["arduino"] / f"{PROJECT}.ino").read_text()
    assert "#include <TensorFlowLite.h>" in sketch and "void setup()" in sketch and "void loop()" in sketch
    core = (projects["arduino"] / "edgecnn_classifier.cpp").read_text()
    assert '#include "tensorflow/lite/micro/micro_interpreter.h"' in core
    assert "tflite::GetModel(g_model)" in (projects["esp-idf"] / "main" / "edgecnn_classifier.cc").read_text()


def _c_array(text, name):
    body = re.search(name + r"\[[^\]]*\] = \{(.*?)\};", text, re.S)[1]
    return bytes(int(value, 16) for value in re.findall(r"0x([0-9a-f]{2})", body))


def test_test_input_is_the_dataset_digit_with_the_interpreters_output(projects, digit_model):
    from edgecnn import tflite
    from edgecnn.data import load_dataset
    from edgecnn.reference import Interpreter

    header = (projects["esp-idf"] / "main" / "test_input.h").read_text()
    data = np.frombuffer(_c_array(header, "g_test_input"), np.int8)
    digits = load_dataset("mnist-sample")
    assert f"constexpr int kTestInputLabelIndex = {int(digits.labels[0])};" in header
    assert f'constexpr const char* kTestInputLabel = "{digits.class_names[digits.labels[0]]}";' in header
    graph = tflite.read_model(digit_model).main
    quantization = graph.tensors[graph.inputs[0]].quantization
    scale, zero_point = float(quantization.scales[0]), int(quantization.zero_points[0])
    # Dequantized, the bytes give back the digit's pixels / 255 to within half a quantization step.
    pixels = digits.images[0].reshape(-1).astype(np.float32) / 255.0
    restored = (data.astype(np.float32) - zero_point) * scale
    assert data.size == 28 * 28 and np.abs(restored - pixels).max() <= scale / 2 + 1e-6
    assert len(set(data.tolist())) > 20  # a digit, not a blank image
    expected = Interpreter(str(digit_model), flavor="micro").run(data.reshape(1, 28, 28, 1)).outputs[0]
    assert _c_array(header, "g_expected_output") == expected.tobytes()
    assert "constexpr int kExpectedOutputBytes = 10;" in header


def test_model_without_metadata_gets_a_fixed_random_input_not_another_datasets_image(tmp_path):
    """A model edgecnn did not make names no dataset: its test input is random (seed 0), with no label."""
    smallcnn = require_tree(REFERENCE) / "check" / "smallcnn_int8.tflite"
    project = firmware.export_firmware(smallcnn, tmp_path / "foreign", "arduino")
    header = (tmp_path / "foreign" / "test_input.h").read_text()
    assert "a fixed random input" in header and "constexpr int kTestInputLabelIndex = -1;" in header
    assert 'kTestInputLabel = "";' in header and "fixed random input" in project.summary()
    again = firmware.export_firmware(smallcnn, tmp_path / "again", "arduino")
    assert again.test_input.data == project.test_input.data


def _tflm_flags(cpu=None, tree_name=REFERENCE):
    """TFLite Micro's own flags and include paths for the host or an emulated CPU (edgecnn.emulate's)."""
    from edgecnn.emulate import CPUS, library, tree

    source_tree = tree.find_tree(require_tree(tree_name))
    return list(library.compiler_flags(source_tree, CPUS.get(cpu) if cpu else None))


def _compile_sources(compiler, out, source_dir, flags, tmp_path):
    folder = out / source_dir
    sources = sorted(p for p in folder.iterdir() if p.suffix in (".cc", ".cpp", ".ino"))
    for source in sources:
        language = ["-x", "c++"] if source.suffix == ".ino" else []
        result = subprocess.run(
            [compiler, *flags, "-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror", f"-I{folder}",
             f"-I{STANDIN_PLATFORM}", *language, "-c", str(source), "-o", str(tmp_path / (source.name + ".o"))],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
    return [source.name for source in sources]


@pytest.mark.parametrize("target", sorted(EXPECTED_FILES))
def test_sources_compile_with_host_gcc_against_tflite_micro(projects, target, tmp_path):
    compiled = _compile_sources(require_tool("g++"), projects[target], SOURCE_DIRS[target], _tflm_flags(), tmp_path)
    assert any(name.startswith("edgecnn_classifier") for name in compiled)
    assert any(name in ("main.cc", "main.cpp", f"{PROJECT}.ino") for name in compiled)


@pytest.mark.parametrize("target", ["platformio-nano33ble", "arduino"])
@pytest.mark.parametrize("tree_name", [REFERENCE, CMSIS_NN])
def test_sources_compile_for_cortex_m4_against_tflite_micro(projects, target, tree_name, tmp_path):
    """The Nano 33 BLE Sense is an nRF52840 (Cortex-M4F); the ESP32-S3 is Xtensa, so only host g++ there."""
    compiler = require_tool("arm-none-eabi-g++")
    flags = _tflm_flags("cortex-m4", tree_name)
    compiled = _compile_sources(compiler, projects[target], SOURCE_DIRS[target], flags, tmp_path)
    assert len(compiled) == 3


@pytest.mark.parametrize("tree_name", [REFERENCE, CMSIS_NN])
def test_common_core_runs_its_self_test_on_an_emulated_cortex_m4(projects, tree_name):
    """edgecnn_classifier.cc linked with the emulator's harness: the board's own numbers equal the PC's."""
    for tool in ("arm-none-eabi-g++", "qemu-arm"):
        require_tool(tool)
    from edgecnn.data import load_dataset
    from edgecnn.emulate import emulation

    passed, line = emulation.run_project_selftest(projects["arduino"], "cortex-m4", require_tree(tree_name))
    assert passed and line.endswith("bit for bit (10 bytes): PASS"), line
    digits = load_dataset("mnist-sample")
    assert f"labelled {digits.class_names[digits.labels[0]]};" in line


def test_cli_export_firmware_and_option_checks(digit_model, tmp_path):
    runner = CliRunner()
    out = tmp_path / "sketch_one"
    result = runner.invoke(
        main, ["export", str(digit_model), "--target", "arduino", "--out", str(out), "--image-index", "1"]
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"test input: mnist-sample\[1\] labelled '\d', its expected output", result.output), result.output
    assert (out / "sketch_one.ino").is_file()
    result = runner.invoke(
        main, ["export", str(digit_model), "--target", "arduino", "--out", str(out), "--source", "0"]
    )
    assert result.exit_code == 2 and "--source does not apply to --target arduino" in result.output
    result = runner.invoke(
        main, ["export", str(digit_model), "--target", "esp-idf", "--out", str(tmp_path / "bad name!")]
    )
    assert result.exit_code == 2 and "cannot name a firmware project" in result.output


# --- --engine c: the projects on edgecnn's generated C, with no TFLite Micro at all -------------------------

C_ENGINE_FILES = {"edgecnn_model.c", "edgecnn_model.h", "model_settings.h"}
CPP_ONLY_FLAGS = ("-fno-exceptions", "-fno-rtti")
TFLM_ONLY_FILES = {"model_data.h", "op_resolver.h", "labels.h"}


@pytest.fixture(scope="session")
def c_projects(digit_model, tmp_path_factory):
    root = tmp_path_factory.mktemp("firmware_projects_c")
    made = {}
    for target in firmware.FIRMWARE_TARGETS.names():
        out = root / target / PROJECT
        firmware.export_firmware(digit_model, out, target, engine="c")
        made[target] = out
    return made


@pytest.mark.parametrize("target", sorted(EXPECTED_FILES))
def test_c_engine_layout_has_the_generated_c_and_no_tflite_micro_sources(c_projects, target):
    out = c_projects[target]
    written = {path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file()}
    source_dir = SOURCE_DIRS[target]
    expected = {
        name
        for name in EXPECTED_FILES[target]
        if pathlib.PurePosixPath(name).name not in TFLM_ONLY_FILES
        and not pathlib.PurePosixPath(name).name.startswith("model_data")
    }
    expected |= {name if source_dir == "." else f"{source_dir}/{name}" for name in C_ENGINE_FILES}
    assert written == expected
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".c", ".cc", ".cpp", ".ino", ".h"):
            assert "tensorflow/lite" not in path.read_text() or path.name == "edgecnn_classifier" + path.suffix


def test_c_engine_build_files_need_no_tflite_micro_library(c_projects):
    ini = (c_projects["platformio-nano33ble"] / "platformio.ini").read_text()
    assert "lib_deps" not in ini and "tflite-micro" not in ini and "edgecnn's generated C" in ini
    for target, manifest in (("esp-idf", "main"), ("platformio-esp32s3", "src")):
        yml = (c_projects[target] / manifest / "idf_component.yml").read_text()
        assert "esp-tflite-micro" not in yml and "espressif/esp32-camera" in yml
    cmake = (c_projects["esp-idf"] / "main" / "CMakeLists.txt").read_text()
    assert '"edgecnn_model.c"' in cmake and "model_data" not in cmake
    settings = (c_projects["arduino"] / "model_settings.h").read_text()
    assert "#define EDGECNN_ENGINE_C 1" in settings and "kTensorArenaSize" not in settings
    sketch = (c_projects["arduino"] / f"{PROJECT}.ino").read_text()
    assert "#ifndef EDGECNN_ENGINE_C\n#include <TensorFlowLite.h>" in sketch


def _build_c_engine_check(out, source_dir, prefix, flags, tmp_path):
    """The project's core and generated C (no TFLite Micro headers on the include path) with a main."""
    folder = out / source_dir
    objects = []
    for source in sorted(p for p in folder.iterdir() if p.suffix in (".c", ".cc", ".cpp")):
        if source.stem in ("main", "camera_esp32"):
            continue
        compiler = require_tool(prefix + ("gcc" if source.suffix == ".c" else "g++"))
        language = ["-std=c99"] if source.suffix == ".c" else ["-std=c++17", "-x", "c++"]
        own_flags = [flag for flag in flags if source.suffix != ".c" or flag not in CPP_ONLY_FLAGS]
        target = tmp_path / (source.name + ".o")
        command = [compiler, *language, "-Wall", "-Wextra", "-Werror", *own_flags, f"-I{folder}", "-c",
                   str(source), "-o", str(target)]
        subprocess.run(command, check=True, capture_output=True, text=True)
        objects.append(str(target))
    program = tmp_path / "self_test"
    linker = require_tool(prefix + "g++")
    link_flags = ["--specs=rdimon.specs"] if prefix else []
    subprocess.run(
        [linker, "-std=c++17", *flags, f"-I{folder}", str(SELF_TEST_MAIN), *objects, *link_flags,
         "-o", str(program)],
        check=True, capture_output=True, text=True,
    )
    return program


@pytest.mark.parametrize("toolchain", ["host", "cortex-m4"])
def test_c_engine_project_passes_its_self_test_bit_for_bit(c_projects, tmp_path, toolchain):
    """The project core on the generated C engine computes the PC's output tensors exactly (test_input.h)."""
    out = c_projects["arduino"]
    if toolchain == "host":
        program = _build_c_engine_check(out, ".", "", ["-O1"], tmp_path)
        command = [str(program)]
    else:
        flags = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft", "-Os", "-fno-exceptions", "-fno-rtti"]
        program = _build_c_engine_check(out, ".", "arm-none-eabi-", flags, tmp_path)
        command = [require_tool("qemu-arm"), "-cpu", "cortex-m4", str(program)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.strip().endswith(": PASS") and "bit for bit" in completed.stdout


def test_cli_export_firmware_with_the_c_engine(digit_model, tmp_path):
    out = tmp_path / "nano_c"
    result = CliRunner().invoke(
        main, ["export", str(digit_model), "--target", "platformio-nano33ble", "--engine", "c", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "engine c" in result.output and "EDGECNN_ARENA_BYTES = " in result.output
    assert (out / "src" / "edgecnn_model.c").is_file()
    result = CliRunner().invoke(
        main, ["export", str(digit_model), "--target", "tflm", "--engine", "c", "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 2 and "--engine does not apply to --target tflm" in result.output
