"""TFLite Micro export: generated sources compile against the real TFLite Micro for the host and every emulated
Cortex-M with -Wall -Werror, and the arena is right (tests/emulate measures it on the 32-bit target)."""

import pathlib
import re
import subprocess

import numpy as np
import pytest
from external_tools import require_tool
from tflm_trees import CMSIS_NN, REFERENCE, require_tree

from edgecnn import tflite
from edgecnn.export import arena, arena_sizes, measure, tflm

HERE = pathlib.Path(__file__).parent
GOLDEN = HERE / "golden"
OWN_FILE_WARNINGS = ["-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror"]
# Small inputs keep conversion fast; mobilenet_v2 needs 32x32 to survive its strides.
ZOO_INPUT_SHAPES = {"mobilenet_v2": (32, 32, 3), "resnet18": (32, 32, 3), "tiny_vgg": (32, 32, 3)}


def convert_int8(keras_model, input_shape, seed=0):
    """Full-int8 conversion with batch 1, through edgecnn's own quantizer."""
    from edgecnn.quantize.converter import quantize_keras_model

    rng = np.random.default_rng(seed)
    return quantize_keras_model(keras_model, rng.random((8, *input_shape), dtype=np.float32))


def build_small_model():
    """A fixed-weight CNN covering conv, depthwise, pooling, mean, dense and softmax."""
    import keras

    rng = np.random.default_rng(1234)
    inputs = keras.Input((16, 16, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(8, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Softmax()(keras.layers.Dense(10)(x))
    model = keras.Model(inputs, outputs)
    for weight in model.weights:
        weight.assign(rng.normal(0.0, 0.3, weight.shape).astype("float32"))
    return model


@pytest.fixture(scope="session")
def small_model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("tflm") / "small_cnn.tflite"
    path.write_bytes(convert_int8(build_small_model(), (16, 16, 1)))
    return path


@pytest.fixture(scope="session")
def exported(small_model_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("tflm_out")
    sources = tflm.generate_tflm_sources(small_model_path)
    tflm.write_tflm_sources(sources, out)
    return out, sources


def test_generated_files_and_names(exported, small_model_path):
    out, sources = exported
    assert sorted(p.name for p in out.iterdir()) == [
        "labels.h",
        "model_data.cc",
        "model_data.h",
        "model_settings.h",
        "op_resolver.h",
    ]
    source = (out / "model_data.cc").read_text()
    header = (out / "model_data.h").read_text()
    data = small_model_path.read_bytes()
    assert "alignas(16) const unsigned char g_small_cnn_model_data[]" in source
    assert f"constexpr unsigned int g_small_cnn_model_data_size = {len(data)};" in header
    import hashlib

    assert hashlib.sha256(data).hexdigest() in header
    assert "Ops: CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, MEAN, FULLY_CONNECTED, SOFTMAX" in header
    assert re.search(r"Input 0: INT8 \[1, 16, 16, 1\] scale [0-9.e-]+ zero_point -128", header)
    bytes_in_source = [int(value, 16) for value in re.findall(r"0x([0-9a-f]{2})", source)]
    assert bytes(bytes_in_source) == data


def test_legacy_names(small_model_path, tmp_path):
    sources = tflm.generate_tflm_sources(small_model_path, legacy_names=True)
    assert "alignas(16) const unsigned char g_model[]" in sources.files["model_data.cc"]
    assert "extern const unsigned int g_model_len;" in sources.files["model_data.h"]


@pytest.mark.parametrize("file_name", ["op_resolver.h", "labels.h", "model_settings.h"])
def test_golden(exported, file_name):
    out, _ = exported
    assert (out / file_name).read_text() == (GOLDEN / file_name).read_text()


def compile_flags(toolchain, tree_name=REFERENCE):
    """Compiler and flags for `toolchain` ("host" or an emulated CPU) against the real tree, strict on warnings."""
    from edgecnn.emulate import CPUS, library, tree

    source_tree = tree.find_tree(require_tree(tree_name))
    if toolchain == "host":
        return require_tool("g++"), [*library.compiler_flags(source_tree), *OWN_FILE_WARNINGS]
    flags = library.compiler_flags(source_tree, CPUS.get(toolchain))
    return require_tool("arm-none-eabi-g++"), [*flags, *OWN_FILE_WARNINGS]


def _compile(compiler, out, tmp_path, flags):
    obj = tmp_path / f"{compiler.split('/')[-1]}_model_data.cc.o"
    subprocess.run([compiler, *flags, "-c", f"-I{out}", str(out / "model_data.cc"), "-o", str(obj)],
                   check=True, capture_output=True, text=True)
    resolver_check = tmp_path / "resolver.cc"
    resolver_check.write_text(
        '#include "op_resolver.h"\n#include "labels.h"\n#include "model_settings.h"\n'
        "int register_all() { ModelOpResolver r; return RegisterModelOps(r); }\n"
    )
    subprocess.run(
        [compiler, *flags, "-c", f"-I{out}", str(resolver_check), "-o", str(tmp_path / "resolver.o")],
        check=True, capture_output=True, text=True,
    )
    return obj


def _symbol(nm, obj, name):
    listing = subprocess.run(
        [nm, "-S", "--defined-only", str(obj)], capture_output=True, text=True, check=True
    ).stdout
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] == name:
            return int(parts[0], 16), int(parts[1], 16), parts[2]
    raise AssertionError(f"{name} not in {obj}: {listing}")


def _section_alignment(objdump, obj, symbol):
    table = subprocess.run([objdump, "-h", str(obj)], capture_output=True, text=True, check=True).stdout
    symbols = subprocess.run([objdump, "-t", str(obj)], capture_output=True, text=True, check=True).stdout
    section = next(line.split()[-3] for line in symbols.splitlines() if line.endswith(" " + symbol))
    row = next(line for line in table.splitlines() if line.split()[1:2] == [section])
    return section, int(row.split()[-1].split("**")[1])


def _toolchains():
    from edgecnn.emulate import CPUS

    return ["host", *CPUS.names()]


@pytest.mark.parametrize("toolchain", _toolchains())
def test_sources_compile_against_tflite_micro_with_aligned_read_only_model(exported, small_model_path, tmp_path,
                                                                           toolchain):
    out, _ = exported
    compiler, flags = compile_flags(toolchain)
    obj = _compile(compiler, out, tmp_path, flags)
    prefix = "" if toolchain == "host" else "arm-none-eabi-"
    address, size, kind = _symbol(require_tool(prefix + "nm"), obj, "g_small_cnn_model_data")
    assert kind in ("R", "r"), "model array must be in read-only data"
    assert size == small_model_path.stat().st_size
    section, alignment_power = _section_alignment(
        require_tool(prefix + "objdump"), obj, "g_small_cnn_model_data"
    )
    assert section.startswith(".rodata")
    assert 2**alignment_power >= 16 and address % 16 == 0


@pytest.mark.parametrize("toolchain", ["cortex-m4", "cortex-m55"])
def test_sources_compile_against_the_cmsis_nn_tree(exported, tmp_path, toolchain):
    out, _ = exported
    compiler, flags = compile_flags(toolchain, CMSIS_NN)
    assert _compile(compiler, out, tmp_path, flags).is_file()


def _zoo_model_path(name, tmp_path_factory):
    import edgecnn.zoo as zoo

    shape = ZOO_INPUT_SHAPES.get(name, zoo.model_info(name).default_input_shape)
    path = tmp_path_factory.mktemp("zoo") / f"{name}.tflite"
    model = zoo.create_model(name, input_shape=shape, num_classes=10)
    _set_batch_norm_statistics(model, np.random.default_rng(0).random((16, *shape), dtype=np.float32))
    path.write_bytes(convert_int8(model, shape))
    return path


def _set_batch_norm_statistics(model, images):
    """Batch-norm statistics from data, as training leaves them.

    Untrained, mobilenet_v2's signal dies out: its logits' int8 scale (~8e-9) is below the 2**-26 that TFLite
    Micro's int8 SOFTMAX accepts, and PreprocessSoftmaxScaling aborts the process while allocating.
    """
    import keras

    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in layers:
        layer.momentum = 0.0
    model(images, training=True)


def _zoo_names():
    import edgecnn.zoo as zoo

    return zoo.list_models()


@pytest.mark.slow
@pytest.mark.parametrize("name", _zoo_names())
def test_host_arena_covers_the_pip_tflite_micro_and_stays_within_ten_percent(name, tmp_path_factory):
    """The 64-bit replay against the pip package's RecordingMicroAllocator: the host check of the simulation."""
    pytest.importorskip("tflite_micro")
    path = _zoo_model_path(name, tmp_path_factory)
    estimate = arena.estimate_arena(tflite.read_model(path), abi=arena_sizes.HOST)
    measured = measure.measure_arena(path)
    assert estimate.head_bytes == measured.head_bytes  # the greedy plan is reproduced exactly
    assert measured.total_bytes <= estimate.recommended_bytes() <= 1.10 * measured.total_bytes
    # The estimate is enough for TFLite Micro to allocate the model in an arena of exactly that size.
    measure.measure_arena(path, arena_size=estimate.recommended_bytes())


def test_cli_export_and_missing_model(small_model_path, tmp_path):
    from click.testing import CliRunner

    from edgecnn.cli import main

    result = CliRunner().invoke(
        main, ["export", str(small_model_path), "--target", "tflm", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert "kTensorArenaSize" in result.output and (tmp_path / "out" / "op_resolver.h").exists()
    assert re.search(r"kTensorArenaSize = \d+ bytes on a 32-bit target \(reference \d+, cmsis-nn \d+", result.output)
    result = CliRunner().invoke(
        main,
        ["export", str(tmp_path / "missing.tflite"), "--target", "tflm", "--out", str(tmp_path / "out2")],
    )
    assert result.exit_code == 2 and "model file not found" in result.output


def test_every_interpreter_op_has_a_resolver_method_that_adds_that_builtin():
    """Each RESOLVER_METHODS entry names a MicroMutableOpResolver method registering that very builtin."""
    from edgecnn.reference import SUPPORTED_OPS

    assert set(SUPPORTED_OPS) <= set(tflm.RESOLVER_METHODS)
    header = (require_tree(REFERENCE) / "tensorflow/lite/micro/micro_mutable_op_resolver.h").read_text()
    for op, method in tflm.RESOLVER_METHODS.items():
        match = re.search(rf"TfLiteStatus {method}\((.*?)\n  \}}", header, re.DOTALL)
        assert match, method
        assert f"BuiltinOperator_{op}," in match.group(1), (op, method)
