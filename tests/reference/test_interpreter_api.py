"""The interpreter's contract: batching, intermediates, isolation, lifetimes, memory plan and clear errors."""

import numpy as np
import pytest
import reference_models

from edgecnn.errors import ConfigurationError, ModelFileError, UnsupportedModelError
from edgecnn.reference import SUPPORTED_OPS, Interpreter
from edgecnn.tflite import memory


@pytest.fixture(scope="module")
def interpreter(every_op_bytes):
    return Interpreter(every_op_bytes)


def test_batch_equals_one_image_at_a_time_and_intermediates_are_optional(interpreter):
    info = interpreter.input_details[0]
    inputs = np.random.default_rng(2).integers(-128, 128, size=(6, *info.shape[1:])).astype(np.int8)
    batched = interpreter.run(inputs)
    for number in range(len(inputs)):
        single = interpreter.run(inputs[number : number + 1])
        for index, array in single.tensors.items():
            np.testing.assert_array_equal(array[0], batched.tensors[index][number])
    lean = interpreter.run(inputs, keep_intermediates=False)
    np.testing.assert_array_equal(lean.outputs[0], batched.outputs[0])
    activations = {index for operator in interpreter.operators for index in operator.outputs}
    assert activations <= set(batched.tensors)
    assert set(lean.tensors) == {info.index, *interpreter.subgraph.outputs}


def test_dequantized_uses_scale_and_zero_point(interpreter):
    info = interpreter.input_details[0]
    inputs = np.random.default_rng(4).integers(-128, 128, size=(2, *info.shape[1:])).astype(np.int8)
    run = interpreter.run(inputs)
    output = interpreter.output_details[0]
    expected = (run.outputs[0].astype(np.float64) - output.zero_point) * output.scale
    np.testing.assert_allclose(run.dequantized(output.index), expected, rtol=1e-6)
    assert run.dequantized(output.index).dtype == np.float32
    assert output.scale == pytest.approx(1 / 256) and output.zero_point == -128


def test_run_operator_reproduces_the_op_inside_a_run(interpreter):
    info = interpreter.input_details[0]
    inputs = np.random.default_rng(6).integers(-128, 128, size=(3, *info.shape[1:])).astype(np.int8)
    run = interpreter.run(inputs)
    for operator in interpreter.operators:
        arrays = [
            None if index < 0 or interpreter.tensor_details[index].is_constant else run.tensors[index]
            for index in operator.inputs
        ]
        for ours, index in zip(interpreter.run_operator(operator.index, arrays), operator.outputs):
            np.testing.assert_array_equal(ours, run.tensors[index])
    with pytest.raises(ConfigurationError, match="no operator 999"):
        interpreter.run_operator(999, [])


def test_lifetimes_and_memory_plan(interpreter):
    lifetimes = interpreter.lifetimes()
    activations = {index for operator in interpreter.operators for index in operator.outputs}
    assert set(lifetimes) == activations | {interpreter.input_details[0].index}
    for operator in interpreter.operators:
        for index in operator.outputs:
            assert lifetimes[index][0] == operator.index
        for index in operator.inputs:
            if index in lifetimes:
                assert lifetimes[index][0] <= operator.index <= lifetimes[index][1]
    plan = memory.plan_memory(interpreter.subgraph, interpreter.lifetimes())
    sizes = {tensor.index: tensor.size for tensor in plan.tensors}
    assert sizes[interpreter.input_details[0].index] == 20 * 20 * 3
    assert plan.greedy_arena_bytes >= plan.peak_live_bytes > 0
    assert plan.greedy_arena_bytes < sum(memory.aligned(size) for size in sizes.values())
    for first in plan.tensors:
        assert first.offset % 16 == 0
        for second in plan.tensors:
            live_together = first.first_op <= second.last_op and second.first_op <= first.last_op
            if first is not second and live_together:
                assert (first.offset + first.size <= second.offset) or (
                    second.offset + second.size <= first.offset
                )


def test_greedy_plan_on_a_known_chain():
    """A chain a -> b -> c: a and c can share offset 0, so the arena is the two largest neighbours."""

    class Chain:
        tensors = [
            type("Info", (), {"name": name, "nbytes": size})()
            for name, size in (("a", 100), ("b", 40), ("c", 90))
        ]
        operators = [object(), object()]

    plan = memory.plan_memory(Chain(), {0: (0, 0), 1: (0, 1), 2: (1, 1)})
    assert plan.peak_live_bytes == 140
    offsets = {tensor.name: tensor.offset for tensor in plan.tensors}
    assert offsets == {"a": 0, "b": 112, "c": 0}
    assert plan.greedy_arena_bytes == 160


def test_wrong_input_shape_and_dtype_name_expected_and_got(interpreter):
    with pytest.raises(ConfigurationError, match=r"expects shape \('N', 20, 20, 3\), got \(2, 20, 20, 1\)"):
        interpreter.run(np.zeros((2, 20, 20, 1), np.int8))
    with pytest.raises(ConfigurationError, match="expects dtype int8, got float32"):
        interpreter.run(np.zeros((2, 20, 20, 3), np.float32))
    with pytest.raises(ConfigurationError, match="has 1 inputs, got 2"):
        interpreter.run([np.zeros((1, 20, 20, 3), np.int8)] * 2)
    with pytest.raises(ConfigurationError, match="unknown interpreter flavor"):
        Interpreter(b"", flavor="xnnpack")


def test_unsupported_op_fails_at_load_naming_op_and_index(model_cache):
    if "upsampling" not in model_cache:
        model_cache["upsampling"] = reference_models.convert(
            reference_models.upsampling_model(), reference_models.calibration_for((8, 8, 3))
        )
    with pytest.raises(UnsupportedModelError, match=r"op \d+ \([A-Z_0-9]+\): op not supported") as caught:
        Interpreter(model_cache["upsampling"])
    unsupported = str(caught.value).split("(")[1].split(")")[0]
    assert unsupported not in SUPPORTED_OPS and unsupported == "TILE"


def test_float_model_is_rejected_at_load(model_cache):
    if "float" not in model_cache:
        from edgecnn.quantize.converter import quantize_keras_model

        model_cache["float"] = quantize_keras_model(
            reference_models.grouped_conv_model(), mode="float32", io_type="float32"
        )
    with pytest.raises(UnsupportedModelError, match=r"op 0 \(CONV_2D\): tensor 0 .* is FLOAT32.*int8"):
        Interpreter(model_cache["float"])


def test_corrupt_model_raises_model_file_error(every_op_bytes, tmp_path):
    with pytest.raises(ModelFileError):
        Interpreter(every_op_bytes[: len(every_op_bytes) // 2])
    with pytest.raises(ModelFileError, match="not found"):
        Interpreter(tmp_path / "absent.tflite")
