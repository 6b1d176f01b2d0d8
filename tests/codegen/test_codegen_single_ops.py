"""The interpreter's single-op property cases (single_op_models.CASES), reduced and derandomized, compiled to C:
every tensor the C writes equals the interpreter's micro flavor, its outputs equal TFLite Micro's; the
CMSIS-NN build, run under qemu-arm, writes the same tensors (where a CMSIS-NN tree is at hand)."""

import shutil

import c_build as build
import codegen_models
import numpy as np
import pytest
import single_op_models
from external_tools import require_tool
from hypothesis import given

pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

C_SETTINGS = single_op_models.hypothesis_settings(8)


@pytest.mark.parametrize("case", single_op_models.CASES, ids=lambda case: case.name)
def test_single_op_models_compile_to_exact_c(case, programs, tmp_path_factory):
    require_tool("gcc")
    tree = codegen_models.cmsis_tree()
    emulated = tree is not None and shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-arm")

    @C_SETTINGS
    @given(parameters=case.parameters, seed=single_op_models.SEEDS)
    def check(parameters, seed):
        model_bytes, inputs = single_op_models.convert(case.model(parameters, seed), seed)
        folder = tmp_path_factory.mktemp(case.name)
        path = folder / "model.tflite"
        path.write_bytes(model_bytes)
        _, program, _ = programs.get(path, build.HOST, trace=True)
        result = build.run(program, inputs, folder, trace=True)
        assert codegen_models.traced_mismatches(path, result, inputs) == [], parameters
        np.testing.assert_array_equal(result.outputs, codegen_models.micro_outputs(path, inputs, folder))
        if emulated:
            _, program, _ = programs.get(path, build.CORTEX_M4_QEMU, trace=True, cmsis_root=tree)
            result = build.run(program, inputs[:4], folder, toolchain=build.CORTEX_M4_QEMU, trace=True)
            assert codegen_models.traced_mismatches(path, result, inputs[:4]) == [], ("CMSIS-NN", parameters)

    check()
