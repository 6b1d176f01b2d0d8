"""Datasets and the preprocessing shared by training, calibration, evaluation and the camera."""
