"""Every registered model goes through the whole pipeline: build, train a step, quantize, run in LiteRT."""

import numpy as np
import pytest

import edgecnn.zoo as zoo
from edgecnn import tflite
from edgecnn.quantize.converter import quantize_keras_model

NUM_CLASSES = 5


def small_input_shape(name):
    height, width, channels = zoo.model_info(name).default_input_shape
    return (min(height, 32), min(width, 32), channels)


@pytest.mark.parametrize("name", zoo.list_models())
def test_model_trains_a_step_quantizes_to_int8_and_runs_in_litert(name, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    shape = small_input_shape(name)
    rng = np.random.default_rng(0)
    images = rng.random((8, *shape), dtype=np.float32)
    labels = rng.integers(0, NUM_CLASSES, 8)
    model = zoo.create_model(name, input_shape=shape, num_classes=NUM_CLASSES)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=False)
    before = [weights.copy() for weights in model.get_weights()]
    model.fit(images, labels, batch_size=8, epochs=1, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))

    tflite_bytes = quantize_keras_model(model, images, mode="int8", io_type="int8")
    graph = tflite.read_model(tflite_bytes).subgraphs[0]
    activation_types = {graph.tensors[index].type_name for operator in graph.operators
                        for index in operator.inputs + operator.outputs if index >= 0
                        and graph.tensors[index].data is None}
    assert activation_types == {"INT8"}, activation_types

    interpreter = Interpreter(model_content=tflite_bytes)
    interpreter.allocate_tensors()
    input_detail, output_detail = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    assert input_detail["dtype"] == np.int8 and output_detail["dtype"] == np.int8
    interpreter.set_tensor(input_detail["index"], rng.integers(-128, 128, (1, *shape), dtype=np.int8))
    interpreter.invoke()
    output = interpreter.get_tensor(output_detail["index"])
    assert output.shape == (1, NUM_CLASSES)
    scale, zero_point = output_detail["quantization"]
    assert abs(float(np.sum(scale * (output.astype(np.float32) - zero_point))) - 1.0) < 0.05
