"""Complete firmware projects for microcontrollers, from the templates in edgecnn/export/templates/.

Each project holds the TFLite Micro sources of the model (edgecnn.export.tflm, xxd-style g_model names),
the shared firmware core (templates/common), the build files of its toolchain, preprocessing.h and
test_image.h: one image of the dataset quantized for the model's input, so the board can check itself and
print PASS or FAIL next to the top label.
"""

import dataclasses
import pathlib
import re

from edgecnn import artifacts, atomic, tflite
from edgecnn.data.encoding import InputEncoder
from edgecnn.errors import ConfigurationError, DatasetError
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
    test_label: str
    test_index: int
    dataset: str

    def summary(self):
        return (
            f"wrote {self.target} project ({len(self.files)} files) to {self.out_dir}; "
            f"kTensorArenaSize = {self.arena_bytes} bytes; test image: {self.dataset}[{self.test_index}] "
            f"labelled {self.test_label!r}"
        )


@dataclasses.dataclass
class TestImage:
    """One dataset image, quantized for the model's input tensor."""

    data: bytes
    label_index: int
    label: str
    dataset: str
    index: int
    input_type: str


def project_name(out_dir):
    """A project or sketch name from the output folder (an Arduino sketch folder must match its .ino)."""
    name = pathlib.Path(out_dir).resolve().name
    if not _SKETCH_NAME.match(name):
        raise ConfigurationError(
            f"output folder name {name!r} cannot name a firmware project: use letters, digits, '_', '-', '.'"
        )
    return name


def quantize_test_image(model, metadata, dataset=None, index=0):
    """Pick image `index` of `dataset` (default: the model's metadata, else mnist-sample / shapes)."""
    from edgecnn.data import open_dataset

    graph = model.main
    input_tensor = graph.tensors[graph.inputs[0]]
    if input_tensor.type_name not in ("INT8", "UINT8") or not input_tensor.quantization.is_quantized:
        raise ConfigurationError(
            f"{model.source}: firmware export needs an int8 or uint8 model input, "
            f"found {input_tensor.type_name}; quantize with --io int8"
        )
    preprocessing = metadata.preprocessing
    if dataset is None:
        dataset = metadata.dataset or ("mnist-sample" if preprocessing.channels == 1 else "shapes")
    loaded = open_dataset(dataset, preprocessing=preprocessing, split="test")
    if not 0 <= index < len(loaded):
        raise DatasetError(f"test image index {index} is outside {dataset} (it has {len(loaded)} images)")
    encoder = InputEncoder(
        preprocessing,
        input_tensor.dtype,
        float(input_tensor.quantization.scales[0]),
        int(input_tensor.quantization.zero_points[0]),
        input_tensor.name,
    )
    quantized = encoder.encode_pixels(loaded.pixels_at([index]))[0]
    label_index = int(loaded.labels[index])
    class_names = list(loaded.class_names)
    label = class_names[label_index] if label_index < len(class_names) else str(label_index)
    return TestImage(
        data=quantized.tobytes(),
        label_index=_model_label_index(label, label_index, metadata.labels),
        label=label,
        dataset=str(dataset),
        index=index,
        input_type=input_tensor.type_name,
    )


def _model_label_index(label, dataset_index, model_labels):
    """The dataset's class as the model numbers it (by name when the model's labels include it)."""
    return list(model_labels).index(label) if label in model_labels else dataset_index


def image_header(image):
    return (
        f"// Generated by edgecnn export: {image.dataset} test image {image.index}, labelled "
        f"{image.label!r}, quantized for the model's {image.input_type} input; do not edit.\n"
        "#ifndef EDGECNN_TEST_IMAGE_H_\n#define EDGECNN_TEST_IMAGE_H_\n\n"
        f"constexpr int kTestImageBytes = {len(image.data)};\n"
        f"constexpr int kTestImageLabelIndex = {image.label_index};\n"
        f"constexpr const char* kTestImageLabel = {c_string(image.label)};\n"
        "alignas(16) const unsigned char g_test_image[kTestImageBytes] = {\n"
        + byte_rows(image.data, BYTES_PER_LINE)
        + "\n};\n\n#endif  // EDGECNN_TEST_IMAGE_H_\n"
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
    image = quantize_test_image(model, metadata, dataset, image_index)
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
    generated["test_image.h"] = image_header(image)
    generated["edgecnn_classifier.h"] = (COMMON / "edgecnn_classifier.h").read_text()
    generated["edgecnn_classifier" + target.cpp_extension] = (COMMON / "edgecnn_classifier.cc").read_text()
    for template_name, file_name in target.common_files:
        generated[file_name.replace("{sketch}", project)] = (COMMON / template_name).read_text()
    for file_name, text in generated.items():
        files[(source_dir / file_name).as_posix()] = text
    return files, sources, image


def export_firmware(model_path, out_dir, target_name, dataset=None, image_index=0):
    """Write a complete firmware project for `target_name` into `out_dir`, replacing it whole."""
    project = project_name(out_dir)
    files, sources, image = project_files(model_path, target_name, project, dataset, image_index)
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
        test_label=image.label,
        test_index=image.index,
        dataset=image.dataset,
    )
