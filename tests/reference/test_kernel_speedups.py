"""The fast paths of the int8 kernels against slow, obviously exact int64 versions of the same arithmetic.

The interpreter tests compare whole models with TFLite at small batches; these drive the shortcuts themselves:
float32/float64 accumulation at the edge of its exactness bound, batches that span several chunks, the merged
requantization, and the lookup tables of the element-wise ops, each against a plain int64 transcription.
"""

import types

import numpy as np
import pytest

from edgecnn.reference import arithmetic, kernels_basic, kernels_common, kernels_conv


def quantization(scales, zero_points=0):
    scales = np.atleast_1d(np.asarray(scales, dtype=np.float32))
    zero_points = np.broadcast_to(np.asarray(zero_points, dtype=np.int64), scales.shape)
    return types.SimpleNamespace(
        is_quantized=True, scales=scales, zero_points=zero_points, is_per_channel=scales.size > 1
    )


def tensor(shape, scales, zero_points=0, is_constant=False):
    return types.SimpleNamespace(
        shape=tuple(shape), quantization=quantization(scales, zero_points), is_constant=is_constant
    )


def make_call(arrays, inputs, output, options, flavor="tflite"):
    operator = types.SimpleNamespace(options=options)
    return kernels_common.Call(operator, inputs, [output], arrays, flavor)


def slow_requantize(accumulator, multipliers, shifts, zero_point, low, high):
    """MBQM step by step from the gemmlowp primitives, in int64."""
    left = np.maximum(shifts, 0)
    high_part = arithmetic.saturating_rounding_doubling_high_mul(accumulator * (1 << left), multipliers)
    scaled = arithmetic.rounding_divide_by_power_of_two(high_part, np.maximum(-shifts, 0))
    return np.clip(scaled + zero_point, low, high).astype(np.int8)


def slow_conv(values, filters, bias, input_zero_point, pads, strides, dilations, out_size):
    """Grouped, strided, dilated convolution as an int64 sum over taps and channels."""
    out_channels, filter_height, filter_width, filter_depth = filters.shape
    groups = values.shape[-1] // filter_depth
    padded = np.pad(
        values.astype(np.int64) - input_zero_point, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=0
    )
    accumulator = np.zeros((values.shape[0], *out_size, out_channels), dtype=np.int64)
    per_group = out_channels // groups
    for ky in range(filter_height):
        for kx in range(filter_width):
            top, left = ky * dilations[0], kx * dilations[1]
            view = padded[
                :,
                top : top + (out_size[0] - 1) * strides[0] + 1 : strides[0],
                left : left + (out_size[1] - 1) * strides[1] + 1 : strides[1],
            ]
            for group in range(groups):
                inputs = view[..., group * filter_depth : (group + 1) * filter_depth]
                weights = filters[group * per_group : (group + 1) * per_group, ky, kx].astype(np.int64)
                accumulator[..., group * per_group : (group + 1) * per_group] += np.einsum(
                    "nhwc,oc->nhwo", inputs, weights
                )
    return accumulator + bias


def conv_case(rng, batch, size, depth, out_channels, kernel, stride, dilation, padding, groups, weight_range):
    filter_depth = depth // groups
    values = rng.integers(-128, 128, (batch, size, size, depth), dtype=np.int64).astype(np.int8)
    filters = rng.integers(-weight_range, weight_range + 1, (out_channels, kernel, kernel, filter_depth))
    filters = filters.astype(np.int8)
    bias = rng.integers(-5000, 5000, out_channels).astype(np.int32)
    extent = (kernel - 1) * dilation + 1
    out = -(-size // stride) if padding == "SAME" else (size - extent) // stride + 1
    input_zero_point = int(rng.integers(-128, 128))
    filter_scales = rng.uniform(0.001, 0.01, out_channels)
    inputs = [
        tensor((1, size, size, depth), 0.05, input_zero_point),
        tensor(filters.shape, filter_scales, 0, is_constant=True),
        tensor(bias.shape, 0.05 * filter_scales, 0, is_constant=True),
    ]
    output = tensor((1, out, out, out_channels), 0.05 * filter_scales.max() * extent * depth, -3)
    options = {
        "padding": padding,
        "stride_h": stride,
        "stride_w": stride,
        "dilation_h_factor": dilation,
        "dilation_w_factor": dilation,
        "fused_activation_function": "RELU",
    }
    return make_call([values, filters, bias], inputs, output, options), input_zero_point, out


def expected_conv(call, input_zero_point, out):
    values, filters, bias = call.arrays
    _, size, _, _ = values.shape
    _, kernel, _, _ = filters.shape
    options = call.options
    pads = kernels_common.padding_for(call, size, size, kernel, kernel, out, out)
    accumulator = slow_conv(
        values,
        filters,
        bias.astype(np.int64),
        input_zero_point,
        pads,
        (options["stride_h"], options["stride_w"]),
        (options["dilation_h_factor"], options["dilation_w_factor"]),
        (out, out),
    )
    multipliers, shifts = kernels_common.per_channel_multipliers(
        float(call.inputs[0].quantization.scales[0]),
        call.inputs[1].quantization.scales,
        float(call.outputs[0].quantization.scales[0]),
        filters.shape[0],
    )
    low, high = kernels_common.output_range(call)
    output_zero_point = int(call.outputs[0].quantization.zero_points[0])
    return slow_requantize(accumulator, multipliers, shifts, output_zero_point, low, high)


@pytest.mark.parametrize(
    "batch, size, depth, out_channels, kernel, stride, dilation, padding, groups, weight_range",
    [
        (70, 9, 10, 10, 3, 1, 1, "VALID", 1, 127),  # several batch chunks at a small chunk budget
        (5, 11, 16, 24, 3, 2, 1, "SAME", 1, 127),
        (4, 12, 8, 6, 3, 1, 2, "SAME", 2, 127),  # grouped and dilated
        (3, 8, 32, 8, 1, 2, 1, "VALID", 1, 127),  # 1x1 stride 2
        (3, 7, 3, 5, 5, 1, 1, "SAME", 1, 127),
        (2, 6, 64, 4, 3, 1, 1, "SAME", 1, 127),  # 576 taps of +-127: past float32's exact range
    ],
)
def test_conv_2d_matches_int64_sums(
    monkeypatch, batch, size, depth, out_channels, kernel, stride, dilation, padding, groups, weight_range
):
    monkeypatch.setattr(kernels_conv, "PATCH_BUDGET_ELEMENTS", 20_000)
    rng = np.random.default_rng(batch * 1000 + size)
    call, input_zero_point, out = conv_case(
        rng, batch, size, depth, out_channels, kernel, stride, dilation, padding, groups, weight_range
    )
    (result,) = kernels_conv.conv_2d(call)
    assert result.dtype == np.int8
    np.testing.assert_array_equal(result, expected_conv(call, input_zero_point, out))


def test_conv_2d_at_the_float32_bound():
    """Extreme inputs and weights whose sums reach just below 2^24 (float32), then just past it (float64).

    255 * 127 * 518 = 16,774,830 <= 2^24 < 255 * 127 * 519; a bias cancels the sum so that an error of one
    in the accumulator would show in the int8 output.
    """
    for depth, expected_dtype in ((518, np.float32), (519, np.float64)):
        columns = np.full((depth, 2), 127, dtype=np.int8)
        columns[:, 1] = -127
        assert kernels_common.accumulation_dtype(255, columns) is expected_dtype
        values = np.full((3, 1, 1, depth), 127, dtype=np.int8)
        values[1, ..., ::3] = -128
        values[2, ..., ::2] = 100
        filters = np.ascontiguousarray(columns.T).reshape(2, 1, 1, depth)
        full_sum = 255 * 127 * depth
        bias = np.array([-full_sum + 5, full_sum - 9], dtype=np.int32)
        inputs = [
            tensor((1, 1, 1, depth), 1.0, -128),
            tensor(filters.shape, [1.0, 1.0], 0, True),
            tensor((2,), [1.0, 1.0], 0, True),
        ]
        options = {
            "padding": "VALID",
            "stride_h": 1,
            "stride_w": 1,
            "dilation_h_factor": 1,
            "dilation_w_factor": 1,
            "fused_activation_function": "NONE",
        }
        call = make_call([values, filters, bias], inputs, tensor((1, 1, 1, 2), 1.0, 0), options)
        (result,) = kernels_conv.conv_2d(call)
        assert result[0, 0, 0].tolist() == [5, -9]
        np.testing.assert_array_equal(result, expected_conv(call, -128, 1))


@pytest.mark.parametrize(
    "multiplier, stride, dilation, padding", [(1, 1, 1, "SAME"), (2, 2, 1, "VALID"), (3, 1, 2, "SAME")]
)
def test_depthwise_conv_2d_matches_int64_sums(monkeypatch, multiplier, stride, dilation, padding):
    monkeypatch.setattr(kernels_conv, "PATCH_BUDGET_ELEMENTS", 20_000)
    rng = np.random.default_rng(multiplier)
    batch, size, depth, kernel = 40, 9, 6, 3
    out_channels = depth * multiplier
    values = rng.integers(-128, 128, (batch, size, size, depth)).astype(np.int8)
    filters = rng.integers(-127, 128, (1, kernel, kernel, out_channels)).astype(np.int8)
    bias = rng.integers(-3000, 3000, out_channels).astype(np.int32)
    extent = (kernel - 1) * dilation + 1
    out = -(-size // stride) if padding == "SAME" else (size - extent) // stride + 1
    filter_scales = rng.uniform(0.001, 0.01, out_channels)
    inputs = [
        tensor((1, size, size, depth), 0.05, 7),
        tensor(filters.shape, filter_scales, 0, True),
        tensor(bias.shape, 0.05 * filter_scales, 0, True),
    ]
    output = tensor((1, out, out, out_channels), 0.05 * 0.01 * 9 * 10, 2)
    options = {
        "padding": padding,
        "stride_h": stride,
        "stride_w": stride,
        "dilation_h_factor": dilation,
        "dilation_w_factor": dilation,
        "fused_activation_function": "RELU6",
    }
    call = make_call([values, filters, bias], inputs, output, options)
    (result,) = kernels_conv.depthwise_conv_2d(call)
    # The same op as a grouped convolution with one group per input channel.
    grouped = filters[0].transpose(2, 0, 1)[..., None]
    pads = kernels_common.padding_for(call, size, size, kernel, kernel, out, out)
    accumulator = slow_conv(
        values, grouped, bias.astype(np.int64), 7, pads, (stride, stride), (dilation, dilation), (out, out)
    )
    multipliers, shifts = kernels_common.per_channel_multipliers(
        0.05, filter_scales.astype(np.float32), float(output.quantization.scales[0]), out_channels
    )
    low, high = kernels_common.output_range(call)
    np.testing.assert_array_equal(result, slow_requantize(accumulator, multipliers, shifts, 2, low, high))


def test_requantizer_matches_step_by_step_arithmetic():
    rng = np.random.default_rng(7)
    merged = 0
    for trial in range(600):
        channels = int(rng.integers(1, 20))
        bound = int(2 ** rng.uniform(0, 31))
        accumulator = rng.integers(-bound, bound + 1, (int(rng.integers(1, 200)), channels))
        if trial % 3 == 0:
            accumulator = accumulator.astype(np.float64 if bound > 2**24 else np.float32)
        multipliers = rng.integers(2**30, 2**31, channels)
        multipliers[0] = 2**30 if trial % 5 == 0 else multipliers[0]
        multipliers[-1] = 0 if trial % 17 == 0 else multipliers[-1]
        shifts = rng.integers(-31, 1, channels)
        shifts[0] = 2 if trial % 23 == 0 else shifts[0]  # a left shift: the step-by-step fallback
        bias = rng.integers(-(2**31), 2**31, channels) if trial % 2 else rng.integers(-5000, 5000, channels)
        zero_point = int(rng.integers(-128, 128))
        low, high = sorted(int(value) for value in rng.integers(-128, 128, 2))
        requantize = kernels_common.Requantizer(
            channels, bound, bias, multipliers, shifts, zero_point, low, high
        )
        merged += requantize.plan is not None
        expected = slow_requantize(
            accumulator.astype(np.int64) + bias, multipliers, shifts, zero_point, low, high
        )
        np.testing.assert_array_equal(requantize(accumulator), expected)
    assert 100 < merged < 600  # both the merged arithmetic and the fallback ran


def test_requantizer_on_every_tie():
    """Every accumulator in a range at small shifts, where both roundings hit exact halves often."""
    accumulator = np.arange(-70_000, 70_000).reshape(-1, 1)
    for exponent in range(6):
        for multiplier in (2**30, 2**30 + 1, 1518500250, 2**31 - 1):
            for bias in (0, 7, -13):
                requantize = kernels_common.Requantizer(1, 70_000, bias, multiplier, -exponent, 0, -128, 127)
                expected = slow_requantize(accumulator + bias, multiplier, -exponent, 0, -128, 127)
                np.testing.assert_array_equal(requantize(accumulator.astype(np.float32)), expected)


def test_multiply_by_quantized_multiplier_matches_slow_version():
    rng = np.random.default_rng(3)
    for trial in range(300):
        channels = int(rng.integers(1, 6))
        multipliers = rng.integers(-(2**31), 2**31, channels)
        multipliers[0] = -(2**31) if trial % 10 == 0 else multipliers[0]
        shifts = rng.integers(-31, 8, channels)
        limit = 2**31 >> int(np.max(np.maximum(shifts, 0)))
        values = rng.integers(-limit, limit, (int(rng.integers(1, 30)), channels))
        values[0] = -limit
        result = arithmetic.multiply_by_quantized_multiplier(values, multipliers, shifts)
        left = np.maximum(shifts, 0)
        high = arithmetic.saturating_rounding_doubling_high_mul(values * (1 << left), multipliers)
        expected = arithmetic.rounding_divide_by_power_of_two(high, np.maximum(-shifts, 0))
        np.testing.assert_array_equal(result, expected)
    # Scalars broadcast against per-channel shifts, and Python ints stay usable as scalars.
    np.testing.assert_array_equal(
        arithmetic.multiply_by_quantized_multiplier(1000, 2**30, np.array([0, -1, -2])), [500, 250, 125]
    )
    assert arithmetic.multiply_by_quantized_multiplier(-3, 2**30, -1) == -1


def binary_call(first, second, second_constant, activation="NONE"):
    shape = np.broadcast_shapes(first.shape, second.shape)
    inputs = [
        tensor((1, *first.shape[1:]), 0.02, -5),
        tensor(second.shape if second_constant else (1, *second.shape[1:]), 0.035, 9, second_constant),
    ]
    output = tensor((1, *shape[1:]), 0.04, 3)
    return make_call([first, second], inputs, output, {"fused_activation_function": activation})


@pytest.mark.parametrize("kernel", [kernels_basic.add, kernels_basic.sub, kernels_basic.mul])
@pytest.mark.parametrize("second_constant", [False, True])
def test_binary_tables_match_direct_arithmetic(monkeypatch, kernel, second_constant):
    rng = np.random.default_rng(5)
    first = rng.integers(-128, 128, (9, 6, 6, 8)).astype(np.int8)
    second = rng.integers(-128, 128, (8,) if second_constant else (9, 6, 6, 8)).astype(np.int8)
    for activation in ("NONE", "RELU"):
        call = binary_call(first, second, second_constant, activation)
        monkeypatch.setattr(kernels_basic, "BINARY_TABLE_MIN_ELEMENTS", 10**9)
        (direct,) = kernel(call)
        monkeypatch.setattr(kernels_basic, "BINARY_TABLE_MIN_ELEMENTS", 1)
        (looked_up,) = kernel(call)
        assert looked_up.dtype == direct.dtype == np.int8 and looked_up.shape == (9, 6, 6, 8)
        np.testing.assert_array_equal(looked_up, direct)
    # Every pair of int8 values once: the table is the arithmetic itself.
    grid_first = np.repeat(np.arange(-128, 128, dtype=np.int8), 256).reshape(1, 256, 256, 1)
    grid_second = np.tile(np.arange(-128, 128, dtype=np.int8), 256).reshape(1, 256, 256, 1)
    call = binary_call(grid_first, grid_second, False)
    monkeypatch.setattr(kernels_basic, "BINARY_TABLE_MIN_ELEMENTS", 10**9)
    (direct,) = kernel(call)
    monkeypatch.setattr(kernels_basic, "BINARY_TABLE_MIN_ELEMENTS", 1)
    np.testing.assert_array_equal(kernel(call)[0], direct)


@pytest.mark.parametrize("name", ["relu", "relu6", "leaky_relu", "logistic", "tanh", "hard_swish"])
@pytest.mark.parametrize("flavor", ["tflite", "micro"])
def test_activation_tables_match_direct_arithmetic(monkeypatch, name, flavor):
    values = np.arange(-128, 128, dtype=np.int8).reshape(2, 8, 16)
    output_quantization = {"logistic": (1 / 256, -128), "tanh": (1 / 128, 0)}.get(name, (0.05, -20))
    call = make_call(
        [values],
        [tensor((1, 8, 16), 0.07, 11)],
        tensor((1, 8, 16), *output_quantization),
        {"alpha": 0.2},
        flavor,
    )
    kernel = getattr(kernels_basic, name)
    monkeypatch.setattr(kernels_basic, "UNARY_TABLE_MIN_ELEMENTS", 10**9)
    (direct,) = kernel(call)
    monkeypatch.setattr(kernels_basic, "UNARY_TABLE_MIN_ELEMENTS", 1)
    (looked_up,) = kernel(call)
    assert looked_up.dtype == direct.dtype and looked_up.shape == direct.shape
    np.testing.assert_array_equal(looked_up, direct)


@pytest.mark.parametrize("padding, activation", [("SAME", "NONE"), ("VALID", "RELU6"), ("SAME", "RELU")])
def test_max_pool_matches_window_maximum(padding, activation):
    rng = np.random.default_rng(11)
    values = rng.integers(-128, 128, (3, 7, 7, 4)).astype(np.int8)
    values[0] = -128  # windows of nothing but the minimum, next to the padding
    out = 4 if padding == "SAME" else 3
    call = make_call(
        [values],
        [tensor((1, 7, 7, 4), 0.1, -128)],
        tensor((1, out, out, 4), 0.1, -128),
        {
            "padding": padding,
            "stride_h": 2,
            "stride_w": 2,
            "filter_height": 3,
            "filter_width": 3,
            "fused_activation_function": activation,
        },
    )
    (result,) = kernels_basic.max_pool_2d(call)
    low, high = kernels_common.output_range(call)
    expected = np.empty((3, out, out, 4), dtype=np.int64)
    before = 1 if padding == "SAME" else 0  # (4 - 1) * 2 + 3 - 7 = 2 padded rows and columns, split evenly
    for y in range(out):
        for x in range(out):
            top, left = 2 * y - before, 2 * x - before  # padded cells are left out of the window
            window = values[:, max(top, 0) : top + 3, max(left, 0) : left + 3]
            expected[:, y, x] = window.max(axis=(1, 2))
    assert result.dtype == np.int8
    np.testing.assert_array_equal(result, np.clip(expected, low, high))
