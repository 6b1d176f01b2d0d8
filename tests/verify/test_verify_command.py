"""`edgecnn verify` on real converted models: exit codes, JSON counts, --isolate, and one-line errors."""

import dataclasses
import json
import pathlib
import sys

import numpy
import pytest
from click.testing import CliRunner

from edgecnn.cli import main
from edgecnn.reference import Interpreter, interpreter
from edgecnn.verify import keras_layers, runtimes

pytest.importorskip("ai_edge_litert")


def run_verify(*arguments):
    return CliRunner().invoke(main, ["verify", *[str(argument) for argument in arguments]])


def assert_one_line_error(result, *fragments):
    assert result.exit_code not in (0, 1), result.output
    assert "Traceback" not in result.output
    error_lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(error_lines) == 1, result.output
    assert error_lines[0].startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in error_lines[0], result.output


def computed_tensor_count(model_path):
    return sum(len(operator.outputs) for operator in Interpreter(str(model_path)).operators)


@pytest.fixture
def add_one_to_max_pool(monkeypatch):
    """Make the NumPy interpreter's MAX_POOL_2D wrong by +1 LSB (saturating), as a kernel bug would."""
    original = interpreter.KERNELS["MAX_POOL_2D"]

    def off_by_one(call):
        return [
            numpy.minimum(output.astype(numpy.int16) + 1, 127).astype(numpy.int8) for output in original(call)
        ]

    monkeypatch.setitem(interpreter.KERNELS, "MAX_POOL_2D", off_by_one)


def test_correct_model_is_bit_exact_with_reference_and_micro(verify_models, tmp_path):
    report_path = tmp_path / "verify.json"
    result = run_verify(verify_models["digits_int8"], "--random", 12, "--json", report_path)
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    tensor_count = computed_tensor_count(verify_models["digits_int8"])
    assert report["litert-ref"] == {**report["litert-ref"], "mismatched_elements": 0, "tensors": tensor_count}
    assert report["tflm"]["mismatched_elements"] == 0
    assert report["tflm"]["tensors"] == 1  # TFLite Micro exposes the output only
    assert report["litert"]["tensors"] >= 1
    assert report["images"] == 12
    assert report["bit_exact"] is True
    assert 0 < report["memory"]["peak_live_bytes"] <= report["memory"]["greedy_arena_bytes"]
    assert {row["verdict"] for row in report["litert-ref"]["rows"]} == {"bit-exact"}
    assert "bit-exact" in result.output and "peak live" in result.output


def test_dataset_inputs_and_keras_layer_comparison(verify_models, tmp_path):
    report_path = tmp_path / "verify.json"
    result = run_verify(
        verify_models["digits_int8"], "--dataset", "mnist-sample", "--count", 16, "--against", "litert-ref",
        "--keras", verify_models["digits_keras"], "--json", report_path,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    assert set(report) >= {"litert-ref", "keras", "memory"} and "tflm" not in report
    assert "16 images of mnist-sample" in report["inputs"]
    layers = {row["layer"]: row for row in report["keras"]["layers"]}
    assert layers["conv1"]["matched_by"] == "name"
    assert layers["logits"]["matched_by"] == "name"
    # The softmax output tensor lost its name in conversion: paired by shape, and said so.
    assert layers["probabilities"]["matched_by"] == "shape order"
    assert any("guess" in note for note in report["keras"]["notes"])
    for name in ("conv1", "depthwise", "add", "pool", "conv2", "logits"):
        assert layers[name]["sqnr_db"] > 15.0, layers[name]
        assert layers[name]["cosine"] > 0.98, layers[name]
    assert "SQNR" in result.output


def test_kernel_off_by_one_fails_with_exit_1(verify_models, tmp_path, add_one_to_max_pool):
    report_path = tmp_path / "verify.json"
    result = run_verify(
        verify_models["digits_int8"], "--random", 6, "--against", "litert-ref", "--json", report_path
    )
    assert result.exit_code == 1, result.output
    report = json.loads(report_path.read_text())
    assert report["litert-ref"]["mismatched_elements"] > 0
    assert report["bit_exact"] is False
    assert "NOT bit-exact with litert-ref" in result.output


def test_isolate_pins_the_difference_to_the_one_wrong_op(verify_models, tmp_path, add_one_to_max_pool):
    end_to_end_path, isolated_path = tmp_path / "end_to_end.json", tmp_path / "isolated.json"
    model = verify_models["digits_int8"]
    run_verify(model, "--random", 6, "--against", "litert-ref", "--json", end_to_end_path)
    result = run_verify(model, "--random", 6, "--against", "litert-ref", "--isolate", "--json", isolated_path)
    assert result.exit_code == 1, result.output
    end_to_end = json.loads(end_to_end_path.read_text())["litert-ref"]["rows"]
    isolated = json.loads(isolated_path.read_text())["litert-ref"]["rows"]
    differing_end_to_end = [row["op_name"] for row in end_to_end if row["differing"]]
    differing_isolated = [row["op_name"] for row in isolated if row["differing"]]
    # End to end the error spreads to the ops after the pool; isolated, only the pool itself differs.
    assert differing_end_to_end[0] == "MAX_POOL_2D" and len(differing_end_to_end) > 1
    assert differing_isolated == ["MAX_POOL_2D"]
    assert len(isolated) == len(end_to_end)


def test_optimized_path_is_within_one_lsb_per_op(verify_models, tmp_path):
    report_path = tmp_path / "verify.json"
    result = run_verify(
        verify_models["lenet5_int8"],
        "--random",
        8,
        "--against",
        "litert",
        "--isolate",
        "--json",
        report_path,
    )
    assert result.exit_code == 0, result.output
    optimized = json.loads(report_path.read_text())["litert"]
    assert optimized["isolated"] is True and optimized["tensors"] >= 1
    # XNNPACK requantizes in float32; 1-2 LSB per op is what the numerics notes measured, more is a bug.
    assert optimized["max_abs_diff"] <= 2, optimized["rows"]
    for row in optimized["rows"]:
        assert row["verdict"] == (
            "bit-exact"
            if row["max_abs_diff"] == 0
            else "within 1 LSB"
            if row["max_abs_diff"] == 1
            else "mismatch"
        )


@pytest.mark.parametrize(
    "make_file, fragments",
    [
        (
            lambda path, model: path.write_bytes(model.read_bytes()[: len(model.read_bytes()) // 2]),
            ("corrupt",),
        ),
        (lambda path, model: path.write_text("just some notes, not a model\n" * 20), ("not a TFLite model",)),
    ],
    ids=["truncated", "text"],
)
def test_bad_model_files_give_one_line_errors(verify_models, tmp_path, make_file, fragments):
    bad_path = tmp_path / "bad.tflite"
    make_file(bad_path, verify_models["digits_int8"])
    report_path = tmp_path / "verify.json"
    result = run_verify(bad_path, "--random", 2, "--json", report_path)
    assert_one_line_error(result, str(bad_path), *fragments)
    assert list(tmp_path.iterdir()) == [bad_path]


def test_missing_model_file(tmp_path):
    assert_one_line_error(run_verify(tmp_path / "absent.tflite"), "not found")


def test_float_model_is_refused(verify_models, tmp_path):
    report_path = tmp_path / "verify.json"
    result = run_verify(verify_models["digits_float"], "--random", 2, "--json", report_path)
    assert_one_line_error(result, "digits_float.tflite")
    assert "int8" in result.output
    assert not report_path.exists()


@pytest.mark.parametrize("value", ["0", "-3", "abc", "2.5"])
def test_wrong_random_value(verify_models, value):
    assert_one_line_error(
        run_verify(verify_models["digits_int8"], "--random", value), "--random", repr(value)
    )


def test_unsupported_op_names_the_op(verify_models, monkeypatch):
    monkeypatch.delitem(interpreter.KERNELS, "SOFTMAX")
    assert_one_line_error(run_verify(verify_models["digits_int8"], "--random", 2), "SOFTMAX", "not supported")


def test_unknown_runtime_and_dataset(verify_models):
    assert_one_line_error(run_verify(verify_models["digits_int8"], "--against", "gpu"), "'gpu'", "litert-ref")
    assert_one_line_error(run_verify(verify_models["digits_int8"], "--dataset", "no-such-set"), "no-such-set")


def test_missing_runtime_is_skipped_by_default_and_an_error_when_named(verify_models, monkeypatch):
    missing = dataclasses.replace(runtimes.RUNTIMES["tflm"], module="tflite_micro.not_installed_here")
    monkeypatch.setitem(runtimes.RUNTIMES._specs, "tflm", missing)
    result = run_verify(verify_models["digits_int8"], "--random", 2)
    assert result.exit_code == 0, result.output
    assert "skipped tflm" in result.output
    named = run_verify(verify_models["digits_int8"], "--random", 2, "--against", "litert-ref,tflm")
    assert_one_line_error(named, 'pip install "edgecnn[dev]"')


def test_layer_matching_by_name_fused_names_and_shape_order():
    layers = [
        ("conv", (8, 8, 4)),
        ("bn", (8, 8, 4)),
        ("relu", (8, 8, 4)),
        ("flatten", (256,)),
        ("dense", (10,)),
        ("softmax", (10,)),
    ]
    candidates = [
        ("model/relu_1/Relu;model/bn_1/FusedBatchNormV3;model/conv_1/Conv2D", (8, 8, 4)),
        ("model/flatten_1/Reshape", (256,)),
        ("model/dense_1/MatMul", (10,)),
        ("Identity:0", (10,)),
    ]
    matches = keras_layers.match_layers(layers, candidates)
    assert matches == {
        2: (0, "name"),  # the fused tensor is the output of the last layer folded into it
        3: (1, "name"),
        4: (2, "name"),
        5: (3, "shape order"),
    }


def test_keras_file_that_is_not_a_keras_model(verify_models, tmp_path):
    not_keras = tmp_path / "notes.keras"
    not_keras.write_text("not a zip archive\n")
    result = run_verify(
        verify_models["digits_int8"], "--random", 2, "--against", "litert-ref", "--keras", not_keras
    )
    assert_one_line_error(result, "notes.keras", "not a Keras model")


def test_runtime_that_refuses_the_model_is_skipped_in_one_short_line(verify_models, tmp_path):
    report_path = tmp_path / "verify.json"
    result = run_verify(verify_models["bias_dimension_3"], "--random", 4, "--json", report_path)
    assert result.exit_code == 0, result.output
    skipped = [line for line in result.output.splitlines() if line.startswith("skipped litert")]
    assert len(skipped) == 2 and all("quantized_dimension" in line and len(line) < 330 for line in skipped), skipped
    report = json.loads(report_path.read_text())
    assert report["tflm"]["mismatched_elements"] == 0 and "litert-ref" not in report
    named = run_verify(verify_models["bias_dimension_3"], "--random", 2, "--against", "litert-ref")
    assert_one_line_error(named, "litert-ref", "quantized_dimension")
    assert len(named.output) < 400


def test_no_runtime_that_can_run_is_a_distinct_exit_code(verify_models, monkeypatch):
    missing = dataclasses.replace(runtimes.RUNTIMES["tflm"], module="tflite_micro.not_installed_here")
    monkeypatch.setitem(runtimes.RUNTIMES._specs, "tflm", missing)
    result = run_verify(verify_models["bias_dimension_3"], "--random", 2)
    assert result.exit_code == 3, result.output
    assert result.output.splitlines()[-1].startswith("error: no runtime could run this model")


def test_a_runtime_that_aborts_is_that_runtimes_error_not_verifys(verify_models, monkeypatch):
    import aborting_runtime

    aborting = dataclasses.replace(runtimes.RUNTIMES["tflm"], runner=aborting_runtime.AbortingRunner)
    monkeypatch.setitem(runtimes.RUNTIMES._specs, "tflm", aborting)
    result = run_verify(verify_models["digits_int8"], "--random", 2)
    assert result.exit_code == 0, result.output
    assert "skipped tflm: TFLite Micro (Python package) crashed" in result.output and "SIGABRT" in result.output
    named = run_verify(verify_models["digits_int8"], "--random", 2, "--against", "tflm")
    assert_one_line_error(named, "crashed", "SIGABRT")


def test_known_runtime_defects_and_gaps_are_skipped_with_the_op_named(tmp_path):
    """BUILTIN_REF's int8 SUM is defective (edgecnn.reference.support): verify compares with the others."""
    tf = pytest.importorskip("tensorflow")
    sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "reference"))
    import reference_models

    calibration = numpy.random.default_rng(0).normal(size=(8, 6, 6, 3)).astype(numpy.float32)
    model = tmp_path / "sum.tflite"
    function = lambda x: tf.reduce_sum(x, axis=[1, 2])  # noqa: E731
    model.write_bytes(reference_models.convert_function(function, (6, 6, 3), calibration))
    report_path = tmp_path / "verify.json"
    result = run_verify(model, "--random", 8, "--json", report_path)
    assert result.exit_code == 0, result.output
    assert "skipped litert-ref: op 0 (SUM): ai-edge-litert's reference" in result.output
    assert json.loads(report_path.read_text())["tflm"]["mismatched_elements"] == 0
    assert_one_line_error(run_verify(model, "--random", 2, "--against", "litert-ref"), "op 0 (SUM)")
