"""Helpers of the emulated Cortex-M tests (a module of its own: `import conftest` is ambiguous across folders)."""

import concurrent.futures
import pathlib
import sys

import numpy as np
from tflm_trees import CMSIS_NN, REFERENCE

# MCU-sized zoo models at their default input shapes (mobilenet_v2: alpha 0.35 at 96x96x3), and the dataset
# whose images feed them.
ZOO_MODELS = {"lenet5": "mnist-sample", "simple_cnn": "mnist-sample", "tiny_vgg": "shapes",
              "resnet8": "shapes", "mobilenet_v2": "shapes"}
KERNEL_TREES = {"reference": REFERENCE, "cmsis-nn": CMSIS_NN}
# What `emulate --json` writes for every engine, at least (the list).
JSON_KEYS = {"cpu", "kernels", "outputs", "arena_used_bytes", "tensor_arena_size", "flash_bytes", "ram_bytes",
             "instructions_per_inference"}
RANDOM_INPUTS = 8
REAL_INPUTS = 16


def random_and_real_inputs(model_path, dataset):
    """RANDOM_INPUTS random inputs, then REAL_INPUTS images of `dataset` (None: random only), as int8 arrays."""
    from edgecnn import tflite, verify

    described = verify.ModelInputs.of(tflite.read_model(model_path))
    random = verify.random_inputs(described, RANDOM_INPUTS, seed=3).quantized
    if dataset is None:
        return random
    real = verify.dataset_inputs(described, dataset, REAL_INPUTS, seed=0).quantized
    return [np.concatenate([first, second]) for first, second in zip(random, real)]


def micro_outputs(model_path, inputs):
    """The NumPy interpreter's micro flavor on `inputs` (one array per model input): its output arrays."""
    from edgecnn.reference import Interpreter

    return Interpreter(str(model_path), flavor="micro").run(inputs, keep_intermediates=False).outputs


def assert_equals_micro_flavor(result, model_path, inputs):
    """Every output element of an EmulationResult equals the NumPy interpreter's."""
    expected = micro_outputs(model_path, inputs)
    assert len(expected) == len(result.outputs)
    for position, (ours, theirs) in enumerate(zip(expected, result.outputs)):
        ours = np.asarray(ours).reshape(theirs.shape)
        differing = int(np.count_nonzero(ours != theirs))
        assert differing == 0, (
            f"{pathlib.Path(model_path).name} on {result.cpu} ({result.kernels}): output {position} differs in "
            f"{differing} of {ours.size} elements, by up to "
            f"{int(np.abs(ours.astype(np.int64) - theirs.astype(np.int64)).max())}"
        )


def run_all(function, items, workers=2):
    """function(item) for every item on two threads (each emulator run is a process of its own)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items))


def reference_models():
    """tests/reference/reference_models.py: the converters behind the NumPy interpreter's tests."""
    folder = str(pathlib.Path(__file__).resolve().parents[1] / "reference")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    import reference_models as module

    return module
