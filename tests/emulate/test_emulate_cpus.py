"""The other emulated CPUs: one small model each, compiled for the CPU, run under qemu-arm and counted on its
board under qemu-system-arm (Cortex-M55 with the CMSIS-NN kernels, which use its Helium vectors)."""

import pytest
from emulated import assert_equals_micro_flavor

from edgecnn import emulate, tflite, verify


@pytest.mark.slow
@pytest.mark.parametrize("cpu,tree_fixture", [("cortex-m7", "reference_tree"), ("cortex-m33", "reference_tree"),
                                              ("cortex-m55", "cmsis_tree")])
def test_small_model_runs_exactly_on_the_cpu(foreign_models, request, cpu, tree_fixture):
    tree = request.getfixturevalue(tree_fixture)
    model = foreign_models["smallcnn"]
    inputs = verify.random_inputs(verify.ModelInputs.of(tflite.read_model(model)), 4, seed=5).quantized
    result = emulate.run_model(model, cpu=cpu, inputs=inputs, tflm_root=tree)
    assert result.cpu == cpu and result.board == emulate.CPUS.get(cpu).board
    assert_equals_micro_flavor(result, model, inputs)
    assert 1.0 <= result.tensor_arena_size / result.arena_used_bytes <= 1.05
    assert result.instructions_per_inference > 100_000
    assert result.board in result.instructions_note
