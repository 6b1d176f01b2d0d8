"""The demo's lenet5 on all 2,000 mnist-sample test digits, on an emulated Cortex-M4 with each kernel set: every
output tensor equals the NumPy interpreter's micro flavor, so the board's top-1 is the PC's."""

import numpy as np
import pytest
from emulated import micro_outputs

from edgecnn import emulate, tflite, verify


@pytest.mark.slow
def test_every_test_digit_equals_the_pc(trained_lenet, kernel_tree):
    kernels, tree = kernel_tree
    model_path = trained_lenet["tflite"]
    inputs = verify.dataset_inputs(verify.ModelInputs.of(tflite.read_model(model_path)), "mnist-sample", None, 0)
    assert inputs.count == 2000
    result = emulate.run_model(model_path, inputs=inputs.quantized, tflm_root=tree, count_instructions=False)
    assert result.kernels == kernels
    expected = micro_outputs(model_path, inputs.quantized)[0].reshape(result.outputs[0].shape)
    assert np.count_nonzero(expected != result.outputs[0]) == 0
    board_top1 = np.mean(np.asarray(result.top_classes()) == inputs.labels)
    pc_top1 = np.mean(np.argmax(expected.reshape(2000, -1), axis=1) == inputs.labels)
    assert board_top1 == pc_top1 > 0.8
