"""Generated C is bit-exact: compiled for the host, every tensor it writes equals the NumPy interpreter's micro
flavor and its outputs equal TFLite Micro's (pip interpreter), on random and real inputs; compiled for a
Cortex-M4 and run under qemu-arm, its outputs are the same again, and so are those of the CMSIS-NN build
(every tensor compared)."""

import c_build as build
import codegen_models
import numpy as np
import pytest
from external_tools import require_tool

MODELS = (*codegen_models.ZOO_MODELS, "every_op", "grouped", *codegen_models.FOREIGN_MODELS)


@pytest.fixture(scope="module", autouse=True)
def needs_tensorflow():
    pytest.importorskip("tensorflow")


@pytest.mark.parametrize("name", MODELS)
def test_host_build_equals_interpreter_and_tflite_micro(name, models, programs, tmp_path):
    pytest.importorskip("tflite_micro")
    require_tool("gcc")
    path = models.path(name)
    _, program, _ = programs.get(path, build.HOST, trace=True)
    inputs = codegen_models.inputs_for(path)
    result = build.run(program, inputs, tmp_path, trace=True)
    assert codegen_models.traced_mismatches(path, result, inputs) == []
    np.testing.assert_array_equal(result.outputs, codegen_models.micro_outputs(path, inputs, tmp_path))


@pytest.mark.parametrize("name", MODELS)
def test_cortex_m4_build_under_qemu_equals_interpreter(name, models, programs, tmp_path):
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-arm")
    path = models.path(name)
    _, program, _ = programs.get(path, build.CORTEX_M4_QEMU)
    inputs = codegen_models.inputs_for(path, random_count=2, real_count=2, seed=3)
    result = build.run(program, inputs, tmp_path, toolchain=build.CORTEX_M4_QEMU)
    np.testing.assert_array_equal(result.outputs, codegen_models.interpreter_outputs(path, inputs))


@pytest.mark.parametrize("name", MODELS)
def test_cmsis_nn_build_under_qemu_equals_interpreter_tensor_by_tensor(name, models, programs, tmp_path):
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-arm")
    tree = codegen_models.cmsis_tree()
    if tree is None:
        pytest.skip("no TFLite Micro tree with CMSIS-NN (set EDGECNN_TFLM_ROOT)")
    path = models.path(name)
    sources, program, _ = programs.get(path, build.CORTEX_M4_QEMU, trace=True, cmsis_root=tree)
    assert sources.cmsis_layers, "CMSIS-NN runs none of the model's layers"
    inputs = codegen_models.inputs_for(path, random_count=3, real_count=3, seed=5)
    result = build.run(program, inputs, tmp_path, toolchain=build.CORTEX_M4_QEMU, trace=True)
    assert codegen_models.traced_mismatches(path, result, inputs) == []
