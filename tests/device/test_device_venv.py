"""The device-only environment (tflite-runtime 2.14, numpy<2, no TensorFlow) gives the same answers."""

import json

from device_helpers import DIGIT_FRAMES, json_lines, run_cli


def test_device_venv_has_no_tensorflow_and_numpy_1(device_python):
    import subprocess

    probe = subprocess.run(
        [
            str(device_python),
            "-c",
            "import importlib.util, numpy, edgecnn.cli; "
            "print(numpy.__version__, importlib.util.find_spec('tensorflow') is None)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    numpy_version, no_tensorflow = probe.stdout.split()
    assert numpy_version.startswith("1.") and no_tensorflow == "True"


def test_classify_in_device_venv_gives_the_main_environment_labels(
    device_python, lenet5_int8, digits_video, video_reference_labels
):
    result = run_cli(["classify", lenet5_int8, "--source", digits_video, "--headless"], python=device_python)
    assert result.returncode == 0, result.stderr
    assert "tflite-runtime backend" in result.stderr
    labels = [record["top"][0]["label"] for record in json_lines(result.stdout)]
    assert len(labels) == DIGIT_FRAMES
    assert labels == video_reference_labels


def test_bench_in_device_venv_matches_main_environment_accuracy(device_python, lenet5_int8):
    arguments = [
        "bench",
        lenet5_int8,
        "--runs",
        "10",
        "--warmup",
        "1",
        "--dataset",
        "mnist-sample",
        "--limit",
        "500",
        "--json",
    ]
    device = json.loads(run_cli(arguments, python=device_python).stdout)
    main = json.loads(run_cli(arguments).stdout)
    assert device["backend"] == "tflite-runtime" and main["backend"] == "litert"
    assert device["accuracy"] == main["accuracy"]
    assert device["size_kb"] == main["size_kb"]
