"""Emulated Cortex-M tests: TFLite Micro compiled once per session into the cache the command uses
(~/.cache/edgecnn/tflm, so a rerun compiles nothing), real converted models, and every output compared with
the NumPy interpreter's micro flavor."""

import importlib.util
import os
import pathlib

import pytest
from emulated import KERNEL_TREES, ZOO_MODELS
from external_tools import require_tool
from tflm_trees import CMSIS_NN, REFERENCE, require_tree

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TESTS = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def emulator():
    """The arm toolchain and both QEMUs: skipped when missing, a failure in CI (.ci/run installs them)."""
    for tool in ("arm-none-eabi-g++", "arm-none-eabi-size", "qemu-arm", "qemu-system-arm"):
        require_tool(tool)


@pytest.fixture(scope="session")
def reference_tree(emulator):
    return require_tree(REFERENCE)


@pytest.fixture(scope="session")
def cmsis_tree(emulator):
    return require_tree(CMSIS_NN)


@pytest.fixture(scope="session", params=sorted(KERNEL_TREES))
def kernel_tree(request, emulator):
    """(kernel set name, tree path): each test using it runs with the reference and the CMSIS-NN kernels."""
    return request.param, require_tree(KERNEL_TREES[request.param])


def _set_batch_norm_statistics(model, images):
    """Batch-norm statistics from data, as training leaves them: untrained, mobilenet_v2's logits get an int8
    scale below the 2**-26 that TFLite Micro's softmax accepts (its Prepare aborts the program)."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.0
    model(images, training=True)


@pytest.fixture(scope="session")
def zoo_models(tmp_path_factory):
    """name -> path of each MCU-sized zoo model, full int8 with edgecnn metadata naming its dataset."""
    pytest.importorskip("tensorflow")
    from edgecnn import zoo
    from edgecnn.artifacts import ModelMetadata
    from edgecnn.data import Preprocessing, load_dataset
    from edgecnn.quantize.converter import quantize_keras_model

    folder = tmp_path_factory.mktemp("emulate_zoo")
    paths = {}
    for name, dataset in ZOO_MODELS.items():
        shape = zoo.model_info(name).default_input_shape
        model = zoo.create_model(name, input_shape=shape, num_classes=10)
        preprocessing = Preprocessing.for_input_shape(shape)
        images = load_dataset(dataset, preprocessing).take(32, seed=1).inputs(preprocessing)
        _set_batch_norm_statistics(model, images[:16])
        metadata = ModelMetadata(labels=[str(index) for index in range(10)], preprocessing=preprocessing,
                                 model_name=name, dataset=dataset)
        paths[name] = folder / f"{name}.tflite"
        paths[name].write_bytes(quantize_keras_model(model, images, metadata=metadata))
    return paths


def _verify_conftest():
    """tests/verify/conftest.py, loaded under a name of its own (several conftest modules share one name)."""
    spec = importlib.util.spec_from_file_location("verify_model_builders", TESTS / "verify" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def foreign_models(tmp_path_factory, reference_tree):
    """Models edgecnn did not make: TFLite Micro's check model (TensorFlow's converter, no edgecnn metadata)
    and a digit model whose convolution biases are tagged quantized_dimension 3, as person_detect's are."""
    pytest.importorskip("tensorflow")
    import keras

    from edgecnn.data import Preprocessing, load_dataset
    from edgecnn.quantize.converter import quantize_keras_model

    builders = _verify_conftest()
    preprocessing = Preprocessing.for_input_shape((28, 28, 1))
    calibration = load_dataset("mnist-sample", preprocessing).take(64, seed=1).inputs(preprocessing)
    digits = quantize_keras_model(builders.build_digits_model(keras), calibration)
    path = tmp_path_factory.mktemp("emulate_foreign") / "bias_dimension_3.tflite"
    path.write_bytes(builders.bias_quantized_dimension_3(digits))
    return {"smallcnn": reference_tree / "check" / "smallcnn_int8.tflite", "bias_dimension_3": path}


@pytest.fixture(scope="session")
def single_op_models(tmp_path_factory):
    """(name, path) of single-op models made by the hypothesis suites' own builders (tests/reference), a few
    derandomized examples per test, plus the every-op model and a uint8-in/out model (QUANTIZE at both ends)."""
    pytest.importorskip("tensorflow")
    import collect_single_op_models

    folder = tmp_path_factory.mktemp("emulate_single_op")
    return collect_single_op_models.collect(folder, examples=EXAMPLES_PER_TEST)


EXAMPLES_PER_TEST = 2
