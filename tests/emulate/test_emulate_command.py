"""`edgecnn emulate` and `edgecnn verify --against cortex-m4` as a user runs them."""

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from emulated import JSON_KEYS, micro_outputs

from edgecnn import tflite, verify
from edgecnn.cli import main


def invoke(*arguments):
    return CliRunner().invoke(main, [*map(str, arguments)])


@pytest.mark.slow
def test_random_inputs_print_labels_and_the_table_and_write_json(zoo_models, reference_tree, tmp_path):
    model = zoo_models["lenet5"]
    report = tmp_path / "emulate.json"
    result = invoke("emulate", model, "--cpu", "cortex-m4", "--tflm-root", reference_tree, "--random", 3, "--seed", 4,
                    "--json", report)
    assert result.exit_code == 0, result.output
    assert "inputs: 3 random int8 inputs (seed 4)" in result.output
    assert result.output.count("\ninput ") == 3
    assert re.search(r"cortex-m4\s+tflm\s+reference", result.output) and "instructions/inference" in result.output
    document = json.loads(report.read_text())
    assert JSON_KEYS <= set(document) and document["cpu"] == "cortex-m4" and document["kernels"] == "reference"
    assert isinstance(document["instructions_per_inference"], int) and document["instructions_per_inference"] > 0
    inputs = verify.random_inputs(verify.ModelInputs.of(tflite.read_model(model)), 3, seed=4).quantized
    assert document["outputs"] == micro_outputs(model, inputs)[0].reshape(3, -1).tolist()
    assert document["arena_used_bytes"] <= document["tensor_arena_size"]


@pytest.mark.slow
def test_dataset_inputs_print_the_accuracy(zoo_models, cmsis_tree, tmp_path):
    report = tmp_path / "emulate.json"
    result = invoke("emulate", zoo_models["lenet5"], "--tflm-root", cmsis_tree, "--dataset", "mnist-sample",
                    "--limit", 40, "--no-count", "--json", report)
    assert result.exit_code == 0, result.output
    assert re.search(r"top-1 accuracy on cortex-m4: [01]\.\d{4} \(\d+ of 40\)", result.output), result.output
    document = json.loads(report.read_text())
    assert document["kernels"] == "cmsis-nn" and len(document["outputs"]) == 40
    assert document["instructions_per_inference"] is None and 0.0 <= document["accuracy"] <= 1.0


@pytest.mark.slow
def test_input_file_and_several_cpus(foreign_models, reference_tree, tmp_path):
    model = foreign_models["smallcnn"]
    batch = np.random.default_rng(1).integers(-128, 128, size=(2, 32, 32, 3)).astype(np.int8)
    np.save(tmp_path / "batch.npy", batch)
    report = tmp_path / "emulate.json"
    result = invoke("emulate", model, "--tflm-root", reference_tree, "--cpu", "cortex-m4,cortex-m7", "--input",
                    tmp_path / "batch.npy", "--no-count", "--json", report)
    assert result.exit_code == 0, result.output
    assert "cortex-m7 (reference): outputs equal cortex-m4's" in result.output
    documents = json.loads(report.read_text())
    assert [document["cpu"] for document in documents] == ["cortex-m4", "cortex-m7"]
    assert documents[0]["outputs"] == micro_outputs(model, [batch])[0].reshape(2, -1).tolist()
    np.save(tmp_path / "wrong.npy", batch.astype(np.uint8))
    wrong = invoke("emulate", model, "--tflm-root", reference_tree, "--input", tmp_path / "wrong.npy")
    assert wrong.exit_code == 2 and "takes int8 values, got uint8" in wrong.output
    both = invoke("emulate", model, "--random", 2, "--input", tmp_path / "batch.npy")
    assert both.exit_code == 2 and "give one of --random, --dataset and --input" in both.output


@pytest.mark.slow
def test_verify_against_the_emulated_cpu_with_either_kernel_set(zoo_models, kernel_tree, tmp_path, monkeypatch):
    kernels, tree = kernel_tree
    monkeypatch.setenv("EDGECNN_TFLM_ROOT", str(tree))
    report = tmp_path / "verify.json"
    result = invoke("verify", zoo_models["resnet8"], "--random", 4, "--against", "cortex-m4", "--json", report)
    assert result.exit_code == 0, result.output
    document = json.loads(report.read_text())
    assert document["cortex-m4"]["mismatched_elements"] == 0 and document["bit_exact"] is True
    assert any(f"with {kernels} kernels" in note for note in document["cortex-m4"]["notes"])
    default = invoke("verify", zoo_models["resnet8"], "--random", 2, "--json", report)
    assert default.exit_code == 0 and "cortex-m4" not in json.loads(report.read_text())
