"""Accuracy of a quantized model against its float original, as JSON, Markdown and self-contained HTML."""
