"""`edgecnn explain`: the worked example is the interpreter's value, the files are right, bad input writes nothing."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from edgecnn.cli import main
from edgecnn.explain import explanation as explanation_module
from edgecnn.explain import working
from edgecnn.reference import arithmetic


def _explain(*arguments):
    return CliRunner().invoke(main, ["explain", *[str(argument) for argument in arguments]])


def _independent_output(explanation, layer, y, x, channel):
    """The element recomputed with NumPy from the tensors alone, not through working.py's loop."""
    interpreter, run = explanation.interpreter, explanation.run
    operator = interpreter.operators[layer.op_index]
    input_zero_point = interpreter.tensor_details[operator.inputs[0]].zero_point
    values = run.tensors[operator.inputs[0]][0].astype(np.int64) - input_zero_point
    top, bottom, left, right = layer.pads
    padded = np.pad(values, ((top, bottom + 8), (left, right + 8), (0, 0)))
    filters = interpreter.subgraph.tensors[operator.inputs[1]].data.astype(np.int64)
    dilation_h, dilation_w = layer.dilation
    rows = y * layer.stride[0] + dilation_h * np.arange(layer.kernel[0])
    columns = x * layer.stride[1] + dilation_w * np.arange(layer.kernel[1])
    window = padded[np.ix_(rows, columns)]
    if layer.op == "CONV_2D":
        accumulator = int(np.sum(window * filters[channel]))
    else:
        input_channel = channel // (filters.shape[3] // values.shape[2])
        accumulator = int(np.sum(window[..., input_channel] * filters[0, :, :, channel]))
    accumulator += int(interpreter.subgraph.tensors[operator.inputs[2]].data[channel])
    output = interpreter.tensor_details[layer.output]
    scales = np.broadcast_to(interpreter.tensor_details[operator.inputs[1]].scales, (layer.output_shape[3],))
    real = interpreter.tensor_details[operator.inputs[0]].scale * float(scales[channel]) / output.scale
    multiplier, shift = arithmetic.quantize_multiplier(real)
    scaled = int(arithmetic.multiply_by_quantized_multiplier(accumulator, multiplier, shift)) + output.zero_point
    low, high = arithmetic.activation_range(layer.activation, output.scale, output.zero_point)
    return accumulator, min(max(scaled, low), high)


@pytest.mark.parametrize("which", ["tiny_vgg", "windows"])
def test_worked_examples_reproduce_the_interpreter_exactly(which, tiny_vgg, window_models, images):
    if which == "tiny_vgg":
        model, image = tiny_vgg, images["shape"]
    else:
        model, image = window_models["int8"], window_models["image"]
    explanation = explanation_module.explain(model, image)
    convolutions = [layer for layer in explanation.layers if layer.op in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    assert {layer.op for layer in convolutions} == ({"CONV_2D"} if which == "tiny_vgg" else
                                                    {"CONV_2D", "DEPTHWISE_CONV_2D"})
    random = np.random.default_rng(0)
    checked = 0
    for layer in convolutions:
        _, height, width, channels = layer.output_shape
        # The corners (padding on two sides for SAME) and random interior elements.
        positions = [(0, 0), (height - 1, width - 1), (0, width - 1)] + [
            tuple(random.integers(0, (height, width))) for _ in range(6)
        ]
        for y, x in positions:
            for channel in {0, channels - 1, int(random.integers(channels))}:
                example = working.worked_example(explanation.interpreter, explanation.run, layer, int(y), int(x),
                                                 channel)
                accumulator, output = _independent_output(explanation, layer, int(y), int(x), channel)
                interpreter_value = int(explanation.run.tensors[layer.output][0, y, x, channel])
                assert example["accumulator"] == accumulator
                assert example["output"] == output == interpreter_value == example["interpreter_output"]
                assert example["sum_of_products"] == sum(tap["product"] for tap in example["taps"])
                assert example["accumulator"] == example["sum_of_products"] + example["bias"]
                assert (example["multiplier"], example["shift"]) == arithmetic.quantize_multiplier(
                    example["real_multiplier"])
                assert example["real_multiplier"] == example["fraction"] * 2.0 ** example["exponent"]
                assert int(example["wide_product"]) == example["shifted"] * example["multiplier"]
                assert example["high"] == (int(example["wide_product"]) + 2**30) >> 31
                assert example["scaled"] == (example["high"] >> example["right_shift"]) + example["round_up"]
                # Requantization rounds to the nearest LSB: the worked value is within half an LSB of exact.
                if example["clamp"][0] < example["with_zero_point"] < example["clamp"][1]:
                    assert abs(example["scaled"] - example["exact_scaled"]) <= 0.5 + 1e-6
                    assert abs(example["float"]["difference_lsb"]) <= 0.5 + 1e-3
                checked += 1
    # SAME padding puts the odd pixel at the end (TFLite's rule): the last corner always reads padding.
    padded_examples = [
        working.worked_example(explanation.interpreter, explanation.run, layer, layer.output_shape[1] - 1,
                               layer.output_shape[2] - 1, 0)
        for layer in convolutions
    ]
    if which == "windows":
        assert all(any(not tap["inside"] for tap in example["taps"]) for example in padded_examples)
    assert checked > 40


def test_explain_writes_a_self_contained_page_and_json(tiny_vgg, images, tmp_path):
    out = tmp_path / "tiny_vgg"
    result = _explain(tiny_vgg, "--image", images["shape"], "--element", "3,5,7,2", "--out", out)
    assert result.exit_code == 0, result.output
    assert "op 3 CONV_2D" in result.output and "interpreter:" in result.output
    summary = json.loads((out / "explain.json").read_text())
    example = summary["example"]
    assert (example["op_index"], example["y"], example["x"], example["channel"]) == (3, 5, 7, 2)
    assert example["output"] == example["interpreter_output"]
    assert [layer["op"] for layer in summary["layers"]][:3] == ["CONV_2D", "CONV_2D", "MAX_POOL_2D"]
    first, pool = summary["layers"][0], summary["layers"][2]
    assert first["kernel"] == [3, 3] and first["parameters"] == 10 * 3 * 3 * 3 + 10
    assert first["macs"] == 62 * 62 * 10 * 27 and first["receptive_field"] == [3, 3]
    assert pool["receptive_field"] == [6, 6] and summary["layers"][-1]["receptive_field"] == "whole input"
    offsets = [(layer["output_tensor"]["arena_offset"], layer["output_tensor"]["arena_bytes"])
               for layer in summary["layers"]]
    assert all(offset is not None and size > 0 for offset, size in offsets)
    assert max(offset + size for offset, size in offsets) <= summary["memory"]["greedy_arena_bytes"]
    assert [entry["label"] for entry in summary["top"]][0] == "triangle"
    page = (out / "explain.html").read_text()
    assert "http" not in page and "<link" not in page and "src=\"data:image/png;base64," in page
    assert 'id="explain-data"' in page and "edgecnnExplain" in page


def test_explain_with_keras_marks_the_layer_that_loses_most(trained_lenet, images, tmp_path):
    out = tmp_path / "lenet"
    result = _explain(trained_lenet["tflite"], "--image", images["digit"], "--keras", trained_lenet["keras"],
                      "--element", "c3,2,3,7", "--out", out)
    assert result.exit_code == 0, result.output
    assert "lowest SQNR:" in result.output and "Keras float model:" in result.output
    summary = json.loads((out / "explain.json").read_text())
    compared = [layer for layer in summary["layers"] if layer["keras"]]
    assert len(compared) >= 6
    assert all(layer["keras"]["sqnr_db"] > 10 and layer["keras"]["cosine"] > 0.9 for layer in compared)
    worst = [layer for layer in summary["layers"] if layer["worst"]]
    assert len(worst) == 1
    assert worst[0]["keras"]["sqnr_db"] == min(layer["keras"]["sqnr_db"] for layer in compared)
    example = summary["example"]
    assert example["layer"] == "c3" and example["keras"] is not None
    assert abs(example["keras"]["difference_lsb"]) < 8
    assert all(entry["float"] is not None for entry in summary["top"])


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--image", "{not_an_image}"], "cannot read image"),
        (["--image", "{missing}"], "image not found"),
        (["--image", "{digit}"], "is a grayscale image (1 channel); the model takes 3-channel"),
        (["--image", "{transparent}"], "transparent pixels"),
        (["--image", "{shape}", "--element", "0,62,0,0"], "Y=62 is outside op 0"),
        (["--image", "{shape}", "--element", "1,0,0,10"], "C=10 is outside op 1"),
        (["--image", "{shape}", "--element", "2,0,0,0"], "is MAX_POOL_2D, not a convolution"),
        (["--image", "{shape}", "--element", "nonsense,0,0,0"], "has no layer 'nonsense'"),
        (["--image", "{shape}", "--element", "0,1,2"], "--element takes LAYER,Y,X,C"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(arguments, message, tiny_vgg, images, tmp_path):
    values = {name: str(path) for name, path in images.items()}
    values["missing"] = str(tmp_path / "missing.png")
    out = tmp_path / "out"
    result = _explain(tiny_vgg, *[argument.format(**values) for argument in arguments], "--out", out)
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output
    assert result.output.startswith("error: ") and result.output.count("\n") == 1
    assert not out.exists()


def test_colour_for_a_grayscale_model_and_a_float_model_are_refused(trained_lenet, window_models, images,
                                                                   tmp_path):
    out = tmp_path / "out"
    result = _explain(trained_lenet["tflite"], "--image", images["shape"], "--out", out)
    assert result.exit_code == 2 and "is an RGB image (3 channels); the model takes 1-channel" in result.output
    result = _explain(window_models["float"], "--image", window_models["image"], "--out", out)
    assert result.exit_code == 2 and "is a float model" in result.output, result.output
    assert result.output.count("\n") == 1 and not out.exists()
    # A grayscale picture saved as RGB is a grayscale image: accepted, and encoded as the digit itself.
    as_rgb = explanation_module.explain(trained_lenet["tflite"], images["digit_as_rgb"])
    as_gray = explanation_module.explain(trained_lenet["tflite"], images["digit"])
    input_index = as_rgb.interpreter.input_details[0].index
    assert np.array_equal(as_rgb.run.tensors[input_index], as_gray.run.tensors[input_index])
