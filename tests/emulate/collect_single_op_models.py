"""Single-op models from the hypothesis suites of tests/reference, reused as they are: each @given test runs with
a few derandomized examples while its final check (which compares with LiteRT) is swapped for one that keeps
the converted model, so the emulator tests get the very models those suites build."""

import inspect
import pathlib
import sys

import numpy as np

REFERENCE_TESTS = pathlib.Path(__file__).resolve().parents[1] / "reference"


def collect(folder, examples=2):
    if str(REFERENCE_TESTS) not in sys.path:
        sys.path.insert(0, str(REFERENCE_TESTS))
    import reference_models
    import test_interpreter_converter_ops as converter_ops
    import test_interpreter_properties as properties
    from hypothesis import settings

    from edgecnn.reference import Interpreter

    models = []
    current = {"test": ""}

    def keep(model_bytes, name):
        path = pathlib.Path(folder) / f"{len(models):03d}_{name}.tflite"
        path.write_bytes(model_bytes)
        models.append((f"{current['test']}:{name}", path))
        return Interpreter(model_bytes)

    def keep_keras_model(keras_model, seed):
        shape = tuple(keras_model.inputs[0].shape[1:])
        generator = np.random.default_rng(seed)
        calibration = generator.normal(0, generator.uniform(0.2, 3.0), size=(8, *shape)).astype(np.float32)
        return keep(reference_models.convert(keras_model, calibration), current["test"])

    def keep_converted(model_bytes, op, seed, tmp_path, count=10):
        return keep(model_bytes, op.lower())

    swaps = [(properties, "assert_single_op_model_exact", keep_keras_model),
             (converter_ops, "assert_exact", keep_converted)]
    originals = [(module, name, getattr(module, name)) for module, name, _ in swaps]
    try:
        for module, name, replacement in swaps:
            setattr(module, name, replacement)
        for module in (properties, converter_ops):
            for name, test in inspect.getmembers(module, inspect.isfunction):
                if name.startswith("test_") and hasattr(test, "hypothesis"):
                    current["test"] = name[len("test_"):]
                    _run_with_examples(test, examples, pathlib.Path(folder), settings)
    finally:
        for module, name, original in originals:
            setattr(module, name, original)
    calibration = reference_models.calibration_for((20, 20, 3))
    current["test"] = "every_op"
    keep(reference_models.convert(reference_models.every_op_model(), calibration), "every_op")
    current["test"] = "uint8_io"
    keep(reference_models.convert_function(lambda x: 3.0 * x, (4, 4, 3), calibration[:, :4, :4], io_type="uint8"),
         "quantize")
    return models


def _run_with_examples(test, examples, folder, settings):
    # A @given test keeps its settings on this attribute; hypothesis refuses a second @settings decorator.
    original = test._hypothesis_internal_use_settings
    test._hypothesis_internal_use_settings = settings(original, max_examples=examples)
    try:
        arguments = inspect.signature(test.hypothesis.inner_test).parameters
        test(**({"tmp_path": folder} if "tmp_path" in arguments else {}))
    finally:
        test._hypothesis_internal_use_settings = original
