"""Quantization to TFLite, and the metadata (labels, preprocessing) that travels inside the model."""
