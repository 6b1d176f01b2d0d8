"""The ops converters emit for CNNs (issue 13), one converted model each with random parameters: every tensor
equals TFLite's BUILTIN_REF, and the micro flavor's outputs equal TFLite Micro's.

The random models are converter_op_models.CASES (shared with the C compiler's tests); the tests below them pin
single facts. Each test asserts the op is really in the converted model.
"""

import converter_op_models
import numpy as np
import pytest
import reference_models
import single_op_models
from hypothesis import given, settings

from edgecnn import tflite
from edgecnn.errors import UnsupportedModelError
from edgecnn.reference import (
    BUILTIN_REF_DEFECTS,
    BUILTIN_REF_UNSUPPORTED_OPS,
    MICRO_UNSUPPORTED_OPS,
    Interpreter,
    micro_problems,
)
from edgecnn.tflite import memory

tf = pytest.importorskip("tensorflow")
pytest.importorskip("ai_edge_litert")
pytest.importorskip("tflite_micro")

OP_SETTINGS = single_op_models.hypothesis_settings(25)


calibration = converter_op_models.calibration
convert = converter_op_models.convert


def op_names(model_bytes):
    return tflite.op_names(tflite.read_model(model_bytes), distinct=False)


def assert_exact(model_bytes, op, seed, tmp_path, count=10):
    """Every tensor equals BUILTIN_REF's; every output of the micro flavor equals TFLite Micro's.

    An op of BUILTIN_REF_DEFECTS is left out of the BUILTIN_REF comparison: the tests put it at a model
    output, where both flavors (they compute it alike) are compared with TFLite Micro instead."""
    assert op in op_names(model_bytes), op_names(model_bytes)
    interpreter = Interpreter(model_bytes)
    info = interpreter.input_details[0]
    inputs = reference_models.random_int8_inputs(info, count, seed=seed)
    run = interpreter.run(inputs)
    reference_bytes = model_bytes
    if op in BUILTIN_REF_UNSUPPORTED_OPS:
        # The int8 kernel is there; only the registration of its opcode version is missing.
        reference_bytes = reference_models.with_operator_replaced(model_bytes, op, op, options={"version": 1})
    reference = reference_models.litert_reference_tensors(reference_bytes, inputs)
    mismatches = reference_models.mismatches(interpreter, run, reference)
    assert [mismatch for mismatch in mismatches if mismatch[1] not in BUILTIN_REF_DEFECTS] == []
    if op in BUILTIN_REF_DEFECTS:
        defective = {index for o in interpreter.operators if o.name == op for index in o.outputs}
        assert defective <= set(interpreter.subgraph.outputs)
        for index, ours in zip(interpreter.subgraph.outputs, run.outputs):
            np.testing.assert_array_equal(ours, Interpreter(model_bytes, flavor="micro").run(inputs).tensors[index])
    micro = Interpreter(model_bytes, flavor="micro")
    assert op not in MICRO_UNSUPPORTED_OPS and micro_problems(micro) == []
    ours = micro.run(inputs, keep_intermediates=False).outputs
    theirs = reference_models.micro_outputs(model_bytes, inputs, tmp_path, every_output=True)
    assert len(ours) == len(theirs)
    for our_output, micro_output in zip(ours, theirs):
        np.testing.assert_array_equal(our_output, micro_output)
    return interpreter


@pytest.mark.parametrize("case", converter_op_models.CASES, ids=lambda case: case.name)
def test_converted_op_models_are_exact(case, tmp_path):
    """Every model of the case: exact against BUILTIN_REF and TFLite Micro (assert_exact), with the output
    shape its builder expects where it knows one."""

    @settings(OP_SETTINGS, max_examples=case.max_examples or OP_SETTINGS.max_examples)
    @given(parameters=case.parameters, seed=converter_op_models.SEEDS)
    def check(parameters, seed):
        for built in case.build(parameters, seed):
            interpreter = assert_exact(built.model, built.op, seed, tmp_path)
            if built.output_shape is not None:
                assert tuple(interpreter.output_details[0].shape) == tuple(built.output_shape)

    check()


def test_builtin_ref_sums_int8_as_uint8_bit_patterns():
    """The defect of BUILTIN_REF_DEFECTS["SUM"], reproduced exactly: uint8 sums, clamped to 0..255."""
    from edgecnn.reference import arithmetic

    axes = [1, 2]
    model = convert(lambda x: tf.reduce_sum(x, axis=axes), (3, 4, 2), 5)
    interpreter = Interpreter(model)
    inputs = reference_models.random_int8_inputs(interpreter.input_details[0], 20, seed=5)
    operator = interpreter.operators[0]
    assert operator.name == "SUM"
    source, result = (interpreter.tensor_details[index] for index in (operator.inputs[0], operator.outputs[0]))
    multiplier, shift = arithmetic.quantize_multiplier(source.scale / result.scale)
    total = inputs.view(np.uint8).astype(np.int64).sum(axis=(1, 2)) - source.zero_point * 12
    as_uint8 = arithmetic.multiply_by_quantized_multiplier(total, multiplier, shift) + result.zero_point
    expected = np.clip(as_uint8, 0, 255).astype(np.uint8).view(np.int8)
    reference = reference_models.litert_reference_tensors(model, inputs)[operator.outputs[0]]
    np.testing.assert_array_equal(reference, expected)
    assert np.count_nonzero(interpreter.run(inputs).outputs[0] != reference) > 0


def test_builtin_ref_lacks_int8_depth_to_space(tmp_path):
    """Why BUILTIN_REF_UNSUPPORTED_OPS lists it: register_ref.cc adds DEPTH_TO_SPACE without a version range."""
    from ai_edge_litert import interpreter as litert

    model = convert(lambda x: tf.nn.depth_to_space(x, 2), (2, 2, 4), 0)
    path = tmp_path / "depth_to_space.tflite"
    path.write_bytes(model)
    reference = litert.OpResolverType.BUILTIN_REF
    with pytest.raises(ValueError, match="DEPTH_TO_SPACE' version '2'"):
        litert.Interpreter(model_path=str(path), experimental_op_resolver_type=reference).allocate_tensors()


def test_quantize_requantizes_int8_and_converts_uint8_at_the_model_edges(tmp_path):
    # One tensor feeding two CONCATENATIONs of different ranges gets a QUANTIZE (int8 -> int8) for one.
    def two_concatenations(x):
        return tf.concat([x, 4.0 * x], axis=3), tf.concat([x, 0.25 * x], axis=3)

    model = convert(two_concatenations, (4, 4, 3), 1)
    interpreter = Interpreter(model)
    requantizing = [
        op
        for op in interpreter.operators
        if op.name == "QUANTIZE" and interpreter.tensor_details[op.inputs[0]].dtype == np.int8
    ]
    assert requantizing, op_names(model)
    scales = {interpreter.tensor_details[index].scale for op in requantizing for index in (*op.inputs, *op.outputs)}
    assert len(scales) > 1
    assert_exact(model, "QUANTIZE", 1, tmp_path, count=64)
    uint8_model = convert(lambda x: 3.0 * x, (4, 4, 3), 2, io_type="uint8")
    interpreter = assert_exact(uint8_model, "QUANTIZE", 2, tmp_path, count=64)
    assert interpreter.input_details[0].dtype == np.uint8 and interpreter.output_details[0].dtype == np.uint8


def test_nchw_input_transposed_into_a_conv_runs_exactly(model_cache, tmp_path):
    """The way PyTorch-converted models start: an NCHW input, a TRANSPOSE to NHWC, then convolutions."""
    import keras

    if "nchw" not in model_cache:
        inputs = keras.Input((3, 12, 10))
        nhwc = keras.layers.Permute((2, 3, 1))(inputs)
        features = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(nhwc)
        outputs = keras.layers.Conv2D(4, 3, strides=2)(features)
        model_cache["nchw"] = reference_models.convert(keras.Model(inputs, outputs), calibration((3, 12, 10), 4))
    model = model_cache["nchw"]
    assert op_names(model)[:2] == ["TRANSPOSE", "CONV_2D"]
    assert_exact(model, "TRANSPOSE", 4, tmp_path, count=50)


def test_multi_output_lifetimes_and_memory_plan():
    """SPLIT's pieces live from the SPLIT to their last reader, each its own."""

    def pieces(x):
        first, second, third = tf.split(2.0 * x, 3, axis=3)
        return tf.concat([first + second, 3.0 * third, second], axis=3)

    model = convert(pieces, (4, 4, 6), 3)
    interpreter = Interpreter(model)
    split = next(op for op in interpreter.operators if op.name == "SPLIT")
    lifetimes = interpreter.lifetimes()
    readers = {index: [op.index for op in interpreter.operators if index in op.inputs] for index in split.outputs}
    for index in split.outputs:
        last = max(readers[index], default=split.index)
        assert lifetimes[index] == (split.index, last)
    assert len({lifetimes[index] for index in split.outputs}) > 1
    plan = memory.plan_memory(interpreter.subgraph, interpreter.lifetimes())
    assert {tensor.index for tensor in plan.tensors} >= set(split.outputs)
    inputs = reference_models.random_int8_inputs(interpreter.input_details[0], 8, seed=3)
    kept = interpreter.run(inputs).outputs
    lean = interpreter.run(inputs, keep_intermediates=False)
    for ours, theirs in zip(lean.outputs, kept):
        np.testing.assert_array_equal(ours, theirs)
    assert set(lean.tensors) == set(interpreter.subgraph.inputs) | set(interpreter.subgraph.outputs)


def test_non_constant_permutation_is_refused_naming_op_and_reason():
    model = convert(lambda x: tf.transpose(x, [0, 2, 1, 3]), (3, 4, 2), 0)
    replaced = reference_models.with_tensor_made_variable(model, "TRANSPOSE", position=1)
    with pytest.raises(UnsupportedModelError, match=r"op 0 \(TRANSPOSE\): the permutation must be a constant"):
        Interpreter(replaced)


def test_prelu_alpha_multiplier_is_float32_in_builtin_ref_and_double_in_micro(model_cache, tmp_path):
    """The experiment behind the PRELU flavors: with an alpha scale where s_in * s_alpha / s_out rounds to a
    different multiplier in float32 than in double, BUILTIN_REF follows the first and TFLite Micro the second."""
    import keras
    from tensorflow.lite.tools import flatbuffer_utils

    from edgecnn.reference import activations

    if "prelu" not in model_cache:
        inputs = keras.Input((2, 2, 4))
        layer = keras.layers.PReLU(shared_axes=[1, 2])
        outputs = layer(inputs)
        layer.set_weights([np.array([[[0.1, -0.3, 0.5, 0.25]]], np.float32)])
        model_cache["prelu"] = reference_models.convert(keras.Model(inputs, outputs), calibration((2, 2, 4), 9))
    model = model_cache["prelu"]
    interpreter = Interpreter(model)
    operator = interpreter.operators[0]
    source, alpha, result = (interpreter.tensor_details[i] for i in (*operator.inputs, operator.outputs[0]))
    zero_points = (source.zero_point, 0, result.zero_point)
    values = np.arange(-128, 128).reshape(-1, 1)
    generator = np.random.default_rng(1)
    for _ in range(2000):
        alpha_scale = float(np.float32(alpha.scale * generator.uniform(0.2, 3.0)))
        multipliers = [
            activations.prelu_multipliers(source.scale, alpha_scale, result.scale, flavor)
            for flavor in ("tflite", "micro")
        ]
        tables = [activations.prelu(values, values.T, zero_points, pair) for pair in multipliers]
        differing_alphas = np.unique(np.argwhere(tables[0] != tables[1])[:, 1])
        if differing_alphas.size:
            break
    assert differing_alphas.size, "no alpha scale with differing multipliers found"
    chosen = (np.resize(differing_alphas, 4) - 128).astype(np.int8)
    model_object = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    tensor = model_object.subgraphs[0].tensors[operator.inputs[1]]
    tensor.quantization.scale, tensor.quantization.zeroPoint = [alpha_scale], [0]
    model_object.buffers[tensor.buffer].data = np.frombuffer(chosen.tobytes(), np.uint8)
    patched = bytes(flatbuffer_utils.convert_object_to_bytearray(model_object))
    inputs = np.repeat(np.arange(-128, 128, dtype=np.int8), 16).reshape(256, 2, 2, 4)
    builtin_ref = reference_models.litert_reference_tensors(patched, inputs)[operator.outputs[0]]
    micro = reference_models.micro_outputs(patched, inputs, tmp_path)
    np.testing.assert_array_equal(Interpreter(patched).run(inputs).outputs[0], builtin_ref)
    np.testing.assert_array_equal(Interpreter(patched, flavor="micro").run(inputs).outputs[0], micro)
    assert np.count_nonzero(builtin_ref != micro) > 0
