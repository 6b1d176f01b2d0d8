"""explain.html in headless Chromium: no errors, no requests, not blank, and its JavaScript works every
element out to the same integers as Python and the interpreter."""

import math

import pytest
from click.testing import CliRunner
from headless_browser import is_blank, open_page

from edgecnn.cli import main
from edgecnn.explain import explanation as explanation_module
from edgecnn.explain import working

INTEGER_FIELDS = ("sum_of_products", "bias", "accumulator", "multiplier", "shift", "left_shift", "right_shift",
                  "shifted", "wide_product", "high", "remainder", "threshold", "round_up", "scaled",
                  "with_zero_point", "clamp", "output", "interpreter_output", "input_channels", "window_origin")
FLOAT_FIELDS = ("real_multiplier", "fraction", "exponent", "exact_scaled")


def _page(model, image, out, *options):
    result = CliRunner().invoke(main, ["explain", str(model), "--image", str(image), "--out", str(out), *options])
    assert result.exit_code == 0, result.output
    return out / "explain.html"


def _assert_same_working(javascript, python):
    for field in INTEGER_FIELDS:
        assert javascript[field] == python[field], (field, javascript[field], python[field])
    for field in FLOAT_FIELDS:
        assert javascript[field] == python[field], field  # the same IEEE double operations, in the same order
    assert [{key: tap[key] for key in python["taps"][0]} for tap in javascript["taps"]] == python["taps"]
    for key, value in python["float"].items():
        assert math.isclose(javascript["float"][key], value, rel_tol=1e-9, abs_tol=1e-9), key


def _check_every_layer(page, layers):
    supported = 0
    for layer in layers:
        result = page.evaluate(f"edgecnnExplain.checkLayer({layer.op_index})")
        if result["supported"]:
            supported += 1
            assert result["checked"] > 0 and result["mismatched"] == 0, (layer.op_index, layer.op, result)
    return supported


@pytest.mark.parametrize("flavor", ["micro", "tflite"])
def test_windows_page_works_every_element_like_python_and_the_interpreter(flavor, window_models, tmp_path):
    path = _page(window_models["int8"], window_models["image"], tmp_path / flavor, "--keras",
                 window_models["keras"], "--flavor", flavor)
    explanation = explanation_module.explain(window_models["int8"], window_models["image"], flavor=flavor)
    with open_page(path) as page:
        assert page.errors == [] and page.requests == []
        assert not is_blank(page.screenshot())
        assert page.evaluate("edgecnnExplain.compareWithPython(edgecnnExplain.data.example)") == []
        for layer in explanation.layers:
            if layer.op not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                continue
            _, height, width, channels = layer.output_shape
            for y, x, channel in ((0, 0, 0), (height - 1, width - 1, channels - 1), (height // 2, 1, 1)):
                python = working.worked_example(explanation.interpreter, explanation.run, layer, y, x, channel)
                javascript = page.evaluate(f"edgecnnExplain.work({layer.op_index}, {y}, {x}, {channel})")
                _assert_same_working(javascript, python)
        # conv, depthwise, average pool and the dense layer (whose requantization depends on the flavor)
        assert _check_every_layer(page, explanation.layers) == 4


def test_tiny_vgg_page_opens_clean_and_a_click_shows_that_pixels_working(tiny_vgg, images, tmp_path):
    path = _page(tiny_vgg, images["shape"], tmp_path / "tiny_vgg")
    explanation = explanation_module.explain(tiny_vgg, images["shape"])
    with open_page(path, size=(1280, 900)) as page:
        assert page.errors == [] and page.requests == []
        assert not is_blank(page.screenshot())
        assert "op 0 CONV_2D" in page.evaluate("document.querySelector('#working h3').textContent")
        assert _check_every_layer(page, explanation.layers) == 7
        # A real mouse click on channel 4 of op 3's thumbnail, at the canvas pixel (y=10, x=20).
        box = page.evaluate(
            "(() => { const canvas = document.querySelectorAll('.maps[data-layer=\"3\"] canvas')[4];"
            " canvas.scrollIntoView(); const r = canvas.getBoundingClientRect();"
            " return {left: r.left, top: r.top, width: r.width, height: r.height}; })()"
        )
        x = box["left"] + (20 + 0.5) * box["width"] / 28
        y = box["top"] + (10 + 0.5) * box["height"] / 28
        for kind in ("mousePressed", "mouseReleased"):
            page.command("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
        heading = page.evaluate("document.querySelector('#working h3').textContent")
        assert "op 3 CONV_2D" in heading and "y=10, x=20, c=4" in heading, heading
        verdict = page.evaluate("document.querySelector('#working .verdict').textContent")
        assert verdict == f"= {int(explanation.run.tensors[explanation.layers[3].output][0, 10, 20, 4])}, " \
                          "the interpreter's value."
        assert page.errors == []


def test_lenet_page_with_keras_opens_clean(trained_lenet, images, tmp_path):
    path = _page(trained_lenet["tflite"], images["digit"], tmp_path / "lenet", "--keras", trained_lenet["keras"])
    with open_page(path) as page:
        assert page.errors == [] and page.requests == []
        assert not is_blank(page.screenshot())
        assert page.evaluate("document.querySelectorAll('.layer.worst').length") == 1
        assert page.evaluate("document.querySelectorAll('canvas.float').length") > 0
