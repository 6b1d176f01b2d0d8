"""PyTorch models end to end: the seed's SimpleCNN trained here, quantized by `edgecnn quantize` in both MODEL
forms and both input layouts, then reported, verified, exported and classified by the stages downstream.

Skipped where the torch extra is not installed.
"""

import importlib.util
import json
import pathlib

import numpy as np
import pytest
from click.testing import CliRunner

torch = pytest.importorskip("torch")
pytest.importorskip("litert_torch")

from edgecnn import artifacts, tflite  # noqa: E402
from edgecnn.cli import main  # noqa: E402

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = REPOSITORY / "examples" / "pytorch_simple_cnn.py"
BAD_MODELS = pathlib.Path(__file__).with_name("torch_bad_models.py")
DIGITS = 20


def run_cli(*arguments):
    return CliRunner().invoke(main, [str(argument) for argument in arguments])


def load_example():
    spec = importlib.util.spec_from_file_location("pytorch_simple_cnn", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def simple_cnn(tmp_path_factory):
    """SimpleCNN trained for one epoch on mnist-sample (about 10 s on 2 cores), saved as weights and as .pt2,
    and quantized by the CLI: module.py:function to an NHWC .tflite, the .pt2 to an NCHW one."""
    example = load_example()
    directory = tmp_path_factory.mktemp("torch_simple_cnn")
    model = example.train(epochs=1)
    weights, program = example.save(model, directory)
    function_spec = f"{EXAMPLE}:build"
    nhwc, nchw = directory / "nhwc.tflite", directory / "nchw.tflite"
    result = run_cli("quantize", function_spec, "--weights", weights, "--input-shape", "1x28x28",
                     "--calibration", "mnist-sample", "--samples", 100, "--out", nhwc)
    assert result.exit_code == 0, result.output
    assert "input 28x28x1, 10 labels" in result.output
    result = run_cli("quantize", program, "--input-layout", "nchw", "--calibration", "mnist-sample",
                     "--samples", 100, "--out", nchw)
    assert result.exit_code == 0, result.output
    assert "input 28x28x1 as NCHW" in result.output
    return {"dir": directory, "model": model, "weights": weights, "program": program, "function": function_spec,
            "nhwc": nhwc, "nchw": nchw}


@pytest.fixture(scope="session")
def digit_folder(tmp_path_factory):
    """The first DIGITS test digits as PNG files, and the float PyTorch model's input for each."""
    from PIL import Image

    from edgecnn.data import load_dataset

    dataset = load_dataset("mnist-sample", split="test")
    folder = tmp_path_factory.mktemp("torch_digits")
    for index, image in enumerate(dataset.images[:DIGITS]):
        Image.fromarray(image[:, :, 0]).save(folder / f"digit_{index:03d}.png")
    floats = dataset.images[:DIGITS].astype(np.float32) / 255.0
    return folder, np.ascontiguousarray(np.moveaxis(floats, -1, 1))


def graph_of(path):
    return tflite.read_model(str(path)).main


def test_nhwc_model_is_full_int8_and_starts_with_the_first_convolution(simple_cnn):
    graph = graph_of(simple_cnn["nhwc"])
    names = [operator.name for operator in graph.operators]
    # The single-channel first convolution becomes a depthwise one; nothing reorders the input before it.
    assert names[0] == "DEPTHWISE_CONV_2D" and "QUANTIZE" not in names and "DEQUANTIZE" not in names
    for tensor in graph.tensors:
        assert tensor.type_name in ("INT8", "INT32"), (tensor.name, tensor.type_name)
    input_tensor, output_tensor = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    assert input_tensor.shape == (1, 28, 28, 1) and input_tensor.type_name == "INT8"
    assert output_tensor.shape == (1, 10) and output_tensor.type_name == "INT8"
    convolution = next(operator for operator in graph.operators if operator.name == "CONV_2D")
    weights = graph.tensors[convolution.inputs[1]]
    assert len(weights.quantization.scales) == weights.shape[0] == 64
    metadata = artifacts.read_tflite_metadata(str(simple_cnn["nhwc"]))
    assert metadata.labels == [str(digit) for digit in range(10)]
    assert metadata.preprocessing.input_shape == (28, 28, 1) and metadata.preprocessing.layout == "nhwc"


def test_nchw_model_keeps_pytorch_layout_and_says_so_in_its_metadata(simple_cnn):
    graph = graph_of(simple_cnn["nchw"])
    assert graph.tensors[graph.inputs[0]].shape == (1, 1, 28, 28)
    assert graph.operators[0].name == "RESHAPE"  # NCHW -> NHWC; a RESHAPE because there is one channel
    preprocessing = artifacts.tflite_metadata(str(simple_cnn["nchw"])).preprocessing
    assert preprocessing.layout == "nchw" and preprocessing.tensor_shape == (1, 28, 28)


def test_report_int8_is_within_half_a_point_of_float(simple_cnn, tmp_path):
    out = tmp_path / "report"
    result = run_cli("report", "--float", simple_cnn["function"], "--weights", simple_cnn["weights"],
                     "--input-shape", "1x28x28", "--quantized", simple_cnn["nhwc"], "--dataset", "mnist-sample",
                     "--out", out)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["samples"] == 2000
    assert report["float"]["top1"] > 0.85
    assert abs(report["quantized"]["top1"] - report["float"]["top1"]) <= 0.005, report
    assert report["sizes"]["pytorch_bytes"] > report["sizes"]["quantized_tflite_bytes"]
    # The float scores are the PyTorch module's own: recompute the float top-1 directly.
    example = load_example()
    images, labels = example.digits("test")
    with torch.no_grad():
        float_top1 = np.mean((simple_cnn["model"](images).argmax(1) == labels).numpy())
    assert report["float"]["top1"] == pytest.approx(float_top1, abs=1e-12)


def test_report_of_the_exported_program_against_its_nchw_model(simple_cnn, tmp_path):
    out = tmp_path / "report"
    result = run_cli("report", "--float", simple_cnn["program"], "--quantized", simple_cnn["nchw"],
                     "--dataset", "mnist-sample", "--limit", 300, "--out", out)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["agreement"] >= 0.98 and report["quantized"]["top1"] > 0.85


@pytest.mark.parametrize("layout", ["nhwc", "nchw"])
def test_verify_is_bit_exact_with_the_reference_kernels_and_tflite_micro(simple_cnn, layout):
    result = run_cli("verify", simple_cnn[layout], "--dataset", "mnist-sample", "--count", 20,
                     "--against", "litert-ref,tflm")
    assert result.exit_code == 0, result.output
    assert "litert-ref: bit-exact" in result.output and "tflm: bit-exact" in result.output


@pytest.mark.parametrize("layout", ["nhwc", "nchw"])
def test_tflite_micro_export_writes_the_layout(simple_cnn, layout, tmp_path):
    out = tmp_path / "fw"
    result = run_cli("export", simple_cnn[layout], "--target", "tflm", "--out", out)
    assert result.exit_code == 0, result.output
    settings = (out / "model_settings.h").read_text()
    assert "kInputHeight = 28;" in settings and "kInputWidth = 28;" in settings and "kInputChannels = 1;" in settings
    assert f"kInputChannelsFirst = {'true' if layout == 'nchw' else 'false'};" in settings
    resolver = (out / "op_resolver.h").read_text()
    for method in ("AddDepthwiseConv2D", "AddConv2D", "AddMaxPool2D", "AddFullyConnected"):
        assert method in resolver


@pytest.mark.parametrize("layout", ["nhwc", "nchw"])
@pytest.mark.parametrize("backend", ["litert", "numpy"])
def test_classify_reads_the_layout_from_the_file(simple_cnn, digit_folder, layout, backend):
    folder, float_inputs = digit_folder
    result = run_cli("classify", simple_cnn[layout], "--source", f"{folder}/*.png", "--headless", "--top-k", 1,
                     "--backend", backend)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    labels = [line["top"][0]["label"] for line in lines if "top" in line]
    with torch.no_grad():
        expected = [str(int(index)) for index in simple_cnn["model"](torch.from_numpy(float_inputs)).argmax(1)]
    assert len(labels) == DIGITS
    # Fed in the wrong layout the model would be guessing; int8 may flip one borderline digit.
    assert sum(label == want for label, want in zip(labels, expected)) >= DIGITS - 1, (labels, expected)


def test_bench_measures_the_same_accuracy_in_either_layout(simple_cnn):
    result = run_cli("bench", simple_cnn["nhwc"], simple_cnn["nchw"], "--dataset", "mnist-sample", "--limit", 300,
                     "--runs", 5, "--json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    accuracies = [row["accuracy"] for row in rows]
    assert len(accuracies) == 2 and min(accuracies) > 0.85 and abs(accuracies[0] - accuracies[1]) <= 2 / 300


def test_a_foreign_nchw_model_without_metadata_is_fed_channels_first(simple_cnn, digit_folder, tmp_path):
    """A PyTorch-converted model from elsewhere: no edgecnn metadata, input (1, 1, 28, 28)."""
    from edgecnn.quantize import torch_converter, torch_models
    from edgecnn.runtime import Classifier

    model = torch_models.load_torch_model(simple_cnn["program"])
    example = load_example()
    images, _ = example.digits("train")
    calibration = np.moveaxis(images[:50].numpy(), 1, -1)
    path = tmp_path / "foreign.tflite"
    path.write_bytes(torch_converter.convert_torch_model(model, calibration, layout="nchw"))
    assert artifacts.read_tflite_metadata(str(path)) is None
    assert artifacts.tflite_metadata(str(path)).preprocessing.layout == "nchw"
    folder, float_inputs = digit_folder
    classifier = Classifier(path, backend="numpy")
    from PIL import Image

    labels = [classifier.classify(np.asarray(Image.open(png)), 1).class_index for png in sorted(folder.iterdir())]
    with torch.no_grad():
        expected = simple_cnn["model"](torch.from_numpy(float_inputs)).argmax(1).tolist()
    assert sum(label == want for label, want in zip(labels, expected)) >= DIGITS - 1


@pytest.mark.parametrize("io_type, first_op", [("uint8", "QUANTIZE"), ("float32", "QUANTIZE")])
def test_uint8_and_float32_io_add_the_boundary_ops(simple_cnn, digit_folder, tmp_path, io_type, first_op):
    out = tmp_path / f"{io_type}.tflite"
    result = run_cli("quantize", simple_cnn["program"], "--calibration", "mnist-sample", "--samples", 50,
                     "--io", io_type, "--out", out)
    assert result.exit_code == 0, result.output
    graph = graph_of(out)
    names = [operator.name for operator in graph.operators]
    assert names[0] == first_op and names[-1] == ("QUANTIZE" if io_type == "uint8" else "DEQUANTIZE")
    input_tensor = graph.tensors[graph.inputs[0]]
    assert input_tensor.type_name == io_type.upper() and input_tensor.shape == (1, 28, 28, 1)
    inner = graph.tensors[graph.operators[0].outputs[0]]
    if io_type == "uint8":
        assert input_tensor.quantization.scales[0] == inner.quantization.scales[0]
        assert int(input_tensor.quantization.zero_points[0]) == int(inner.quantization.zero_points[0]) + 128
    folder, float_inputs = digit_folder
    classified = run_cli("classify", out, "--source", f"{folder}/*.png", "--headless", "--top-k", 1)
    assert classified.exit_code == 0, classified.output
    labels = [json.loads(line)["top"][0]["label"] for line in classified.output.splitlines() if '"top"' in line]
    with torch.no_grad():
        expected = [str(int(index)) for index in simple_cnn["model"](torch.from_numpy(float_inputs)).argmax(1)]
    assert sum(label == want for label, want in zip(labels, expected)) >= DIGITS - 1


def test_bad_inputs_fail_in_one_line_and_write_nothing(simple_cnn, tmp_path):
    text_file = tmp_path / "notes.pt2"
    text_file.write_text("this is not a model\n")
    weights_as_pt2 = tmp_path / "weights.pt2"
    weights_as_pt2.write_bytes(simple_cnn["weights"].read_bytes())
    not_python = tmp_path / "not_python.py"
    not_python.write_text("this is not python\n")
    other_weights = tmp_path / "other.pt"
    torch.save(torch.nn.Linear(3, 2).state_dict(), other_weights)
    tensor_weights = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), tensor_weights)
    text_weights = tmp_path / "text.pt"
    text_weights.write_text("not weights\n")
    function, weights, program = simple_cnn["function"], simple_cnn["weights"], simple_cnn["program"]
    shape = ("--input-shape", "1x28x28")
    cases = [
        ([text_file], "is not a PyTorch exported program"),
        ([weights_as_pt2], "is not a torch.export program but another PyTorch zip"),
        ([weights], "is a PyTorch weights file, not a model"),
        ([tmp_path / "missing.pt2"], "model file not found"),
        ([f"{tmp_path / 'missing.py'}:build", *shape], "module file not found"),
        ([f"{not_python}:build", *shape], "cannot import"),
        ([f"{EXAMPLE}:no_such_function", *shape], "has no function 'no_such_function'"),
        ([f"{BAD_MODELS}:returns_a_dict", *shape], "returned a dict, not a torch.nn.Module"),
        ([function, "--weights", other_weights, *shape], "do not fit"),
        ([f"{BAD_MODELS}:other_network", "--weights", weights, *shape], "Missing key(s) in state_dict"),
        ([function, "--weights", tensor_weights, *shape], "holds a Tensor, not a state_dict"),
        ([function, "--weights", text_weights, *shape], "is not a state_dict saved with torch.save"),
        ([function, "--weights", weights, "--input-shape", "28x28"], "has 2 dimensions"),
        ([function, "--weights", weights, "--input-shape", "8x1x28x28"], "batch 1, not 8"),
        ([function, "--weights", weights, "--input-shape", "3x28x28"], "does not run on an input of shape 1x3x28x28"),
        ([function, "--weights", weights], "give --input-shape"),
        ([program, "--weights", weights], "--weights is for module.py:function"),
        ([program, "--input-shape", "1x32x32"], "was exported for input 1x1x28x28"),
        ([program, "--mode", "float16"], "PyTorch models convert with --mode int8"),
        ([f"{BAD_MODELS}:not_lowerable", *shape], "litert-torch cannot convert"),
    ]
    out = tmp_path / "out.tflite"
    before = sorted(path.name for path in tmp_path.iterdir())
    for arguments, expected in cases:
        result = run_cli("quantize", *arguments, "--calibration", "mnist-sample", "--samples", 10, "--out", out)
        assert result.exit_code == 2, (arguments, result.output)
        assert result.output.startswith("error: ") and result.output.count("\n") == 1, (arguments, result.output)
        assert expected in result.output, (arguments, result.output)
        assert not out.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == before


@pytest.mark.parametrize("function, expected", [
    ("ends_in_softmax", "op 5 (DEQUANTIZE), op 6 (SOFTMAX) run in float (op 6, the model's output)"),
    ("layer_norm", "in LayerNorm 'norm')"),
])
def test_a_float_op_is_named_with_where_it_is(tmp_path, function, expected):
    out = tmp_path / "float_ops.tflite"
    result = run_cli("quantize", f"{BAD_MODELS}:{function}", "--input-shape", "1x28x28", "--calibration",
                     "mnist-sample", "--samples", 10, "--out", out)
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert "converts, but not to full int8" in result.output and expected in result.output, result.output
    assert "end the model at its logits" in result.output
    assert not out.exists()
