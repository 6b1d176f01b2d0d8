"""`edgecnn classify` as a user runs it: video files, image folders, saved video, a live MJPEG stream."""

import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from device_helpers import (
    DIGIT_FRAMES,
    edgecnn_command,
    expected_top1,
    json_lines,
    read_video,
    run_cli,
    write_digits_video,
)


def test_video_file_gives_every_frame_in_order_with_the_in_process_labels(
    lenet5_int8, digits_video, digits, video_reference_labels
):
    result = run_cli(["classify", lenet5_int8, "--source", digits_video, "--headless", "--backend", "litert"])
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    assert [record["frame"] for record in records] == list(range(DIGIT_FRAMES))
    labels = [record["top"][0]["label"] for record in records]
    assert labels == video_reference_labels
    # The stored preprocessing was applied: a trained lenet5 reads most digits right.
    accuracy = np.mean(np.asarray(labels, int) == digits.labels[:DIGIT_FRAMES])
    assert accuracy >= 0.8
    assert all(len(record["top"]) == 5 and record["latency_ms"] > 0 for record in records)
    assert f"frames: {DIGIT_FRAMES} processed, 0 dropped" in result.stderr
    assert "model-only latency: p50" in result.stderr and "frames/s" in result.stderr
    assert "litert backend" in result.stderr


def test_image_folder_is_read_in_name_order_and_max_frames_stops(lenet5_int8, digits_folder, digits):
    result = run_cli(["classify", lenet5_int8, "--source", digits_folder, "--headless", "--top-k", "2"])
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    assert [record["path"].rsplit("/", 1)[1] for record in records] == [
        f"digit_{i:03d}.png" for i in range(20)
    ]
    assert [record["top"][0]["label"] for record in records] == expected_top1(lenet5_int8, digits.images[:20])
    assert all(len(record["top"]) == 2 for record in records)

    limited = run_cli(
        [
            "classify",
            lenet5_int8,
            "--source",
            f"{digits_folder}/digit_00*.png",
            "--headless",
            "--max-frames",
            "4",
        ]
    )
    assert limited.returncode == 0, limited.stderr
    assert len(json_lines(limited.stdout)) == 4


def test_save_writes_an_annotated_video_atomically(lenet5_int8, digits_video, tmp_path):
    pytest.importorskip("cv2")
    target = tmp_path / "annotated.mp4"
    result = run_cli(
        [
            "classify",
            lenet5_int8,
            "--source",
            digits_video,
            "--headless",
            "--max-frames",
            "10",
            "--save",
            target,
        ]
    )
    assert result.returncode == 0, result.stderr
    frames = read_video(target)
    assert len(frames) == 10
    assert frames[0].shape[0] >= 360  # tiny digits are enlarged so the label is readable
    assert [path.name for path in tmp_path.iterdir()] == ["annotated.mp4"]


def test_bad_source_and_missing_model_fail_with_one_line_errors(lenet5_int8, tmp_path):
    result = run_cli(["classify", lenet5_int8, "--source", tmp_path / "nothing-here.mp4", "--headless"])
    assert result.returncode == 2
    assert "error: cannot use --source" in result.stderr and "Traceback" not in result.stderr
    result = run_cli(["classify", tmp_path / "missing.tflite", "--source", "0", "--headless"])
    assert result.returncode == 2
    assert "error: model file not found" in result.stderr


class StreamingRun:
    """A classify subprocess on a stream, with its stdout JSON lines collected as they arrive."""

    def __init__(self, arguments):
        self.process = subprocess.Popen(
            edgecnn_command(sys.executable) + [str(value) for value in arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.records = []
        self.stderr = ""
        self.stdout_thread = threading.Thread(target=self._collect, daemon=True)
        self.stdout_thread.start()

    def _collect(self):
        for line in self.process.stdout:
            if line.startswith("{"):
                self.records.append(json_lines(line)[0])

    def wait_for_records(self, count, timeout):
        deadline = time.monotonic() + timeout
        while len(self.records) < count and time.monotonic() < deadline and self.process.poll() is None:
            time.sleep(0.05)
        return len(self.records) >= count

    def finish(self, timeout):
        try:
            self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self.stderr = self.process.stderr.read()
        self.stdout_thread.join(5)
        return self.process.returncode


def test_stream_reconnects_after_the_server_restarts(lenet5_int8, mjpeg_server):
    run = StreamingRun(
        [
            "classify",
            lenet5_int8,
            "--source",
            mjpeg_server.url,
            "--headless",
            "--reconnect-timeout",
            "20",
            "--max-frames",
            "40",
        ]
    )
    assert run.wait_for_records(10, timeout=60), run.finish(5) or run.stderr
    mjpeg_server.stop()
    time.sleep(1.5)
    count_during_outage = len(run.records)
    mjpeg_server.start()
    returncode = run.finish(timeout=60)
    assert returncode == 0, run.stderr
    assert len(run.records) == 40
    assert count_during_outage < 40
    numbers = [record["frame"] for record in run.records]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert "reconnected to stream" in run.stderr
    assert "reconnects" in run.stderr  # the summary counts them


def test_stream_kept_down_exits_non_zero_after_the_timeout(lenet5_int8, mjpeg_server):
    run = StreamingRun(
        ["classify", lenet5_int8, "--source", mjpeg_server.url, "--headless", "--reconnect-timeout", "2"]
    )
    assert run.wait_for_records(5, timeout=60), run.finish(5) or run.stderr
    mjpeg_server.stop()
    stopped_at = time.monotonic()
    returncode = run.finish(timeout=30)
    waited = time.monotonic() - stopped_at
    assert returncode == 2, run.stderr
    assert "error: no frame from stream" in run.stderr
    assert "--reconnect-timeout 2" in run.stderr
    assert "processed" in run.stderr  # the summary still comes out
    assert 1.5 <= waited < 20


def test_stream_never_up_exits_non_zero(lenet5_int8, mjpeg_server):
    mjpeg_server.stop()
    result = run_cli(
        ["classify", lenet5_int8, "--source", mjpeg_server.url, "--headless", "--reconnect-timeout", "1"],
        timeout=60,
    )
    assert result.returncode == 2
    assert "error: no frame from stream" in result.stderr
    assert json_lines(result.stdout) == []


def test_closed_stdout_stops_classify_quietly_with_the_summary(lenet5_int8, digits, tmp_path):
    """`edgecnn classify ... --headless | head -1`: exit 141 as after SIGPIPE, the summary on stderr, no traceback."""
    pytest.importorskip("cv2")
    # Far more JSON lines than a pipe buffer holds.
    video = write_digits_video(tmp_path / "long.avi", digits.images[:2000])
    process = subprocess.Popen(
        [*edgecnn_command(), "classify", str(lenet5_int8), "--source", str(video), "--headless"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 141, stderr
    assert first.startswith('{"frame": 0,')
    assert "stopped: the reader of stdout went away" in stderr and "frames:" in stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
