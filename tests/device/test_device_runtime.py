"""The runtime layer: backends agree, quantization matches TFLite, the Edge TPU delegate fails clearly."""

import numpy as np
import pytest
from device_helpers import json_lines, run_cli

from edgecnn.data import encoding
from edgecnn.errors import ConfigurationError, RuntimeBackendError
from edgecnn.runtime import BACKENDS, Classifier, backend_class, delegate, model


def test_litert_and_tflite_agree_on_top1_and_within_one_step(lenet5_int8, digits):
    pytest.importorskip("tensorflow")
    litert = Classifier(lenet5_int8, backend="litert")
    tensorflow = Classifier(lenet5_int8, backend="tensorflow")
    assert litert.labels == [str(index) for index in range(10)]
    for image in digits.images[:50]:
        prepared = litert.prepare(image)
        np.testing.assert_array_equal(prepared, tensorflow.prepare(image))
        first, second = litert.predict(prepared), tensorflow.predict(prepared)
        assert np.max(np.abs(first - second)) <= litert.output.scale * 1.001
        assert np.argmax(first) == np.argmax(second)


def test_reference_backend_gives_the_same_top1(lenet5_int8, digits):
    if BACKENDS["numpy"].check_available() is not None:
        pytest.skip("edgecnn.reference is not ready")
    reference = Classifier(lenet5_int8, backend="numpy")
    litert = Classifier(lenet5_int8, backend="litert")
    images = digits.images[:5]
    assert [reference.classify(image, 1).class_index for image in images] == [
        litert.classify(image, 1).class_index for image in images
    ]


def test_auto_picks_the_first_backend_that_imports():
    assert backend_class("auto").name == "litert"
    with pytest.raises(RuntimeBackendError, match="unknown backend"):
        backend_class("onnx")


def test_tflite_runtime_is_reported_unusable_with_numpy_2():
    if int(np.__version__.split(".")[0]) < 2:
        pytest.skip("this environment has numpy 1")
    problem = BACKENDS["tflite-runtime"].check_available()
    assert problem is not None and ("numpy<2" in problem or "does not import" in problem)


def test_input_quantization_rounds_half_away_from_zero_and_saturates():
    tensor = model.backends.TensorInfo(0, "input", (1, 4), np.dtype(np.int8), 0.5, -3)
    values = np.array([[0.25, -0.25, 100.0, -100.0]], np.float32)  # x / s = 0.5, -0.5, 200, -200
    quantized = encoding.quantize(values, tensor.dtype, tensor.scale, tensor.zero_point)
    np.testing.assert_array_equal(quantized, [[-2, -4, 127, -128]])
    np.testing.assert_allclose(model.dequantize(np.array([-3, 1], np.int8), tensor), [0.0, 2.0])


@pytest.mark.parametrize(
    "text, options",
    [
        ("edgetpu", {}),
        ("edgetpu:usb", {"device": "usb"}),
        ("edgetpu:usb:1", {"device": "usb:1"}),
        ("edgetpu:pci", {"device": "pci"}),
        ("edgetpu:0", {"device": ":0"}),
    ],
)
def test_delegate_specs_become_libedgetpu_device_options(text, options):
    assert delegate.delegate_options(delegate.parse_delegate(text)) == options


@pytest.mark.parametrize("text", ["gpu", "edgetpu:wifi", "edgetpu:usb:x"])
def test_bad_delegate_specs_are_rejected(text):
    with pytest.raises(ConfigurationError):
        delegate.parse_delegate(text)


def test_edgetpu_library_names_per_platform():
    assert delegate.edgetpu_library_name("Linux") == "libedgetpu.so.1"
    assert delegate.edgetpu_library_name("Darwin") == "libedgetpu.1.dylib"
    assert delegate.edgetpu_library_name("Windows") == "edgetpu.dll"


def test_missing_libedgetpu_fails_clearly_and_fallback_cpu_runs(lenet5_int8, digits_folder):
    if delegate.library_loadable(delegate.edgetpu_library_name()) is None:
        pytest.skip("libedgetpu is installed here; this test covers the missing-library message")
    result = run_cli(
        ["classify", lenet5_int8, "--source", digits_folder, "--headless", "--delegate", "edgetpu:usb"]
    )
    assert result.returncode == 2
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith(
        "error: cannot use --delegate edgetpu:usb: the Edge TPU library libedgetpu.so.1"
    )
    assert "libedgetpu1-std" in message and "--fallback-cpu" in message
    assert result.stdout == ""

    fallback = run_cli(
        [
            "classify",
            lenet5_int8,
            "--source",
            digits_folder,
            "--headless",
            "--delegate",
            "edgetpu",
            "--fallback-cpu",
        ]
    )
    assert fallback.returncode == 0, fallback.stderr
    assert "running on the CPU (--fallback-cpu)" in fallback.stderr
    assert len(json_lines(fallback.stdout)) == 20


def test_reference_backend_refuses_a_delegate(lenet5_int8):
    with pytest.raises(RuntimeBackendError, match="CPU only"):
        delegate.load_edgetpu_delegate(BACKENDS["numpy"], delegate.parse_delegate("edgetpu"))


def test_pixel_lookup_table_gives_exactly_the_preprocessed_quantized_input(lenet5_int8):
    classifier = Classifier(lenet5_int8)
    generator = np.random.default_rng(0)
    for shape in [(28, 28, 3), (28, 28), (50, 70, 3)]:
        image = generator.integers(0, 256, shape, dtype=np.uint8)
        expected = classifier.encoder.quantize(classifier.preprocessing.apply([image]))
        prepared = classifier.prepare(image)
        assert prepared.dtype == np.int8 and prepared.shape == (1, 28, 28, 1)
        np.testing.assert_array_equal(prepared, expected)
