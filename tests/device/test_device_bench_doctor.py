"""`edgecnn bench` and `edgecnn doctor` through the CLI."""

import json

import pytest
from device_helpers import run_cli


def test_bench_table_has_a_row_per_thread_count_with_accuracy(lenet5_int8):
    result = run_cli(
        [
            "bench",
            lenet5_int8,
            "--threads",
            "1,2",
            "--runs",
            "20",
            "--warmup",
            "2",
            "--dataset",
            "mnist-sample",
            "--limit",
            "300",
        ]
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["Model", "Type", "Backend"]
    assert "Model p50 ms" in lines[0] and "E2E p50 ms" in lines[0] and "Top-1" in lines[0]
    rows = [line.split() for line in lines[2:]]
    assert [row[4] for row in rows] == ["1", "2"]
    assert all(row[:4] == ["lenet5_int8.tflite", "int8", "litert", "cpu"] for row in rows)
    assert all(float(row[-1]) >= 0.8 for row in rows)  # a trained lenet5 on the digits it learned from


def test_bench_json_rows_and_keras_float_row(lenet5_int8):
    keras_path = lenet5_int8.parent / "lenet5.keras"
    result = run_cli(["bench", lenet5_int8, keras_path, "--runs", "20", "--warmup", "2", "--json"])
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["precision"] for row in rows] == ["int8", "float32 (.keras)"]
    for row in rows:
        assert 0 < row["model_ms_p50"] <= row["model_ms_p95"]
        assert row["end_to_end_ms_p50"] > 0 and row["size_kb"] > 0
    assert rows[0]["size_kb"] < rows[1]["size_kb"]  # int8 weights are a quarter of the float ones


def test_bench_missing_model_is_a_one_line_error(tmp_path):
    result = run_cli(["bench", tmp_path / "absent.tflite"])
    assert result.returncode == 2
    assert "error: model file not found" in result.stderr and "Traceback" not in result.stderr


def test_doctor_reports_each_piece_with_fixes():
    result = run_cli(["doctor"])
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for name in (
        "python",
        "numpy",
        "runtime litert",
        "runtime tflite-runtime",
        "tensorflow",
        "libedgetpu",
        "edge tpu devices",
        "cameras",
        "picamera2",
        "opencv FFMPEG",
        "opencv GStreamer",
    ):
        assert f" {name}: " in text or text.startswith(f"ok      {name}: "), name
    assert "--backend auto uses: litert" in text
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("missing "):
            assert lines[index + 1].strip().startswith("fix: "), line


def test_doctor_json_matches_this_machine():
    cv2 = pytest.importorskip("cv2")
    result = run_cli(["doctor", "--json"])
    checks = {check["name"]: check for check in map(json.loads, result.stdout.splitlines())}
    assert checks["runtime litert"]["ok"] is True
    assert checks["opencv FFMPEG"]["ok"] == ("FFMPEG:                      YES" in cv2.getBuildInformation())
    assert checks["libedgetpu"]["ok"] is False or "loads" in checks["libedgetpu"]["detail"]
