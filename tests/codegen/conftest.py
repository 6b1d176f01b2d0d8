"""Models converted once per session for the C compiler's tests, and their generated, compiled programs."""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "reference"))

import codegen_models  # noqa: E402


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    """name -> .tflite path, converted on first use (zoo models at their MCU input sizes, test models)."""
    return codegen_models.ModelStore(tmp_path_factory.mktemp("codegen_models"))


@pytest.fixture(scope="session")
def programs(tmp_path_factory):
    """(model path, toolchain name, variant) -> generated sources and the harness program built from them."""
    return codegen_models.ProgramStore(tmp_path_factory.mktemp("codegen_programs"))
