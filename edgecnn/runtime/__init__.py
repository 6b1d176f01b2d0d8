"""Run a .tflite classifier on whichever runtime this machine has: LiteRT, tflite-runtime, tf.lite or NumPy.

Public API: `Classifier(path, backend="auto", threads=None, delegate_text=None, fallback_cpu=False)`,
`BACKENDS` (the table of backends, in the order `auto` tries them), `backend_class(name)`, `parse_delegate(text)`.
"""

from edgecnn.runtime.backends import BACKENDS, backend_class
from edgecnn.runtime.delegate import parse_delegate
from edgecnn.runtime.model import Classifier, Prediction

__all__ = ["BACKENDS", "Classifier", "Prediction", "backend_class", "parse_delegate"]
