"""Every tensor of the NumPy interpreter equals TFLite's reference kernels; outputs equal TFLite Micro's."""

import conftest
import numpy as np
import pytest
import reference_models

from edgecnn.reference import Interpreter

pytest.importorskip("ai_edge_litert")


def random_inputs(info, count=100, seed=0):
    low, high = np.iinfo(info.dtype).min, np.iinfo(info.dtype).max
    return (
        np.random.default_rng(seed).integers(low, high + 1, size=(count, *info.shape[1:])).astype(info.dtype)
    )


def real_inputs(info, count=100):
    images = conftest.real_images_for(tuple(info.shape[1:]), count=count)
    return reference_models.quantize_inputs(images, info.scale, info.zero_point, info.dtype)


def assert_every_tensor_matches_builtin_ref(model_bytes, inputs):
    interpreter = Interpreter(model_bytes, flavor="tflite")
    run = interpreter.run(inputs)
    reference = reference_models.litert_reference_tensors(model_bytes, inputs)
    assert reference_models.mismatches(interpreter, run, reference) == []
    for ours, index in zip(run.outputs, interpreter.subgraph.outputs):
        np.testing.assert_array_equal(ours, reference[index])
    return interpreter, run


def test_every_op_model_matches_builtin_ref_on_random_and_real_inputs(every_op_bytes):
    interpreter = Interpreter(every_op_bytes)
    expected_ops = {
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "PAD",
        "RELU6",
        "LEAKY_RELU",
        "LOGISTIC",
        "ADD",
        "SUB",
        "MUL",
        "TANH",
        "QUANTIZE",
        "HARD_SWISH",
        "CONCATENATION",
        "MAX_POOL_2D",
        "AVERAGE_POOL_2D",
        "TRANSPOSE_CONV",
        "RELU",
        "RESHAPE",
        "FULLY_CONNECTED",
        "MEAN",
        "SOFTMAX",
    }
    assert expected_ops <= {operator.name for operator in interpreter.operators}
    info = interpreter.input_details[0]
    assert_every_tensor_matches_builtin_ref(every_op_bytes, random_inputs(info, 100))
    _, run = assert_every_tensor_matches_builtin_ref(every_op_bytes, real_inputs(info, 100))
    # The comparison is not degenerate: the logits vary with the image.
    logits = run.tensors[interpreter.operators[-1].inputs[0]]
    assert len({tuple(row) for row in logits}) > 50


def test_float_io_model_quantize_and_dequantize_match(every_op_float_io_bytes):
    interpreter = Interpreter(every_op_float_io_bytes)
    names = [operator.name for operator in interpreter.operators]
    assert names[0] == "QUANTIZE" and names[-1] == "DEQUANTIZE"
    assert interpreter.input_details[0].dtype == np.float32
    images = np.concatenate(
        [
            conftest.real_images_for((20, 20, 3), count=50),
            np.random.default_rng(3).uniform(-2, 2, size=(50, 20, 20, 3)).astype(np.float32),
        ]
    )
    _, run = assert_every_tensor_matches_builtin_ref(every_op_float_io_bytes, images)
    assert run.outputs[0].dtype == np.float32


def test_grouped_conv_matches(grouped_conv_bytes):
    interpreter = Interpreter(grouped_conv_bytes)
    filters = interpreter.model.subgraphs[0].tensors[interpreter.operators[0].inputs[1]]
    assert filters.shape[3] < interpreter.input_details[0].shape[3]  # really grouped
    assert_every_tensor_matches_builtin_ref(
        grouped_conv_bytes, random_inputs(interpreter.input_details[0], 100)
    )


@pytest.mark.parametrize("name", sorted(set(conftest.ZOO_SHAPES) - conftest.BUILTIN_REF_ABORTS))
def test_zoo_models_match_builtin_ref(model_cache, name):
    model_bytes = conftest.zoo_model_bytes(model_cache, name)
    info = Interpreter(model_bytes).input_details[0]
    count = 100 if name in ("lenet5", "tiny_vgg") else 20
    assert_every_tensor_matches_builtin_ref(model_bytes, random_inputs(info, count, seed=5))
    assert_every_tensor_matches_builtin_ref(model_bytes, real_inputs(info, count))


def test_fully_connected_requantizes_in_double_in_tflite_and_with_multipliers_in_micro(every_op_bytes):
    """The experiment behind the flavors: ai-edge-litert rounds FC in double, TFLite Micro does not."""
    inputs = random_inputs(Interpreter(every_op_bytes).input_details[0], 200, seed=11)
    reference = reference_models.litert_reference_tensors(every_op_bytes, inputs)
    micro_flavor = Interpreter(every_op_bytes, flavor="micro")
    run = micro_flavor.run(inputs)
    first_fc = next(op for op in micro_flavor.operators if op.name == "FULLY_CONNECTED")
    # Feed the micro-flavor FC the reference's own input so only the requantization differs.
    arrays = [
        reference[index]
        if index >= 0 and index in reference and not micro_flavor.tensor_details[index].is_constant
        else None
        for index in first_fc.inputs
    ]
    isolated_micro = micro_flavor.run_operator(first_fc.index, arrays)[0]
    isolated_tflite = Interpreter(every_op_bytes).run_operator(first_fc.index, arrays)[0]
    expected = reference[first_fc.outputs[0]]
    np.testing.assert_array_equal(isolated_tflite, expected)
    differing = np.count_nonzero(isolated_micro != expected)
    assert 0 < differing and np.abs(isolated_micro.astype(int) - expected).max() == 1
    assert run.outputs[0].shape == expected.shape[:1] + run.outputs[0].shape[1:]


@pytest.mark.parametrize("model", ["every_op", "lenet5", "resnet8"])
def test_micro_flavor_outputs_equal_tflite_micro(model_cache, every_op_bytes, model, tmp_path):
    pytest.importorskip("tflite_micro")
    model_bytes = every_op_bytes if model == "every_op" else conftest.zoo_model_bytes(model_cache, model)
    interpreter = Interpreter(model_bytes, flavor="micro")
    info = interpreter.input_details[0]
    for inputs in (random_inputs(info, 100, seed=7), real_inputs(info, 100)):
        ours = interpreter.run(inputs, keep_intermediates=False).outputs[0]
        np.testing.assert_array_equal(ours, reference_models.micro_outputs(model_bytes, inputs, tmp_path))
