"""A runtime whose native code aborts the process, as TFLite Micro does on some models (for the isolation test)."""

import os


class AbortingRunner:
    def __init__(self, spec, model_path, output_indices):
        pass

    def run(self, inputs):
        os.abort()
