import json

import numpy as np
import pytest
from click.testing import CliRunner

from edgecnn import tflite
from edgecnn.artifacts import read_tflite_metadata
from edgecnn.cli import main


def run_cli(*arguments):
    return CliRunner().invoke(main, [str(argument) for argument in arguments])


def litert_interpreter(path, **options):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), **options)
    interpreter.allocate_tensors()
    return interpreter


def test_full_int8_model_has_int8_io_one_reshape_and_metadata(trained_lenet):
    path = trained_lenet["tflite"]
    model = tflite.read_model(str(path))
    graph = model.subgraphs[0]
    op_names = [operator.name for operator in graph.operators]
    assert op_names.count("RESHAPE") == 1
    assert not {"SHAPE", "STRIDED_SLICE", "PACK", "DEQUANTIZE"} & set(op_names)
    for tensor in graph.tensors:
        assert tensor.type_name in ("INT8", "INT32"), (tensor.name, tensor.type_name)
    interpreter = litert_interpreter(path)
    detail = interpreter.get_input_details()[0]
    assert detail["dtype"] == np.int8 and list(detail["shape"]) == [1, 28, 28, 1]
    assert interpreter.get_output_details()[0]["dtype"] == np.int8
    metadata = read_tflite_metadata(str(path))
    assert metadata.labels == [str(digit) for digit in range(10)]
    assert metadata.preprocessing.input_shape == (28, 28, 1)
    assert metadata.model_name == "lenet5" and metadata.dataset == "mnist-sample"


def test_weights_are_per_channel(trained_lenet):
    graph = tflite.read_model(str(trained_lenet["tflite"])).subgraphs[0]
    convolution = next(operator for operator in graph.operators if operator.name == "CONV_2D")
    weights = graph.tensors[convolution.inputs[1]]
    assert len(weights.quantization.scales) == weights.shape[0] > 1


def test_quantized_model_agrees_with_float_and_runs_in_tflite_micro(trained_lenet):
    from tflite_micro.python.tflite_micro import runtime

    from edgecnn.artifacts import load_keras_model
    from edgecnn.data import load_dataset

    metadata = read_tflite_metadata(str(trained_lenet["tflite"]))
    dataset = load_dataset("mnist-sample", metadata.preprocessing, split="test").take(50)
    inputs = dataset.inputs(metadata.preprocessing)
    float_predictions = np.argmax(load_keras_model(trained_lenet["keras"]).predict(inputs, verbose=0), axis=1)
    interpreter = litert_interpreter(trained_lenet["tflite"])
    micro = runtime.Interpreter.from_file(str(trained_lenet["tflite"]))
    detail = interpreter.get_input_details()[0]
    scale, zero_point = detail["quantization"]
    agree = micro_agree = 0
    for image, expected in zip(inputs, float_predictions):
        quantized = np.clip(np.round(image / scale) + zero_point, -128, 127).astype(np.int8)[None]
        interpreter.set_tensor(detail["index"], quantized)
        interpreter.invoke()
        litert_output = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
        micro.set_input(quantized, 0)
        micro.invoke()
        micro_output = micro.get_output(0).reshape(-1)
        # XNNPACK requantizes in float32 and TFLite Micro in fixed point, so scores may differ by a few LSB
        # (exactness is tests/reference's job); the predictions must agree.
        agree += int(np.argmax(litert_output) == expected)
        micro_agree += int(np.argmax(micro_output) == np.argmax(litert_output))
    assert agree >= 48 and micro_agree >= 49


@pytest.mark.parametrize("io_type, mode, input_dtype", [("uint8", "int8", np.uint8),
                                                         (None, "float16", np.float32),
                                                         (None, "dynamic", np.float32)])
def test_other_modes_and_io_types(trained_lenet, tmp_path, io_type, mode, input_dtype):
    out = tmp_path / "model.tflite"
    arguments = ["quantize", trained_lenet["keras"], "--mode", mode, "--out", out]
    if mode == "int8":
        arguments += ["--calibration", "mnist-sample", "--samples", 20]
    if io_type:
        arguments += ["--io", io_type]
    result = run_cli(*arguments)
    assert result.exit_code == 0, result.output
    interpreter = litert_interpreter(out)
    assert interpreter.get_input_details()[0]["dtype"] == input_dtype
    assert read_tflite_metadata(str(out)).labels[3] == "3"


def test_foreign_model_gets_default_preprocessing_and_overrides(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((12, 12, 3)), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3, activation="softmax")])
    model.save(tmp_path / "foreign.keras")
    out = tmp_path / "foreign.tflite"
    result = run_cli("quantize", tmp_path / "foreign.keras", "--calibration", "shapes", "--samples", 10,
                     "--mean", "0.5", "--std", "0.25", "--out", out)
    assert result.exit_code == 0, result.output
    preprocessing = read_tflite_metadata(str(out)).preprocessing
    assert preprocessing.input_shape == (12, 12, 3)
    assert preprocessing.mean == (0.5,) and preprocessing.std == (0.25,)
    assert read_tflite_metadata(str(out)).labels == ["0", "1", "2"]


def test_bad_inputs_fail_in_one_line_and_write_nothing(trained_lenet, tmp_path):
    keras_path = trained_lenet["keras"]
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"PK\x03\x04 this is not really a zip")
    empty_folder = tmp_path / "images"
    (empty_folder / "digit").mkdir(parents=True)
    (empty_folder / "digit" / "a.png").write_bytes(b"not a png")
    cases = [
        (["quantize", tmp_path / "missing.keras", "--calibration", "mnist-sample"], "model file not found"),
        (["quantize", corrupt, "--calibration", "mnist-sample"], "corrupt.keras"),
        (["quantize", keras_path, "--calibration", empty_folder], "no readable images"),
        (["quantize", keras_path, "--calibration", "no-such-set"], "unknown dataset 'no-such-set'"),
        (["quantize", keras_path], "--calibration is required"),
        (["quantize", keras_path, "--calibration", "mnist-sample", "--input-layout", "nchw"],
         "Keras model file (.keras, .h5) converts to nhwc"),
        (["quantize", keras_path, "--calibration", "mnist-sample", "--weights", keras_path],
         "--weights is for PyTorch models"),
    ]
    for arguments, expected in cases:
        result = run_cli(*arguments, "--out", tmp_path / "out.tflite")
        assert result.exit_code != 0, arguments
        assert expected in result.output, (arguments, result.output)
        assert result.output.startswith("error: ") and result.output.count("\n") == 1, result.output
        assert "Traceback" not in result.output
    result = run_cli("quantize", keras_path, "--calibration", "mnist-sample", "--out",
                     tmp_path / "no" / "such" / "dir" / "out.tflite")
    assert result.exit_code != 0 and "output directory does not exist" in result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["corrupt.keras", "images"]


def test_interrupted_write_leaves_no_partial_file(trained_lenet, tmp_path, monkeypatch):
    from edgecnn import atomic
    from edgecnn.quantize import pipeline

    target = tmp_path / "model.tflite"
    target.write_bytes(b"previous model")

    def failing_write(path, data):
        with atomic.atomic_path(path) as temporary:
            temporary.write_bytes(data[: len(data) // 2])
            raise KeyboardInterrupt

    monkeypatch.setattr(pipeline.atomic, "write_bytes", failing_write)
    with pytest.raises(KeyboardInterrupt):
        pipeline.quantize_file(trained_lenet["keras"], target, "mnist-sample", samples=5)
    assert target.read_bytes() == b"previous model"
    assert [path.name for path in tmp_path.iterdir()] == ["model.tflite"]


def test_metadata_survives_a_json_round_trip(trained_lenet):
    raw = tflite.read_model(str(trained_lenet["tflite"])).metadata["edgecnn"]
    values = json.loads(bytes(raw))
    assert values["format"] == 1 and values["preprocessing"]["channels"] == 1


def test_dead_logits_warn_at_quantize_and_fail_clearly_in_the_interpreter(tmp_path):
    """An untrained model's tiny logit range makes TFLite's reference kernels and TFLite Micro abort at load."""
    import keras

    from edgecnn.errors import UnsupportedModelError
    from edgecnn.reference import Interpreter

    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(3, kernel_initializer=keras.initializers.Constant(1e-10)),
                              keras.layers.Softmax()])
    model.save(tmp_path / "dead.keras")
    out = tmp_path / "dead.tflite"
    result = CliRunner().invoke(main, ["quantize", str(tmp_path / "dead.keras"), "--calibration", "mnist-sample",
                                       "--samples", "10", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning: op 2 (SOFTMAX): its input scale" in result.output and "2^-26" in result.output
    with pytest.raises(UnsupportedModelError, match=r"op 2 \(SOFTMAX\).*abort at load"):
        Interpreter(str(out))
