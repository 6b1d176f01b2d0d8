"""Single-op Keras models with random hyperparameters: every element equals TFLite's BUILTIN_REF.

The cases (strategies and model builders) are single_op_models.CASES, shared with the C compiler's tests.
"""

import pytest
import reference_models
import single_op_models
from hypothesis import given

from edgecnn.reference import Interpreter

pytest.importorskip("tensorflow")
pytest.importorskip("ai_edge_litert")

PROPERTY_SETTINGS = single_op_models.hypothesis_settings(15)


def assert_single_op_model_exact(keras_model, seed):
    model_bytes, inputs = single_op_models.convert(keras_model, seed)
    interpreter = Interpreter(model_bytes)
    run = interpreter.run(inputs)
    reference = reference_models.litert_reference_tensors(model_bytes, inputs)
    assert reference_models.mismatches(interpreter, run, reference) == []
    return interpreter


@pytest.mark.parametrize("case", single_op_models.CASES, ids=lambda case: case.name)
def test_single_op_models_equal_builtin_ref(case):
    @PROPERTY_SETTINGS
    @given(parameters=case.parameters, seed=single_op_models.SEEDS)
    def check(parameters, seed):
        interpreter = assert_single_op_model_exact(case.model(parameters, seed), seed)
        if case.op:
            assert case.op in [operator.name for operator in interpreter.operators]

    check()
