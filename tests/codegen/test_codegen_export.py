"""`edgecnn export --target c`: the files and their interface, the memory figures it prints, warning-free
compiles with gcc and arm-none-eabi-gcc, and one-line errors that write nothing for models it cannot compile."""

import re
import subprocess

import c_build as build
import pytest
import reference_models
from click.testing import CliRunner
from external_tools import require_tool

from edgecnn import codegen, tflite
from edgecnn.cli import main

pytest.importorskip("tensorflow")

INTERFACE = (
    "#define EDGECNN_INPUT_BYTES 784",
    "#define EDGECNN_OUTPUT_BYTES 10",
    "#define EDGECNN_ARENA_BYTES ",
    "#define EDGECNN_INPUT_SCALE ",
    "#define EDGECNN_INPUT_ZERO_POINT ",
    "#define EDGECNN_OUTPUT_SCALE ",
    "#define EDGECNN_OUTPUT_ZERO_POINT ",
    "#define EDGECNN_NUM_LABELS 10",
    "int edgecnn_invoke(const int8_t *input, int8_t *output);",
    "extern const char *const edgecnn_labels[];",
)


def test_cli_writes_the_two_files_and_prints_the_memory_figures(models, tmp_path):
    out = tmp_path / "lenet_c"
    result = CliRunner().invoke(main, ["export", str(models.path("lenet5")), "--target", "c", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.iterdir()) == ["edgecnn_model.c", "edgecnn_model.h"]
    header = (out / "edgecnn_model.h").read_text()
    for line in INTERFACE:
        assert line in header
    plan = codegen.generate_sources(models.path("lenet5")).plan
    assert f"#define EDGECNN_ARENA_BYTES {plan.arena_bytes}\n" in header
    assert f"arena: {plan.arena_bytes} bytes" in result.output
    assert f"greedy arena for the same tensors: {plan.greedy_arena_bytes} bytes" in result.output
    assert f"peak of live activation bytes): {plan.peak_live_bytes} bytes" in result.output
    assert plan.arena_bytes + plan.output_bytes < plan.greedy_arena_bytes
    # The generated code uses no libc beyond <stdint.h>/<string.h> and no floating point.
    source = (out / "edgecnn_model.c").read_text()
    assert sorted(set(re.findall(r"#include <([^>]+)>", source + header))) == ["stdint.h", "string.h"]
    code = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    assert not re.search(r"\b(float|double)\b", code)


def test_labels_come_from_the_model_metadata(tmp_path, digit_model):
    sources = codegen.generate_sources(digit_model)
    assert 'const char *const edgecnn_labels[3] = {\n  "circle",\n  "square",\n  "triangle",\n};' in (
        sources.files["edgecnn_model.c"]
    )


@pytest.fixture(scope="module")
def digit_model(tmp_path_factory):
    """A tiny model carrying edgecnn metadata with three named labels."""
    import keras

    from edgecnn.artifacts import ModelMetadata
    from edgecnn.data import Preprocessing
    from edgecnn.quantize.converter import quantize_keras_model

    inputs = keras.Input((8, 8, 3))
    hidden = keras.layers.Flatten()(keras.layers.Conv2D(2, 3)(inputs))
    model = keras.Model(inputs, keras.layers.Softmax()(keras.layers.Dense(3)(hidden)))
    metadata = ModelMetadata(["circle", "square", "triangle"], Preprocessing(8, 8, 3), "shapes_tiny", "shapes")
    path = tmp_path_factory.mktemp("labelled") / "labelled.tflite"
    path.write_bytes(quantize_keras_model(model, reference_models.calibration_for((8, 8, 3)), metadata=metadata))
    return path


@pytest.mark.parametrize("compiler", ["gcc", "arm-none-eabi-gcc"])
@pytest.mark.parametrize("level", ["-O0", "-Os", "-O3"])
def test_generated_c_has_no_warnings(models, programs, tmp_path, compiler, level):
    """-Wall -Wextra -Werror -pedantic (C99) at every optimization level, for models covering every op family."""
    require_tool(compiler)
    toolchain = build.HOST if compiler == "gcc" else build.CORTEX_M4_QEMU
    for name in ("every_op", "mobilenet_v2", "smallcnn_int8"):
        folder = tmp_path / name
        codegen.write_sources(programs.sources(models.path(name)), folder)
        flags = [flag for flag in toolchain.flags if not flag.startswith("-O")] + [level]
        command = [compiler, *build.WARNINGS, *flags, "-c", str(folder / "edgecnn_model.c"), "-o", str(folder / "m.o")]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 0 and result.stderr == "", result.stderr


def _assert_refused(model_path, tmp_path, *fragments):
    out = tmp_path / "refused"
    result = CliRunner().invoke(main, ["export", str(model_path), "--target", "c", "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert not out.exists()


def test_a_float_model_is_refused_naming_the_op(models, tmp_path):
    _assert_refused(models.path("every_op_float_io"), tmp_path, "op 0 (QUANTIZE)", "FLOAT32", "full-int8")


def test_an_unsupported_op_is_refused_naming_index_and_name(models, tmp_path):
    patched = reference_models.with_operator_replaced(models.path("every_op").read_bytes(), "TANH", "EXP")
    path = tmp_path / "with_exp.tflite"
    path.write_bytes(patched)
    position = [operator.name for operator in tflite.read_model(path).main.operators].index("EXP")
    _assert_refused(path, tmp_path, f"op {position} (EXP)", "not supported by --target c")


def test_a_dynamic_shape_is_refused(models, tmp_path):
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(models.path("lenet5").read_bytes()))
    graph = model.subgraphs[0]
    graph.tensors[graph.inputs[0]].shapeSignature = [1, -1, -1, 1]
    path = tmp_path / "dynamic.tflite"
    path.write_bytes(bytes(flatbuffer_utils.convert_object_to_bytearray(model)))
    _assert_refused(path, tmp_path, "dynamic shape", "[1, -1, -1, 1]")


def test_a_model_with_two_inputs_is_refused(tmp_path):
    import numpy as np
    import tensorflow as tf

    spec = tf.TensorSpec((1, 4, 4, 3), tf.float32)
    concrete = tf.function(lambda x, y: x + 2.0 * y).get_concrete_function(spec, spec)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], None)
    samples = np.random.default_rng(0).uniform(-1, 1, (8, 2, 1, 4, 4, 3)).astype(np.float32)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([first, second] for first, second in samples)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    path = tmp_path / "two_inputs.tflite"
    path.write_bytes(converter.convert())
    _assert_refused(path, tmp_path, "2 inputs", "one input")


def test_every_interpreter_op_has_an_emitter():
    from edgecnn.reference import SUPPORTED_OPS

    missing = sorted(set(SUPPORTED_OPS) - set(codegen.supported_ops()) - set(codegen.NOT_INT8_OPS))
    assert missing == []
