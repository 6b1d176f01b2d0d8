"""Models converted once per session for the NumPy interpreter tests.

Helpers live in reference_models.py, not here: with several tests/*/conftest.py in one run, `import conftest`
in a test file finds whichever conftest module was imported first.
"""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))

import reference_models  # noqa: E402


@pytest.fixture(scope="session")
def model_cache():
    """Converted .tflite bytes by name, so each model converts once however many tests use it."""
    pytest.importorskip("tensorflow")
    return {}


def _cached(cache, name, build):
    if name not in cache:
        cache[name] = build()
    return cache[name]


@pytest.fixture(scope="session")
def every_op_bytes(model_cache):
    return _cached(
        model_cache,
        "every_op",
        lambda: reference_models.convert(
            reference_models.every_op_model(), reference_models.calibration_for((20, 20, 3))
        ),
    )


@pytest.fixture(scope="session")
def every_op_float_io_bytes(model_cache):
    return _cached(
        model_cache,
        "every_op_float_io",
        lambda: reference_models.convert(
            reference_models.every_op_model(),
            reference_models.calibration_for((20, 20, 3)),
            io_type="float32",
        ),
    )


@pytest.fixture(scope="session")
def grouped_conv_bytes(model_cache):
    return _cached(
        model_cache,
        "grouped",
        lambda: reference_models.convert(
            reference_models.grouped_conv_model(), reference_models.calibration_for((12, 12, 8))
        ),
    )
