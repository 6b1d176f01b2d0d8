"""Single-op models of the hypothesis suites (a derandomized few per test) on an emulated Cortex-M4 with the
reference and CMSIS-NN kernels: every output element equals the NumPy interpreter's micro flavor."""

import numpy as np
import pytest
from emulated import assert_equals_micro_flavor, run_all

from edgecnn import emulate, tflite, verify
from edgecnn.emulate import defects


@pytest.mark.slow
def test_single_op_models_equal_the_micro_flavor(single_op_models, kernel_tree):
    kernels, tree = kernel_tree
    ops = set()

    def check(item):
        name, path = item
        described = verify.ModelInputs.of(tflite.read_model(path))
        inputs = verify.random_inputs(described, 6, seed=len(name)).quantized
        result = emulate.run_model(path, inputs=inputs, tflm_root=tree, count_instructions=False)
        known = defects.cmsis_nn_defects(tflite.read_model(path)) if kernels == "cmsis-nn" else []
        if known:  # the defect is real: the output differs from what the reference kernels compute
            with pytest.raises(AssertionError, match="differs"):
                assert_equals_micro_flavor(result, path, inputs)
        else:
            assert_equals_micro_flavor(result, path, inputs)
        assert result.arena_used_bytes <= result.tensor_arena_size
        return tflite.op_names(tflite.read_model(path))

    for names in run_all(check, single_op_models):
        ops.update(names)
    from edgecnn.reference import SUPPORTED_OPS

    assert len(ops) >= 35, f"the single-op models exercised only {sorted(ops)}; not {sorted(set(SUPPORTED_OPS) - ops)}"
    assert len(single_op_models) >= 40 and np.all([path.stat().st_size for _, path in single_op_models])
