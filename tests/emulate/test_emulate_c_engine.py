"""`--engine c`: edgecnn's generated C as the firmware, built for a Cortex-M and run under QEMU like TFLite Micro's.

Every MCU-sized zoo model's outputs on random and real inputs equal the NumPy interpreter's micro flavor (so
TFLite Micro's, which the tflm engine's tests prove), portable and with CMSIS-NN; the command and verify take the
engine with the same report and JSON keys."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from emulated import JSON_KEYS, ZOO_MODELS, assert_equals_micro_flavor, micro_outputs, random_and_real_inputs

from edgecnn import codegen, emulate, tflite, verify
from edgecnn.cli import main
from edgecnn.errors import ConfigurationError


def invoke(*arguments):
    return CliRunner().invoke(main, [*map(str, arguments)])


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ZOO_MODELS))
def test_zoo_model_in_generated_c_on_cortex_m4(zoo_models, kernel_tree, name):
    kernels, tree = kernel_tree
    model = zoo_models[name]
    inputs = random_and_real_inputs(model, ZOO_MODELS[name])
    result = emulate.run_model(model, cpu="cortex-m4", inputs=inputs, engine="c", tflm_root=tree)
    assert result.engine == "c" and result.kernels == kernels and result.count == len(inputs[0])
    assert_equals_micro_flavor(result, model, inputs)
    sources = codegen.generate_sources(model)
    planned = sources.cmsis_plan if kernels == "cmsis-nn" else sources.plan
    assert result.arena_used_bytes == result.tensor_arena_size == planned.arena_bytes
    assert result.ram_bytes > planned.arena_bytes and result.flash_bytes > sources.constant_bytes
    assert result.instructions_per_inference > 10_000


@pytest.mark.slow
def test_the_command_and_verify_take_the_c_engine(zoo_models, foreign_models, cmsis_tree, tmp_path):
    model = zoo_models["lenet5"]
    report = tmp_path / "emulate.json"
    result = invoke("emulate", model, "--engine", "c", "--random", 3, "--seed", 2, "--json", report)
    assert result.exit_code == 0, result.output
    assert "cortex-m4  c       reference" in result.output and "EDGECNN_ARENA_BYTES" in result.output
    document = json.loads(report.read_text())
    assert JSON_KEYS <= set(document) and document["engine"] == "c" and document["kernels"] == "reference"
    inputs = verify.random_inputs(verify.ModelInputs.of(tflite.read_model(model)), 3, seed=2).quantized
    assert document["outputs"] == micro_outputs(model, inputs)[0].reshape(3, -1).tolist()
    assert isinstance(document["instructions_per_inference"], int)

    verified = tmp_path / "verify.json"
    result = invoke("verify", foreign_models["smallcnn"], "--random", 3, "--against", "cortex-m4,cortex-m55",
                    "--engine", "c", "--tflm-root", cmsis_tree, "--json", verified)
    assert result.exit_code == 0, result.output
    document = json.loads(verified.read_text())
    assert document["bit_exact"] is True
    for cpu in ("cortex-m4", "cortex-m55"):
        assert document[cpu]["mismatched_elements"] == 0
        assert any("generated C, built with CMSIS-NN" in note for note in document[cpu]["notes"])


@pytest.mark.slow
def test_size_optimisation_gives_a_smaller_image_with_the_same_outputs(foreign_models):
    model = foreign_models["smallcnn"]
    speed = emulate.run_model(model, engine="c", count_instructions=False)
    size = emulate.run_model(model, engine="c", count_instructions=False, optimization="size")
    assert np.array_equal(speed.outputs[0], size.outputs[0])
    assert size.flash_bytes < speed.flash_bytes


def test_arena_size_and_unknown_optimisation_are_one_line_errors(foreign_models, emulator):
    model = foreign_models["smallcnn"]
    result = invoke("emulate", model, "--engine", "c", "--arena-size", 4096)
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "--arena-size applies to --engine tflm" in result.output
    with pytest.raises(ConfigurationError, match="unknown optimisation 'tiny'; choose one of speed, size"):
        emulate.run_model(model, engine="c", optimization="tiny")


@pytest.mark.slow
def test_emulate_reads_the_split_asked_for(zoo_models, emulator, tmp_path):
    model = zoo_models["lenet5"]
    result = invoke("emulate", model, "--engine", "c", "--dataset", "mnist-sample", "--split", "train", "--limit", 5,
                    "--no-count", "--cache", tmp_path / "cache")
    assert result.exit_code == 0, result.output
    assert "inputs: 5 images of mnist-sample (split train), drawn at random from 8,000" in result.output
    stray = invoke("emulate", model, "--engine", "c", "--split", "train")
    assert stray.exit_code == 2 and "error: --split applies to --dataset" in stray.output
