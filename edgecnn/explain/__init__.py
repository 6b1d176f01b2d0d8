"""`edgecnn explain`: one image through the int8 model, layer by layer, with one element worked out by hand.

    explanation = explain.explain("model_int8.tflite", "cat.png", keras_path="model.keras")
    explain.write(explanation, "runs/explain")   # explain.html (self-contained) and explain.json

The figures come from edgecnn's own stages: the NumPy int8 interpreter's intermediates (edgecnn.reference),
SQNR against the float Keras model (edgecnn.verify.keras_layers), the arena plan (edgecnn.tflite.memory) and the
model's input encoding (edgecnn.data.encoding).
"""

from edgecnn.explain.explanation import Explanation, explain
from edgecnn.explain.output import write

__all__ = ["Explanation", "explain", "write"]
