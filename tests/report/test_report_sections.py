"""The report's optional sections: per-layer error, calibration sweep, deployment (against a stand-in for
`edgecnn emulate`, whose real end-to-end test comes with it), and report.html in a real browser."""

import dataclasses
import json
import sys
import types

import pytest
from click.testing import CliRunner
from headless_browser import is_blank, open_page

from edgecnn.cli import main
from edgecnn.errors import ConfigurationError, ExternalToolError
from edgecnn.registry import Registry
from edgecnn.report import deployment
from edgecnn.report.boards import BOARDS, KIB

CPU_NAMES = ("cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55")


@dataclasses.dataclass
class FakeResult:
    values: dict

    def to_dict(self):
        return dict(self.values)


def fake_emulate(unavailable=None, failing=(), flash=300 * KIB, ram=100 * KIB, arena=40 * KIB):
    """A module with edgecnn emulate's interface: CPUS, unavailable_reason, run_model."""
    unavailable = unavailable or {}
    calls = []

    def run_model(model_path, cpu, inputs=None, engine="tflm", tflm_root=None):
        calls.append((model_path, cpu, engine, tflm_root))
        if cpu in failing:
            raise ExternalToolError(f"arm-none-eabi-gcc failed building for {cpu}\nsecond line")
        return FakeResult({"cpu": cpu, "kernels": "cmsis-nn", "arena_used_bytes": arena,
                           "tensor_arena_size": arena + 1024, "flash_bytes": flash, "ram_bytes": ram,
                           "instructions_per_inference": 1_234_567})

    module = types.ModuleType("edgecnn.emulate")
    module.CPUS = Registry("CPU", [types.SimpleNamespace(name=name) for name in CPU_NAMES])
    module.unavailable_reason = lambda cpu_name, tflm_root=None: unavailable.get(cpu_name)
    module.run_model = run_model
    module.calls = calls
    return module


def _boards(section):
    return {board["board"]: board for board in section["boards"]}


def test_fits_compares_each_board_with_its_own_cores_measurement(tmp_path):
    model = tmp_path / "model.tflite"
    model.write_bytes(b"\0" * (70 * KIB))
    emulate = fake_emulate(unavailable={"cortex-m7": "qemu-system-arm is not installed"})
    section = deployment.deployment_section(model, ["cortex-m4", "cortex-m7"], emulate_module=emulate,
                                            tflm_root="/opt/tflm")
    rows = {row["target"]: row for row in section["targets"]}
    assert rows["cortex-m4"]["measured"] and rows["cortex-m4"]["flash_bytes"] == 300 * KIB
    assert rows["cortex-m4"]["instructions_per_inference"] == 1_234_567
    assert not rows["cortex-m7"]["measured"] and rows["cortex-m7"]["reason"] == "qemu-system-arm is not installed"
    assert emulate.calls == [(str(model), "cortex-m4", "tflm", "/opt/tflm")]  # m7 was never run
    boards = _boards(section)
    assert boards["Arduino Nano 33 BLE Sense"]["fits"] == "yes"  # 300 KiB <= 1 MiB flash, 100 <= 256 KiB RAM
    assert boards["Arduino Nano 33 BLE Sense"]["measured_on"] == "cortex-m4"
    assert boards["STM32F746G-DISCO"]["fits"] == "not measured"
    assert "cortex-m7 could not be measured" in boards["STM32F746G-DISCO"]["detail"]
    assert "cortex-m33 was not measured" in boards["Raspberry Pi Pico 2"]["detail"]
    pico = boards["Raspberry Pi Pico"]  # Cortex-M0+: only the model and the arena, from the M4 run
    assert pico["fits"] == "model + arena only: yes" and pico["measured_on"] == "cortex-m4"
    assert "not measured" in pico["detail"]
    assert len(section["boards"]) == len(BOARDS)


def test_a_model_too_big_for_a_board_does_not_fit(tmp_path):
    model = tmp_path / "model.tflite"
    model.write_bytes(b"\0" * 1024)
    section = deployment.deployment_section(model, ["cortex-m4"], emulate_module=fake_emulate(
        flash=900 * KIB, ram=300 * KIB, arena=290 * KIB))
    boards = _boards(section)
    assert boards["Arduino Nano 33 BLE Sense"]["fits"] == "no"  # RAM 300 KiB > 256 KiB
    assert boards["SparkFun Edge"]["fits"] == "yes"  # 384 KiB RAM
    assert boards["Raspberry Pi Pico"]["fits"] == "model + arena only: no"  # arena 290 KiB > 264 KiB
    assert boards["ESP32-S3-DevKitC-1 N8R8"]["fits"] == "model + arena only: yes"


def test_targets_not_measured_say_why_and_never_guess(tmp_path, monkeypatch):
    model = tmp_path / "model.tflite"
    model.write_bytes(b"\0" * 1024)
    emulate = fake_emulate(failing=("cortex-m4",))
    section = deployment.deployment_section(model, ["cortex-m4"], emulate_module=emulate)
    row = section["targets"][0]
    assert not row["measured"] and row["reason"] == "arm-none-eabi-gcc failed building for cortex-m4 second line"
    assert row["flash_bytes"] is None and row["ram_bytes"] is None
    assert all(board["fits"] == "not measured" for board in section["boards"])
    # Without edgecnn.emulate (an install that lacks it), every requested CPU is shown as not measured.
    monkeypatch.setitem(sys.modules, "edgecnn.emulate", None)
    assert deployment.resolve_targets("cortex-m4,cortex-m9") == ["cortex-m4", "cortex-m9"]
    rows = deployment.measure_cpus(model, ["cortex-m4"])
    assert not rows[0].measured and "edgecnn.emulate is not installed" in rows[0].reason
    assert deployment.resolve_targets("all") == ["all"]
    assert "every CPU" in deployment.measure_cpus(model, ["all"])[0].target


def test_targets_are_checked_against_the_cpus_emulate_knows():
    emulate = fake_emulate()
    assert deployment.resolve_targets("all", emulate) == list(CPU_NAMES)
    assert deployment.resolve_targets(" cortex-m7 ,cortex-m4", emulate) == ["cortex-m7", "cortex-m4"]
    with pytest.raises(ConfigurationError, match="unknown CPU 'cortex-m9'; choose one of cortex-m4"):
        deployment.resolve_targets("cortex-m9", emulate)


def test_bench_files_give_rows_and_bad_ones_one_line(tmp_path):
    good = tmp_path / "pi5.jsonl"
    good.write_text(json.dumps({"model": "m.tflite", "precision": "int8", "backend": "litert", "device": "cpu",
                                "threads": "4", "model_ms_p50": 0.5, "model_ms_p95": 0.7}) + "\n\n"
                    + json.dumps({"model": "m_edgetpu.tflite", "backend": "litert", "device": "edgetpu:usb",
                                  "threads": "default", "model_ms_p50": 0.2}) + "\n")
    rows = deployment.bench_rows(str(good))
    assert [(row.target, row.device, row.latency_ms_p50) for row in rows] == [
        ("pi5", "cpu", 0.5), ("pi5", "edgetpu:usb", 0.2)]
    assert deployment.bench_rows(f"Coral Dev Board={good}")[0].target == "Coral Dev Board"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"model": "m.tflite"}\n')
    with pytest.raises(ConfigurationError, match="bad.jsonl line 1 is not an `edgecnn bench --json` row"):
        deployment.bench_rows(str(bad))
    with pytest.raises(ConfigurationError, match="cannot read --bench file"):
        deployment.bench_rows(str(tmp_path / "missing.jsonl"))


@pytest.fixture(scope="module")
def full_report(trained_lenet, tmp_path_factory):
    """One report with every section: layer error, a two-size sweep, two CPUs (stand-in emulate), a bench file."""
    directory = tmp_path_factory.mktemp("full_report")
    bench = directory / "pi.jsonl"
    bench.write_text(json.dumps({"model": "model_int8.tflite", "backend": "litert", "device": "cpu",
                                 "threads": "4", "model_ms_p50": 0.41, "model_ms_p95": 0.52}) + "\n")
    emulate = fake_emulate(unavailable={"cortex-m7": "qemu-system-arm is not installed"})
    sys.modules["edgecnn.emulate"] = emulate
    try:
        result = CliRunner().invoke(main, [
            "report", "--float", str(trained_lenet["keras"]), "--quantized", str(trained_lenet["tflite"]),
            "--dataset", "mnist-sample", "--limit", "200", "--calibration-sweep", "32,8",
            "--targets", "cortex-m4,cortex-m7", "--bench", f"Raspberry Pi 5={bench}", "--out",
            str(directory / "out")])
    finally:
        del sys.modules["edgecnn.emulate"]
    assert result.exit_code == 0, result.output
    return directory / "out", result.output


def test_report_has_layer_error_sweep_and_deployment(full_report):
    out, output = full_report
    report = json.loads((out / "report.json").read_text())
    layer_error = report["layer_error"]
    assert layer_error["images"] == 200
    compared = [row for row in layer_error["rows"] if row["sqnr_db"] is not None]
    assert len(compared) >= 8 and all(row["sqnr_db"] > 15 and row["cosine"] > 0.95 for row in compared)
    assert layer_error["worst"] == min(compared, key=lambda row: row["sqnr_db"])["layer"]
    sweep = report["calibration_sweep"]
    assert [row["samples"] for row in sweep["rows"]] == [8, 32]
    assert all(0.5 < row["top1"] <= 1 and 0.8 < row["agreement"] <= 1 for row in sweep["rows"])
    assert sweep["given_model"]["top1"] == report["quantized"]["top1"]
    targets = {row["target"]: row for row in report["deployment"]["targets"]}
    assert targets["cortex-m4"]["measured"] and not targets["cortex-m7"]["measured"]
    assert targets["Raspberry Pi 5"]["latency_ms_p50"] == 0.41
    assert {board["board"]: board["fits"] for board in report["deployment"]["boards"]}[
        "Arduino Nano 33 BLE Sense"] == "yes"
    markdown = (out / "report.md").read_text()
    for title in ("## Quantization error per layer", "## Calibration size", "## Deployment"):
        assert title in markdown
    assert "not measured: qemu-system-arm is not installed" in markdown
    assert "Calibration size:" in output and "lowest" in output
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 4  # two confusion matrices, layer error, calibration
    assert "Arduino Nano 33 BLE Sense" in page and "<script" not in page


def test_report_html_opens_clean_in_a_browser(full_report):
    out, _ = full_report
    with open_page(out / "report.html") as page:
        assert page.errors == [] and page.requests == []
        assert not is_blank(page.screenshot())
        assert page.evaluate("document.images.length") >= 4
        assert page.evaluate("Array.from(document.images).every(image => image.complete && image.naturalWidth > 0)")


@pytest.mark.parametrize("arguments, message", [
    (["--calibration-sweep", "8,x"], "--calibration-sweep takes comma-separated image counts"),
    (["--calibration-sweep", "0,8"], "--calibration-sweep takes positive image counts"),
    (["--bench", "{missing}"], "cannot read --bench file"),
    (["--targets", " , "], "--targets names no CPU"),
])
def test_bad_report_options_are_one_line_and_write_nothing(arguments, message, trained_lenet, tmp_path):
    out = tmp_path / "out"
    arguments = [argument.format(missing=tmp_path / "missing.jsonl") for argument in arguments]
    result = CliRunner().invoke(main, ["report", "--float", str(trained_lenet["keras"]), "--quantized",
                                       str(trained_lenet["tflite"]), "--dataset", "mnist-sample", *arguments,
                                       "--out", str(out)])
    assert result.exit_code == 2 and message in result.output, result.output
    assert result.output.count("\n") == 1 and not out.exists()
