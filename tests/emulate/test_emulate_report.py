"""`edgecnn report --targets` with the real `edgecnn emulate`: the deployment rows are the emulated firmware's own
figures (tests/report covers the section's logic against a stand-in)."""

import json

import pytest
from click.testing import CliRunner

from edgecnn import emulate
from edgecnn.cli import main


@pytest.mark.slow
def test_report_targets_are_the_emulated_firmwares_figures(trained_lenet, reference_tree, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "report", "--float", str(trained_lenet["keras"]), "--quantized", str(trained_lenet["tflite"]),
        "--dataset", "mnist-sample", "--limit", "50", "--no-layer-error", "--targets", "cortex-m4",
        "--tflm-root", str(reference_tree), "--out", str(out)])
    assert result.exit_code == 0, result.output
    deployment = json.loads((out / "report.json").read_text())["deployment"]
    (row,) = deployment["targets"]
    measured = emulate.run_model(str(trained_lenet["tflite"]), cpu="cortex-m4", tflm_root=str(reference_tree))
    assert row["measured"] and row["kernels"] == "reference"
    for key in ("flash_bytes", "ram_bytes", "arena_used_bytes", "tensor_arena_size", "instructions_per_inference"):
        assert row[key] == getattr(measured, key), key
    boards = {board["board"]: board for board in deployment["boards"]}
    nano = boards["Arduino Nano 33 BLE Sense"]  # Cortex-M4: 1 MiB flash, 256 KiB RAM
    assert nano["measured_on"] == "cortex-m4"
    assert nano["fits"] == ("yes" if measured.flash_bytes <= nano["flash_bytes"]
                            and measured.ram_bytes <= nano["ram_bytes"] else "no")
    assert "Deployment" in (out / "report.md").read_text()
