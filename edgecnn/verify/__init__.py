"""`edgecnn verify`: the NumPy int8 interpreter against the runtimes that really run the model, tensor by tensor.

A stage of its own, beside the interpreter it checks (edgecnn.reference), as TFLite Micro keeps its crosscheck
out of its runtime. Public API:

    inputs = verify.random_inputs(interpreter, 10, seed=0)   # or verify.dataset_inputs(...)
    report = verify.verify_model(path, inputs, against=["litert-ref", "tflm"])
    print(verify.format_report(report))

`RUNTIMES` is the table of runtimes it compares with (name, what it needs, what it exposes, how exact).
"""

from edgecnn.verify.compare import VerifyReport, load_interpreter, verify_model
from edgecnn.verify.inputs import ModelInputs, check_int8_inputs, dataset_inputs, random_inputs
from edgecnn.verify.runtimes import RUNTIMES
from edgecnn.verify.text import format_report

__all__ = [
    "RUNTIMES",
    "ModelInputs",
    "VerifyReport",
    "check_int8_inputs",
    "dataset_inputs",
    "format_report",
    "load_interpreter",
    "random_inputs",
    "verify_model",
]
