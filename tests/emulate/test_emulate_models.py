"""Zoo and foreign models on an emulated Cortex-M4 with the reference and CMSIS-NN kernels: every output equals the
NumPy interpreter's micro flavor on random and real inputs, kTensorArenaSize is 1.00-1.05 of what TFLite Micro
really uses there, and the image's sizes and instruction count are real figures."""

import numpy as np
import pytest
from emulated import ZOO_MODELS, assert_equals_micro_flavor, random_and_real_inputs

from edgecnn import emulate, tflite


def _check(model_path, dataset, kernel_tree):
    kernels, tree = kernel_tree
    inputs = random_and_real_inputs(model_path, dataset)
    result = emulate.run_model(model_path, cpu="cortex-m4", inputs=inputs, tflm_root=tree)
    assert result.kernels == kernels and result.count == len(inputs[0])
    assert_equals_micro_flavor(result, model_path, inputs)
    ratio = result.tensor_arena_size / result.arena_used_bytes
    # The firmware's arena is kTensorArenaSize itself, so the model allocating in it proves the lower bound.
    assert result.arena_bytes == result.tensor_arena_size
    assert 1.0 <= ratio <= 1.05, f"{model_path}: kTensorArenaSize / arena used = {ratio:.4f} ({kernels})"
    assert result.registered_ops == len(set(tflite.op_names(tflite.read_model(model_path))))
    assert result.flash_bytes > model_path.stat().st_size and result.ram_bytes > result.tensor_arena_size
    assert result.instructions_per_inference > 10_000
    return result


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ZOO_MODELS))
def test_zoo_model_on_cortex_m4(zoo_models, kernel_tree, name):
    _check(zoo_models[name], ZOO_MODELS[name], kernel_tree)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["smallcnn", "bias_dimension_3"])
def test_model_edgecnn_did_not_make_on_cortex_m4(foreign_models, kernel_tree, name):
    result = _check(foreign_models[name], None, kernel_tree)
    assert result.top_labels()[0].isdigit()  # no metadata: numeric labels


@pytest.mark.slow
def test_cmsis_nn_costs_fewer_instructions_than_the_reference_kernels(foreign_models, reference_tree, cmsis_tree):
    """The count is real: on the same model and input, CMSIS-NN's kernels run several times fewer instructions."""
    model = foreign_models["smallcnn"]
    reference = emulate.run_model(model, inputs=None, tflm_root=reference_tree)
    cmsis = emulate.run_model(model, inputs=None, tflm_root=cmsis_tree)
    assert np.array_equal(reference.outputs[0], cmsis.outputs[0])
    assert cmsis.instructions_per_inference * 4 < reference.instructions_per_inference
    again = emulate.run_model(model, inputs=None, tflm_root=cmsis_tree)
    assert again.instructions_per_inference == cmsis.instructions_per_inference  # -icount is deterministic
