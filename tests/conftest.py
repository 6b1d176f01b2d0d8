"""Fixtures shared across stages: one small trained and quantized model, made once per test session."""

import os
import pathlib
import shutil
import tempfile

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Decoded images of the folders tests make go to a cache of this session (subprocesses inherit it), not ~/.cache.
os.environ["EDGECNN_IMAGE_CACHE"] = tempfile.mkdtemp(prefix="edgecnn-image-cache-")


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(os.environ["EDGECNN_IMAGE_CACHE"], ignore_errors=True)


REPOSITORY = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def trained_lenet(tmp_path_factory):
    """lenet5 trained for two epochs on mnist-sample, and its full-int8 .tflite.

    Returns a dict with "dir", "keras" and "tflite" paths. Accuracy is well above chance (about 90%), which is
    what tests of later stages need; the demo trains longer.
    """
    from edgecnn.quantize.pipeline import quantize_file
    from edgecnn.train.trainer import train_model

    directory = tmp_path_factory.mktemp("lenet5")
    result = train_model("lenet5", "mnist-sample", directory, epochs=2, batch_size=64, verbose=0)
    tflite_path = directory / "model_int8.tflite"
    quantize_file(result.model_path, tflite_path, "mnist-sample", samples=100)
    return {"dir": directory, "keras": result.model_path, "tflite": tflite_path,
            "test_accuracy": result.test_accuracy}
