"""Complete firmware projects for microcontrollers, from the templates in edgecnn/export/templates/.

Each project holds the TFLite Micro sources of the model (edgecnn.export.tflm, xxd-style g_model names),
the shared firmware core (templates/common), the build files of its toolchain, preprocessing.h and
test_input.h: one input (an image of the model's own dataset, quantized for its input, else a fixed random
input) and the exact output tensors edgecnn's NumPy interpreter (TFLite Micro flavor) computes for it, so the
board prints PASS only when it computes the PC's numbers bit for bit.
"""

import dataclasses
import pathlib
import re

import numpy as np

from edgecnn import artifacts, atomic, tflite
from edgecnn.data.encoding import InputEncoder
from edgecnn.errors import ConfigurationError, DatasetError, EdgecnnError
from edgecnn.export import tflm
from edgecnn.export.c_text import byte_rows, c_float, c_string
from edgecnn.registry import Registry

TEMPLATES = pathlib.Path(__file__).parent / "templates"
COMMON = TEMPLATES / "common"
BYTES_PER_LINE = 16


@dataclasses.dataclass(frozen=True)
class FirmwareTarget:
    """Where sources go in the project, which template files it takes and which extension C++ files get."""

    name: str
    source_dir: str  # relative to the project root; "{sketch}" for the Arduino sketch folder
    common_files: tuple  # (file in templates/common, name in source_dir)
    cpp_extension: str
    description: str


FIRMWARE_TARGETS = Registry(
    "firmware target",
    [
        FirmwareTarget(
            name="platformio-esp32s3",
            source_dir="src",
            common_files=(("esp_main.cc", "main.cc"), ("camera_esp32.cc", "camera_esp32.cc")),
            cpp_extension=".cc",
            description="PlatformIO, ESP32-S3, ESP-IDF framework with espressif/esp-tflite-micro",
        ),
        FirmwareTarget(
            name="platformio-nano33ble",
            source_dir="src",
            common_files=(("arduino_main.cpp", "main.cpp"),),
            cpp_extension=".cpp",
            description="PlatformIO, Arduino Nano 33 BLE Sense, Arduino_TensorFlowLite library",
        ),
        FirmwareTarget(
            name="arduino",
            source_dir="",
            common_files=(("arduino_main.cpp", "{sketch}.ino"),),
            cpp_extension=".cpp",  # the Arduino builder compiles .cpp, not .cc, in a sketch folder
            description="Arduino sketch (Arduino IDE or arduino-cli), Arduino_TensorFlowLite library",
        ),
        FirmwareTarget(
            name="esp-idf",
            source_dir="main",
            common_files=(("esp_main.cc", "main.cc"), ("camera_esp32.cc", "camera_esp32.cc")),
            cpp_extension=".cc",
            description="ESP-IDF project (idf.py) with espressif/esp-tflite-micro",
        ),
    ],
)

_SKETCH_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


@dataclasses.dataclass
class FirmwareProject:
    out_dir: pathlib.Path
    target: str
    files: list  # relative paths written
    arena_bytes: int
    test_input: object  # TestInput

    def summary(self):
        test = self.test_input
        expected = ("its expected output from edgecnn's interpreter" if test.expected_output is not None
                    else f"no expected output ({test.note})")
        return (
            f"wrote {self.target} project ({len(self.files)} files) to {self.out_dir}; "
            f"kTensorArenaSize = {self.arena_bytes} bytes; test input: {test.description}, {expected}"
        )


@dataclasses.dataclass
class TestInput:
    """The self-test's input, quantized for the model's input tensor, and the output it must give."""

    data: bytes
    label_index: int  # -1 when the input has no label
    label: str
    description: str
    input_type: str
    expected_output: bytes = None  # every output tensor's bytes, in order; None when it cannot be computed
    note: str = ""


def project_name(out_dir):
    """A project or sketch name from the output folder (an Arduino sketch folder must match its .ino)."""
    name = pathlib.Path(out_dir).resolve().name
    if not _SKETCH_NAME.match(name):
        raise ConfigurationError(
            f"output folder name {name!r} cannot name a firmware project: use letters, digits, '_', '-', '.'"
        )
    return name


def make_test_input(model_path, model, metadata, dataset=None, index=0):
    """Image `index` of `dataset` (default: the one the model's metadata names), else a fixed random input,
    with the outputs edgecnn's interpreter computes for it."""
    graph = model.main
    input_tensor = graph.tensors[graph.inputs[0]]
    if input_tensor.type_name not in ("INT8", "UINT8") or not input_tensor.quantization.is_quantized:
        raise ConfigurationError(
            f"{model.source}: firmware export needs an int8 or uint8 model input, "
            f"found {input_tensor.type_name}; quantize with --io int8"
        )
    if dataset is None and metadata.from_model:
        dataset = metadata.dataset
    if dataset is None:
        values = np.random.default_rng(0).integers(0, 256, size=input_tensor.nbytes, dtype=np.uint8)
        test = TestInput(values.tobytes(), -1, "", "a fixed random input (seed 0; the model names no dataset)",
                         input_tensor.type_name)
    else:
        test = _dataset_test_input(model, metadata, input_tensor, dataset, index)
    test.expected_output, test.note = _expected_output(model_path, input_tensor, test.data)
    return test


def _dataset_test_input(model, metadata, input_tensor, dataset, index):
    from edgecnn.data import load_dataset

    preprocessing = metadata.preprocessing
    loaded = load_dataset(dataset, preprocessing=preprocessing, split="test")
    if not 0 <= index < len(loaded.images):
        raise DatasetError(
            f"test image index {index} is outside {dataset} (it has {len(loaded.images)} images)"
        )
    encoder = InputEncoder(
        preprocessing,
        input_tensor.dtype,
        float(input_tensor.quantization.scales[0]),
        int(input_tensor.quantization.zero_points[0]),
        input_tensor.name,
    )
    quantized = encoder.encode_pixels(loaded.images[index : index + 1])[0]
    label_index = int(loaded.labels[index])
    class_names = list(loaded.class_names)
    label = class_names[label_index] if label_index < len(class_names) else str(label_index)
    return TestInput(
        data=quantized.tobytes(),
        label_index=artifacts.model_label_index(label, label_index, metadata.labels),
        label=label,
        description=f"{dataset}[{index}] labelled {label!r}",
        input_type=input_tensor.type_name,
    )


def _expected_output(model_path, input_tensor, data):
    """(bytes of every output, "") from the NumPy interpreter's micro flavor, or (None, why not)."""
    from edgecnn.reference import Interpreter

    sample = np.frombuffer(data, input_tensor.dtype).reshape(1, *input_tensor.shape[1:])
    try:
        run = Interpreter(str(model_path), flavor="micro").run(sample, keep_intermediates=False)
    except EdgecnnError as error:
        return None, f"edgecnn's interpreter cannot run the model: {error}"
    return b"".join(np.ascontiguousarray(output).tobytes() for output in run.outputs), ""


def input_header(test):
    expected = test.expected_output or b""
    rows = byte_rows(expected, BYTES_PER_LINE) if expected else "    0x00,"
    return (
        f"// Generated by edgecnn export: {test.description}, quantized for the model's {test.input_type} input,\n"
        "// and the output tensors edgecnn's NumPy interpreter (TFLite Micro flavor) computes for it; do not edit.\n"
        "#ifndef EDGECNN_TEST_INPUT_H_\n#define EDGECNN_TEST_INPUT_H_\n\n"
        f"constexpr int kTestInputBytes = {len(test.data)};\n"
        f"constexpr int kTestInputLabelIndex = {test.label_index};  // -1: the input has no label\n"
        f"constexpr const char* kTestInputLabel = {c_string(test.label)};\n"
        "alignas(16) const unsigned char g_test_input[kTestInputBytes] = {\n"
        + byte_rows(test.data, BYTES_PER_LINE)
        + "\n};\n\n"
        f"// Every output tensor's bytes, in output order (0 bytes: {test.note or 'none computed'}).\n"
        f"constexpr int kExpectedOutputBytes = {len(expected)};\n"
        f"alignas(16) const unsigned char g_expected_output[{max(len(expected), 1)}] = {{\n{rows}\n}};\n\n"
        "#endif  // EDGECNN_TEST_INPUT_H_\n"
    )


def preprocessing_header(preprocessing):
    """The scaling the model was trained with, for camera pixels: value = (pixel * scale - mean) / std."""
    channels = preprocessing.channels

    def per_channel(values):
        values = list(values) * (channels if len(values) == 1 else 1)
        return ", ".join(c_float(value) for value in values)

    return (
        "// Generated by edgecnn export from the model's preprocessing; do not edit.\n"
        "#ifndef EDGECNN_PREPROCESSING_H_\n#define EDGECNN_PREPROCESSING_H_\n\n"
        "#include \"model_settings.h\"\n\n"
        f"constexpr float kPixelScale = {c_float(preprocessing.scale)};\n"
        f"constexpr float kPixelMean[kInputChannels] = {{{per_channel(preprocessing.mean)}}};\n"
        f"constexpr float kPixelStd[kInputChannels] = {{{per_channel(preprocessing.std)}}};\n\n"
        "#endif  // EDGECNN_PREPROCESSING_H_\n"
    )


def _render(text, project):
    return text.replace("@PROJECT@", project)


def project_files(model_path, target_name, project, dataset=None, image_index=0):
    """relative path -> text of every file of the project, plus the figures behind them."""
    target = FIRMWARE_TARGETS.get(target_name)
    model = tflite.read_model(model_path)
    metadata = artifacts.tflite_metadata(model)
    sources = tflm.generate_tflm_sources(model_path, labels=metadata.labels, legacy_names=True)
    test = make_test_input(model_path, model, metadata, dataset, image_index)
    source_dir = pathlib.PurePosixPath(target.source_dir)
    files = {}
    template_dir = TEMPLATES / target_name
    if template_dir.is_dir():
        for path in sorted(template_dir.rglob("*")):
            if path.is_file():
                files[path.relative_to(template_dir).as_posix()] = _render(path.read_text(), project)
    generated = dict(sources.files)
    generated["model_data" + target.cpp_extension] = generated.pop("model_data.cc")
    generated["preprocessing.h"] = preprocessing_header(metadata.preprocessing)
    generated["test_input.h"] = input_header(test)
    generated["edgecnn_classifier.h"] = (COMMON / "edgecnn_classifier.h").read_text()
    generated["edgecnn_classifier" + target.cpp_extension] = (COMMON / "edgecnn_classifier.cc").read_text()
    for template_name, file_name in target.common_files:
        generated[file_name.replace("{sketch}", project)] = (COMMON / template_name).read_text()
    for file_name, text in generated.items():
        files[(source_dir / file_name).as_posix()] = text
    return files, sources, test


def export_firmware(model_path, out_dir, target_name, dataset=None, image_index=0):
    """Write a complete firmware project for `target_name` into `out_dir`, replacing it whole."""
    project = project_name(out_dir)
    files, sources, test = project_files(model_path, target_name, project, dataset, image_index)
    pathlib.Path(out_dir).parent.mkdir(parents=True, exist_ok=True)
    with atomic.atomic_directory(out_dir) as folder:
        for relative, text in files.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return FirmwareProject(
        out_dir=pathlib.Path(out_dir),
        target=target_name,
        files=sorted(files),
        arena_bytes=sources.arena_bytes,
        test_input=test,
    )
