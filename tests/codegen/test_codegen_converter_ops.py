"""The interpreter's converted single-op cases of issue 13 (converter_op_models.CASES), reduced and
derandomized, compiled to C: every tensor the C writes equals the interpreter's micro flavor, and its outputs
(all of them, for SPLIT and UNPACK) equal TFLite Micro's."""

import c_build as build
import codegen_models
import converter_op_models
import numpy as np
import pytest
import single_op_models
from external_tools import require_tool
from hypothesis import given

pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

C_SETTINGS = single_op_models.hypothesis_settings(5)


@pytest.mark.parametrize("case", converter_op_models.CASES, ids=lambda case: case.name)
def test_converted_op_models_compile_to_exact_c(case, programs, tmp_path_factory):
    require_tool("gcc")

    @C_SETTINGS
    @given(parameters=case.parameters, seed=converter_op_models.SEEDS)
    def check(parameters, seed):
        for built in case.build(parameters, seed):
            folder = tmp_path_factory.mktemp(case.name)
            path = folder / "model.tflite"
            path.write_bytes(built.model)
            _, program, _ = programs.get(path, build.HOST, trace=True)
            inputs = codegen_models.inputs_for(path, random_count=10, real_count=0, seed=seed)
            result = build.run(program, inputs, folder, trace=True)
            assert codegen_models.traced_mismatches(path, result, inputs) == [], (built.op, parameters)
            np.testing.assert_array_equal(result.outputs, codegen_models.micro_outputs(path, inputs, folder))

    check()
