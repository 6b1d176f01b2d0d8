"""Int8 activation kernels against TFLite's reference kernels (BUILTIN_REF) and TFLite Micro, bit for bit.

Single-op Keras models are converted to int8 once per module (about a second each). Sweeps over scales, zero
points, beta and alpha rewrite the quantization and options of those converted models with the flatbuffer
object API bundled in tflite-micro, so each hypothesis example costs milliseconds instead of a conversion.
"""

import functools
import os

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from edgecnn.reference import activations

ALL_INT8 = np.arange(-128, 128, dtype=np.int64)
MODEL_SHAPE = (16, 16)  # 256 elements; SOFTMAX normalises rows of 16

# kind -> (Keras layer factory, TFLite op the converter must produce, our kernel)
KINDS = {
    "softmax": (lambda keras: keras.layers.Softmax(), "SOFTMAX", "softmax"),
    "logistic": (lambda keras: keras.layers.Activation("sigmoid"), "LOGISTIC", "logistic"),
    "tanh": (lambda keras: keras.layers.Activation("tanh"), "TANH", "tanh"),
    "hard_swish": (lambda keras: keras.layers.Activation("hard_silu"), "HARD_SWISH", "hard_swish"),
    # x * relu6(x + 3) / 6 written out is fused into the same op by the converter.
    "hard_swish_spelled_out": (
        lambda keras: keras.layers.Lambda(lambda x: x * keras.ops.relu6(x + 3.0) / 6.0),
        "HARD_SWISH",
        "hard_swish",
    ),
    "leaky_relu": (lambda keras: keras.layers.LeakyReLU(negative_slope=0.2), "LEAKY_RELU", "leaky_relu"),
    "relu": (lambda keras: keras.layers.ReLU(), "RELU", "relu"),
    "relu6": (lambda keras: keras.layers.ReLU(max_value=6.0), "RELU6", "relu6"),
}
KERAS_ALPHA = 0.2
CALIBRATION_RANGES = [(-6.0, 4.0), (-0.7, 9.0)]


@functools.cache
def converted_model(kind, low, high, seed=0):
    """A full-int8 single-op model calibrated on uniform data in [low, high]."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tf = pytest.importorskip("tensorflow")
    import keras

    layer_factory = KINDS[kind][0]
    inputs = keras.Input(shape=MODEL_SHAPE, batch_size=1)
    model = keras.Model(inputs, layer_factory(keras)(inputs))

    @tf.function(input_signature=[tf.TensorSpec([1, *MODEL_SHAPE], tf.float32)])
    def forward(values):
        return model(values)

    random = np.random.default_rng(seed)

    def representative_dataset():
        for _ in range(16):
            yield [random.uniform(low, high, size=(1, *MODEL_SHAPE)).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_concrete_functions([forward.get_concrete_function()], model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def rewritten_model(model_bytes, input_quantization=None, output_quantization=None, **options):
    """The model with new (scale, zero point) on its input/output tensors and new builtin options."""
    pytest.importorskip("tflite_micro")
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)
    subgraph = model.subgraphs[0]
    for tensor_index, quantization in (
        (subgraph.inputs[0], input_quantization),
        (subgraph.outputs[0], output_quantization),
    ):
        if quantization is not None:
            subgraph.tensors[tensor_index].quantization.scale = [float(quantization[0])]
            subgraph.tensors[tensor_index].quantization.zeroPoint = [int(quantization[1])]
    for name, value in options.items():
        setattr(subgraph.operators[0].builtinOptions, name, value)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


class RuntimeOutputs:
    """Outputs of BUILTIN_REF and TFLite Micro on a list of int8 arrays, and the tensors' quantization."""

    def __init__(self, model_bytes, arrays):
        litert = pytest.importorskip("ai_edge_litert.interpreter")
        micro = pytest.importorskip("tflite_micro").runtime

        reference = litert.Interpreter(
            model_content=model_bytes, experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF
        )
        reference.allocate_tensors()
        self.op_names = [operator["op_name"] for operator in reference._get_ops_details()]
        input_index = reference.get_input_details()[0]["index"]
        output_index = reference.get_output_details()[0]["index"]
        details = {detail["index"]: detail for detail in reference.get_tensor_details()}
        self.input_scale, self.input_zero_point = self._quantization(details[input_index])
        self.output_scale, self.output_zero_point = self._quantization(details[output_index])

        micro_interpreter = micro.Interpreter.from_bytes(model_bytes)
        self.reference, self.micro = [], []
        for array in arrays:
            batch = np.asarray(array, dtype=np.int8).reshape(1, *MODEL_SHAPE)
            reference.set_tensor(input_index, batch)
            reference.invoke()
            self.reference.append(reference.get_tensor(output_index).copy())
            micro_interpreter.set_input(batch, 0)
            micro_interpreter.invoke()
            self.micro.append(micro_interpreter.get_output(0).copy())

    @staticmethod
    def _quantization(detail):
        parameters = detail["quantization_parameters"]
        return float(parameters["scales"][0]), int(parameters["zero_points"][0])


def our_kernel(kind, runtime_outputs, array, flavor, beta=1.0, alpha=KERAS_ALPHA):
    batch = np.asarray(array, dtype=np.int64).reshape(1, *MODEL_SHAPE)
    input_parameters = (runtime_outputs.input_scale, runtime_outputs.input_zero_point)
    output_parameters = (runtime_outputs.output_scale, runtime_outputs.output_zero_point)
    kernel_name = KINDS[kind][2]
    if kernel_name == "softmax":
        return activations.softmax(batch, *input_parameters, beta=beta, flavor=flavor)
    if kernel_name == "leaky_relu":
        return activations.leaky_relu(
            batch, *input_parameters, *output_parameters, alpha=alpha, flavor=flavor
        )
    kernel = getattr(activations, kernel_name)
    return kernel(batch, *input_parameters, *output_parameters, flavor=flavor)


def sample_arrays(seed):
    """Every int8 value once (shuffled into rows), then random rows: spread out, or bunched near a maximum."""
    random = np.random.default_rng(seed)
    arrays = [random.permutation(ALL_INT8)]
    arrays.append(random.integers(-128, 128, size=256))
    bases = random.integers(-128, 100, size=(16, 1))
    arrays.append(np.clip(bases + random.integers(0, 28, size=(16, 16)), -128, 127).ravel())
    arrays.append(np.clip(random.normal(0, 20, size=256).round(), -128, 127).astype(np.int64))
    return arrays


def assert_bit_exact(kind, model_bytes, seed=0, beta=1.0, alpha=KERAS_ALPHA):
    arrays = sample_arrays(seed)
    runtime_outputs = RuntimeOutputs(model_bytes, arrays)
    assert runtime_outputs.op_names == [KINDS[kind][1]]
    for array, reference, micro in zip(arrays, runtime_outputs.reference, runtime_outputs.micro):
        ours_tflite = our_kernel(kind, runtime_outputs, array, "tflite", beta, alpha)
        ours_micro = our_kernel(kind, runtime_outputs, array, "micro", beta, alpha)
        assert ours_tflite.dtype == np.int8
        mismatched = np.flatnonzero(ours_tflite != reference)
        assert mismatched.size == 0, (
            f"{kind} vs BUILTIN_REF: {mismatched.size} mismatches, inputs {array[mismatched][:8]} "
            f"ours {ours_tflite.ravel()[mismatched][:8]} theirs {reference.ravel()[mismatched][:8]}"
        )
        mismatched = np.flatnonzero(ours_micro != micro)
        assert mismatched.size == 0, (
            f"{kind} vs TFLite Micro: {mismatched.size} mismatches, inputs {array[mismatched][:8]} "
            f"ours {ours_micro.ravel()[mismatched][:8]} theirs {micro.ravel()[mismatched][:8]}"
        )
    return runtime_outputs


@pytest.mark.slow
@pytest.mark.parametrize("low, high", CALIBRATION_RANGES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_converted_single_op_models_are_bit_exact(kind, low, high):
    assert_bit_exact(kind, converted_model(kind, low, high))


@pytest.mark.slow
def test_relu6_flavors_differ_when_input_and_output_scales_differ():
    # TFLite requantizes RELU6 to the output scale; TFLite Micro only clamps on the input scale.
    model_bytes = converted_model("relu6", *CALIBRATION_RANGES[0])
    runtime_outputs = assert_bit_exact("relu6", model_bytes)
    assert runtime_outputs.input_scale != runtime_outputs.output_scale
    assert (runtime_outputs.reference[0] != runtime_outputs.micro[0]).any()


def log_uniform_scales(low_exponent, high_exponent):
    return st.floats(low_exponent, high_exponent).map(lambda exponent: float(np.float32(10.0**exponent)))


ZERO_POINTS = st.integers(-128, 127)
SWEEP = settings(max_examples=50, derandomize=True, deadline=None)


@pytest.mark.slow
@SWEEP
@given(scale=log_uniform_scales(-3.5, 0.0), zero_point=ZERO_POINTS, beta=st.floats(0.05, 4.0))
def test_softmax_over_scales_and_beta(scale, zero_point, beta):
    beta = float(np.float32(beta))
    model_bytes = rewritten_model(
        converted_model("softmax", *CALIBRATION_RANGES[0]), (scale, zero_point), beta=beta
    )
    assert_bit_exact("softmax", model_bytes, seed=zero_point + 128, beta=beta)


@pytest.mark.slow
@SWEEP
@given(
    kind=st.sampled_from(["logistic", "tanh"]), scale=log_uniform_scales(-3.5, 0.0), zero_point=ZERO_POINTS
)
# Table entries that move by one if expf/tanhf are not the C library's: glibc 2.36's tanhf is one ulp below
# the double-rounded tanh at the first (entry 119: 63, not 64); NumPy's float32 exp differs at the others.
@example(kind="tanh", scale=0.0024075722321867943, zero_point=-107)
@example(kind="logistic", scale=0.0018663234077394009, zero_point=-96)
@example(kind="logistic", scale=0.020970867946743965, zero_point=-104)
def test_logistic_and_tanh_over_input_quantization(kind, scale, zero_point):
    model_bytes = rewritten_model(converted_model(kind, *CALIBRATION_RANGES[0]), (scale, zero_point))
    assert_bit_exact(kind, model_bytes, seed=zero_point + 128)


@pytest.mark.slow
@SWEEP
@given(
    kind=st.sampled_from(["hard_swish", "leaky_relu", "relu", "relu6"]),
    input_scale=log_uniform_scales(-3.0, -0.5),
    input_zero_point=ZERO_POINTS,
    scale_ratio=log_uniform_scales(-1.0, 1.0),
    output_zero_point=ZERO_POINTS,
    alpha=st.floats(0.0, 1.0).map(lambda value: float(np.float32(value))),
)
def test_requantizing_activations_over_quantization(
    kind, input_scale, input_zero_point, scale_ratio, output_zero_point, alpha
):
    options = {"alpha": alpha} if kind == "leaky_relu" else {}
    model_bytes = rewritten_model(
        converted_model(kind, *CALIBRATION_RANGES[0]),
        (input_scale, input_zero_point),
        (float(np.float32(input_scale * scale_ratio)), output_zero_point),
        **options,
    )
    assert_bit_exact(kind, model_bytes, seed=input_zero_point + 128, alpha=alpha)


# Quantizations where computing a multiplier in double instead of float32 (as the kernels' Prepare does)
# changes at least one of the 256 outputs; found by a NumPy search, rare in random sweeps.
FLOAT32_SENSITIVE_CASES = [
    ("relu", 0.0011221407912671566, -106, 0.008032165467739105, 20, None),
    ("leaky_relu", 0.08980097621679306, 58, 0.06542975455522537, 38, 0.7821826934814453),
    ("hard_swish", 0.0011269270908087492, 54, 0.0002693603455554694, 119, None),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind, input_scale, input_zero_point, output_scale, output_zero_point, alpha", FLOAT32_SENSITIVE_CASES
)
def test_multipliers_use_float32_scale_arithmetic(
    kind, input_scale, input_zero_point, output_scale, output_zero_point, alpha
):
    options = {"alpha": alpha} if alpha is not None else {}
    model_bytes = rewritten_model(
        converted_model(kind, *CALIBRATION_RANGES[0]),
        (input_scale, input_zero_point),
        (output_scale, output_zero_point),
        **options,
    )
    assert_bit_exact(kind, model_bytes, alpha=alpha if alpha is not None else KERAS_ALPHA)


# Hand-checked values that need no TensorFlow.


@pytest.mark.parametrize("flavor", activations.FLAVORS)
def test_softmax_of_equal_values_is_uniform(flavor):
    # 1/4 is 64/256: output 64 - 128; a value far below the maximum gets the minimum.
    rows = np.array([[5, 5, 5, 5], [-100, -100, -100, -100]])
    np.testing.assert_array_equal(activations.softmax(rows, 0.1, 0, flavor=flavor), np.full((2, 4), -64))
    np.testing.assert_array_equal(activations.softmax([[127, -128]], 0.5, 0, flavor=flavor), [[127, -128]])


@pytest.mark.parametrize("flavor", activations.FLAVORS)
def test_sigmoids_at_the_zero_point(flavor):
    assert activations.logistic([7], 0.05, 7, flavor=flavor)[0] == 0  # 0.5 -> 128 - 128
    assert activations.tanh([-3], 0.05, -3, flavor=flavor)[0] == 0
    assert activations.logistic([127], 0.1, -128, flavor=flavor)[0] == 127
    assert activations.tanh([-128], 0.1, 127, flavor=flavor)[0] == -128


def test_relu_clamps_at_the_output_zero_point_and_requantizes():
    output = activations.relu(np.array([-50, -10, 0, 10, 100]), 0.1, -10, 0.05, -128)
    # x = 0.1 * (q + 10); out = -128 + x / 0.05
    np.testing.assert_array_equal(output, [-128, -128, -108, -88, 92])


def test_relu6_flavors():
    values = np.array([-20, 0, 50, 100])
    # Micro clamps to [Q(0), Q(6)] on the input scale; TFLite requantizes (x2 here) and clamps on the output.
    micro = activations.relu6(values, 0.1, 0, 0.05, -100, flavor="micro")
    tflite = activations.relu6(values, 0.1, 0, 0.05, -100, flavor="tflite")
    np.testing.assert_array_equal(micro, [0, 0, 50, 60])
    np.testing.assert_array_equal(tflite, [-100, -100, 0, 20])


def test_leaky_relu_applies_alpha_below_the_zero_point():
    output = activations.leaky_relu(np.array([-100, -10, 0, 10]), 0.1, 0, 0.1, 0, alpha=0.25)
    np.testing.assert_array_equal(output, [-25, -3, 0, 10])  # -2.5 rounds half away from zero


def test_unknown_flavor_is_rejected():
    with pytest.raises(ValueError, match="flavor"):
        activations.softmax([[1, 2]], 0.1, 0, flavor="xnnpack")
