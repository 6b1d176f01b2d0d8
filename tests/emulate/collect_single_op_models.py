"""Single-op models of the interpreter's hypothesis suites, for the emulator tests: the very cases those suites
draw from (tests/reference/single_op_models.py and converter_op_models.py), a few derandomized examples each,
kept as files."""

import pathlib
import sys

REFERENCE_TESTS = pathlib.Path(__file__).resolve().parents[1] / "reference"


def collect(folder, examples=2):
    """[(name, path)] of the converted single-op models, plus the every-op model and a uint8-input model."""
    if str(REFERENCE_TESTS) not in sys.path:
        sys.path.insert(0, str(REFERENCE_TESTS))
    import converter_op_models
    import reference_models
    import single_op_models
    from hypothesis import given

    settings = single_op_models.hypothesis_settings(examples)
    models = []

    def keep(model_bytes, name):
        path = pathlib.Path(folder) / f"{len(models):03d}_{name}.tflite"
        path.write_bytes(model_bytes)
        models.append((name, path))

    def examples_of(case, seeds, make):
        @settings
        @given(parameters=case.parameters, seed=seeds)
        def run(parameters, seed):
            make(case, parameters, seed)

        run()

    for case in single_op_models.CASES:
        examples_of(case, single_op_models.SEEDS, lambda case, parameters, seed: keep(
            single_op_models.convert(case.model(parameters, seed), seed)[0], case.name))
    for case in converter_op_models.CASES:
        examples_of(case, converter_op_models.SEEDS, lambda case, parameters, seed: [
            keep(built.model, f"{case.name}_{built.op.lower()}") for built in case.build(parameters, seed)])
    calibration = reference_models.calibration_for((20, 20, 3))
    keep(reference_models.convert(reference_models.every_op_model(), calibration), "every_op")
    keep(reference_models.convert_function(lambda x: 3.0 * x, (4, 4, 3), calibration[:, :4, :4], io_type="uint8"),
         "uint8_io_quantize")
    return models
