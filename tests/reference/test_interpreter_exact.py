"""Every tensor of the NumPy interpreter equals TFLite's reference kernels; outputs equal TFLite Micro's."""

import numpy as np
import pytest
import reference_models

import edgecnn.zoo
from edgecnn.reference import Interpreter

pytest.importorskip("ai_edge_litert")

random_inputs = reference_models.random_int8_inputs
real_inputs = reference_models.real_int8_inputs
ZOO_MODELS = edgecnn.zoo.list_models()


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
            reference_models.real_images_for((20, 20, 3), count=50),
            np.random.default_rng(3).uniform(-2, 2, size=(50, 20, 20, 3)).astype(np.float32),
        ]
    )
    _, run = assert_every_tensor_matches_builtin_ref(every_op_float_io_bytes, images)
    assert run.outputs[0].dtype == np.float32


def test_grouped_conv_matches(grouped_conv_bytes):
    interpreter = Interpreter(grouped_conv_bytes)
    filters = interpreter.model.subgraphs[0].tensors[interpreter.operators[0].inputs[1]]
    assert filters.shape[3] < interpreter.input_details[0].shape[3]  # really grouped
    assert_every_tensor_matches_builtin_ref(grouped_conv_bytes, random_inputs(interpreter.input_details[0], 100))


@pytest.mark.parametrize("name", ZOO_MODELS)
def test_zoo_models_match_builtin_ref(model_cache, name):
    model_bytes = reference_models.zoo_model_bytes(model_cache, name)
    interpreter = Interpreter(model_bytes)
    info = interpreter.input_details[0]
    assert_every_tensor_matches_builtin_ref(model_bytes, random_inputs(info, 100, seed=5))
    _, run = assert_every_tensor_matches_builtin_ref(model_bytes, real_inputs(info, 100))
    # Not degenerate: the class scores depend on the image.
    logits = run.tensors[interpreter.operators[-1].inputs[0]]
    assert len({tuple(row) for row in logits.reshape(len(logits), -1)}) > 20


def test_every_zoo_model_has_a_small_test_shape():
    assert set(reference_models.ZOO_SHAPES) == set(ZOO_MODELS)


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


@pytest.mark.parametrize("model", ["every_op", *ZOO_MODELS])
def test_micro_flavor_outputs_equal_tflite_micro(model_cache, every_op_bytes, model, tmp_path):
    pytest.importorskip("tflite_micro")
    if model == "every_op":
        model_bytes = every_op_bytes
    else:
        model_bytes = reference_models.zoo_model_bytes(model_cache, model)
    interpreter = Interpreter(model_bytes, flavor="micro")
    info = interpreter.input_details[0]
    for inputs in (random_inputs(info, 100, seed=7), real_inputs(info, 100)):
        ours = interpreter.run(inputs, keep_intermediates=False).outputs[0]
        np.testing.assert_array_equal(ours, reference_models.micro_outputs(model_bytes, inputs, tmp_path))


_ALLOCATE_IN_CHILD = """
import sys
from ai_edge_litert import interpreter as litert
from tflite_micro.python.tflite_micro import runtime
if "builtin_ref" in sys.argv[2:]:
    reference = litert.OpResolverType.BUILTIN_REF
    litert.Interpreter(model_path=sys.argv[1], experimental_op_resolver_type=reference).allocate_tensors()
if "micro" in sys.argv[2:]:
    runtime.Interpreter.from_file(sys.argv[1])
"""


def test_builtin_ref_and_micro_abort_on_softmax_input_scale_below_two_to_the_minus_26(every_op_bytes, tmp_path):
    """Why zoo models get data batch-norm statistics: both runtimes check beta * input_scale * 2**26 > 1.

    The check is TFLITE_CHECK_GT in QuantizeMultiplierGreaterThanOne, reached from PreprocessSoftmaxScaling
    in SoftmaxPrepare (kReference in LiteRT's activations.cc, CalculateSoftmaxParams in TFLite Micro): it
    aborts the process, so it runs in a child.
    """
    pytest.importorskip("tflite_micro")
    import subprocess
    import sys

    def allocate(scale, *runtimes):
        path = tmp_path / f"softmax_{scale}.tflite"
        path.write_bytes(reference_models.with_softmax_input_scale(every_op_bytes, scale))
        command = [sys.executable, "-c", _ALLOCATE_IN_CHILD, str(path), *runtimes]
        return subprocess.run(command, capture_output=True).returncode

    # 2**-26 = 1.4901e-8; -6 is SIGABRT.
    assert allocate(1.48e-8, "builtin_ref") == -6
    assert allocate(1.48e-8, "micro") == -6
    assert allocate(1.50e-8, "builtin_ref", "micro") == 0
