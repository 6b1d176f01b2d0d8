"""`edgecnn edgetpu check`: a model that maps fully and one with a float op in the middle."""

import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from edgecnn.cli import main
from edgecnn.export import edgetpu_check


def _small_keras_model(with_float_sin=False):
    import keras

    rng = np.random.default_rng(7)
    inputs = keras.Input((16, 16, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    if with_float_sin:
        import tensorflow as tf

        x = keras.layers.Lambda(tf.math.sin)(x)  # SIN has no int8 kernel: the converter keeps it float
    else:
        x = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(8, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Softmax()(keras.layers.Dense(10)(x))
    model = keras.Model(inputs, outputs)
    for weight in model.weights:
        weight.assign(rng.normal(0.0, 0.3, weight.shape).astype("float32"))
    return model


def _convert_allowing_float_ops(keras_model):
    """int8 where possible, float where an op has no int8 kernel (what the Edge TPU check must catch)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    inputs = keras.Input((16, 16, 1), batch_size=1)
    converter = tf.lite.TFLiteConverter.from_keras_model(keras.Model(inputs, keras_model(inputs)))
    rng = np.random.default_rng(0)
    samples = [rng.random((1, 16, 16, 1), dtype=np.float32) for _ in range(8)]
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([sample] for sample in samples)
    converter.target_spec.supported_ops = [
        tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
        tf.lite.OpsSet.TFLITE_BUILTINS,
    ]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


@pytest.fixture(scope="session")
def edgetpu_models(tmp_path_factory):
    from edgecnn.quantize.converter import quantize_keras_model

    folder = tmp_path_factory.mktemp("edgetpu_models")
    calibration = np.random.default_rng(0).random((8, 16, 16, 1), dtype=np.float32)
    full = folder / "small_int8.tflite"
    full.write_bytes(quantize_keras_model(_small_keras_model(), calibration))
    mixed = folder / "sin_in_the_middle.tflite"
    mixed.write_bytes(_convert_allowing_float_ops(_small_keras_model(with_float_sin=True)))
    return full, mixed


def test_full_int8_model_maps_fully(edgetpu_models):
    full, _ = edgetpu_models
    result = edgetpu_check.check_model(full)
    assert [op.name for op in result.ops] == [
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "MAX_POOL_2D",
        "CONV_2D",
        "MEAN",
        "FULLY_CONNECTED",
        "SOFTMAX",
    ]
    assert result.maps_fully and result.split_index is None and result.problems == []
    assert all(op.runs_on == "edgetpu" and op.status == "Mapped to Edge TPU" for op in result.ops)
    assert result.text().endswith("all 7 ops map to the Edge TPU")


def test_float_op_in_the_middle_splits_there(edgetpu_models):
    _, mixed = edgetpu_models
    result = edgetpu_check.check_model(mixed)
    names = [op.name for op in result.ops]
    assert names == [
        "CONV_2D",
        "DEQUANTIZE",
        "SIN",
        "QUANTIZE",
        "CONV_2D",
        "MEAN",
        "FULLY_CONNECTED",
        "SOFTMAX",
    ]
    assert not result.maps_fully
    assert result.split_index == 1  # DEQUANTIZE writes float: the first op the Edge TPU cannot take
    runs_on = [op.runs_on for op in result.ops]
    assert runs_on == ["edgetpu"] + ["cpu"] * 7
    by_index = {op.index: op for op in result.ops}
    assert by_index[1].status == "Operation is working on an unsupported data type"
    assert any("FLOAT32, not 8-bit" in reason for reason in by_index[1].reasons)
    assert by_index[2].status == "Operation not supported" and not by_index[2].mappable
    # Ops after the split are mappable in themselves but land on the CPU, as the compiler reports them.
    assert by_index[4].mappable and by_index[4].status == "More than one subgraph is not supported"
    assert "the split falls before op 1 (DEQUANTIZE): ops 1..7 run on the CPU" in result.text()


def test_rank_and_dynamic_shape_rules():
    """Synthetic graphs exercise the shape rules that converted CNNs rarely hit."""
    from edgecnn import tflite

    def tensor(index, shape, signature=None, type_name="INT8", quantized=True):
        scales = np.array([0.1], np.float32) if quantized else np.zeros(0, np.float32)
        return tflite.Tensor(
            index=index,
            name=f"t{index}",
            shape=tuple(shape),
            shape_signature=tuple(signature or shape),
            type_name=type_name,
            dtype=np.dtype(np.int8),
            buffer=0,
            data=None,
            quantization=tflite.Quantization(scales, np.zeros(scales.size, np.int64)),
        )

    graph = tflite.SubGraph(
        name="",
        inputs=[0],
        outputs=[2],
        operators=[],
        tensors=[tensor(0, (1, 8, 8, 4), (-1, 8, 8, 4)), tensor(1, (2, 8, 8, 4)), tensor(2, (2, 8, 8, 4))],
    )
    relu = tflite.Operator(
        index=0, name="RELU", opcode_index=0, inputs=[0], outputs=[1], options_type="", options={}
    )
    reasons, status = edgetpu_check.operator_problems(graph, relu)
    assert any("dynamic size [-1, 8, 8, 4]" in reason for reason in reasons)
    assert any("outside the 3 innermost" in reason for reason in reasons)
    pool = tflite.Operator(
        index=1,
        name="MAX_POOL_2D",
        opcode_index=0,
        inputs=[1],
        outputs=[2],
        options_type="",
        options={"fused_activation_function": "RELU"},
    )
    reasons, _ = edgetpu_check.operator_problems(graph, pool)
    assert any("fused activation RELU" in reason for reason in reasons)


def test_cli_check_exit_codes_and_json(edgetpu_models):
    full, mixed = edgetpu_models
    runner = CliRunner()
    result = runner.invoke(main, ["edgetpu", "check", str(full)])
    assert result.exit_code == 0, result.output
    assert "MAX_POOL_2D" in result.output and "all 7 ops map" in result.output
    result = runner.invoke(main, ["edgetpu", "check", str(mixed), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["maps_fully"] is False and report["split_index"] == 1
    assert (report["edgetpu_ops"], report["cpu_ops"]) == (1, 7)
    assert report["ops"][2]["name"] == "SIN" and report["ops"][2]["runs_on"] == "cpu"


def test_cli_check_rejects_a_file_that_is_not_a_model(tmp_path):
    bogus = tmp_path / "notes.tflite"
    bogus.write_bytes(b"not a flatbuffer at all")
    result = CliRunner().invoke(main, ["edgetpu", "check", str(bogus)])
    assert result.exit_code == 2 and "not a TFLite model" in result.output


def test_limits_of_the_converter_ops():
    """PReLU's alpha must vary along channels only; PACK may not stack the batch axis; GATHER is not listed."""
    from edgecnn import tflite

    def tensor(index, shape, data=None):
        scales = np.array([0.1], np.float32)
        return tflite.Tensor(
            index=index, name=f"t{index}", shape=tuple(shape), shape_signature=tuple(shape),
            type_name="INT8" if data is None else "INT32", dtype=np.dtype(np.int8), buffer=0, data=data,
            quantization=tflite.Quantization(scales, np.zeros(1, np.int64)),
        )  # fmt: skip

    def operator(name, inputs, options=None):
        return tflite.Operator(
            index=0, name=name, opcode_index=0, inputs=inputs, outputs=[5], options_type="", options=options or {}
        )

    channel_alpha, spatial_alpha = tensor(1, (1, 1, 4), np.zeros(4)), tensor(2, (8, 8, 4), np.zeros(256))
    tensors = [tensor(0, (1, 8, 8, 4)), channel_alpha, spatial_alpha, tensor(3, (1,), np.array([3]))]
    tensors += [tensor(4, (4,)), tensor(5, (1, 8, 8, 4))]
    graph = tflite.SubGraph(name="", inputs=[0], outputs=[5], operators=[], tensors=tensors)
    assert edgetpu_check.operator_problems(graph, operator("PRELU", [0, 1]))[0] == []
    reasons, _ = edgetpu_check.operator_problems(graph, operator("PRELU", [0, 2]))
    assert any("alpha of shape [8, 8, 4]" in reason for reason in reasons)
    reasons, _ = edgetpu_check.operator_problems(graph, operator("PACK", [0, 0], {"axis": 0}))
    assert "packs in the batch dimension" in reasons
    assert edgetpu_check.operator_problems(graph, operator("PACK", [0, 0], {"axis": 3}))[0] == []
    reasons, status = edgetpu_check.operator_problems(graph, operator("GATHER", [0, 3]))
    assert status == edgetpu_check.STATUS_NOT_SUPPORTED
