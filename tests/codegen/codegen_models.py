"""Helpers of the C compiler's tests: models made once per session, their C built once, and comparisons.

Kept out of conftest.py: with several tests/*/conftest.py in one run, `import conftest` finds whichever
conftest module was imported first.
"""

import os
import pathlib
import shutil

import c_build as build
import numpy as np
import reference_models

from edgecnn import codegen
from edgecnn.reference import Interpreter

HERE = pathlib.Path(__file__).parent
CMSIS_TREE_PATH = "shared/peers/tflite-micro-cmsis-nn"
# The MCU-sized zoo models at their default input sizes (mobilenet_v2: alpha 0.35 at 96x96x3).
ZOO_MODELS = ("lenet5", "simple_cnn", "tiny_vgg", "resnet8", "mobilenet_v2")
# Models edgecnn did not make (see data/README.md).
FOREIGN_MODELS = {"smallcnn_int8": HERE / "data" / "smallcnn_int8.tflite"}


def cmsis_tree():
    """A TFLite Micro tree with CMSIS-NN: $EDGECNN_TFLM_ROOT if it has one, else shared/ beside the checkout
    (or above a worktree); None when there is none (the CMSIS-NN tests then skip)."""
    candidates = [pathlib.Path(os.environ["EDGECNN_TFLM_ROOT"])] if os.environ.get("EDGECNN_TFLM_ROOT") else []
    candidates += [folder / CMSIS_TREE_PATH for folder in HERE.resolve().parents[1:]]
    return next((tree for tree in candidates if (tree / "third_party" / "cmsis_nn" / "Include").is_dir()), None)


class ModelStore:
    """Converted models by name, made on first use and kept for the session."""

    def __init__(self, directory):
        self.directory = pathlib.Path(directory)
        self._paths = dict(FOREIGN_MODELS)

    def path(self, name):
        if name not in self._paths:
            path = self.directory / f"{name}.tflite"
            path.write_bytes(self._convert(name))
            self._paths[name] = path
        return self._paths[name]

    @staticmethod
    def _convert(name):
        if name in ZOO_MODELS:
            import edgecnn.zoo

            shape = edgecnn.zoo.model_info(name).default_input_shape
            model = edgecnn.zoo.create_model(name, input_shape=shape, num_classes=10)
            images = reference_models.real_images_for(shape, count=32, seed=1)
            reference_models.set_batch_norm_statistics(model, images)
            return reference_models.convert(model, images)
        if name == "every_op":
            return reference_models.convert(
                reference_models.every_op_model(), reference_models.calibration_for((20, 20, 3))
            )
        if name == "every_op_float_io":
            return reference_models.convert(
                reference_models.every_op_model(), reference_models.calibration_for((20, 20, 3)), io_type="float32"
            )
        if name == "grouped":
            return reference_models.convert(
                reference_models.grouped_conv_model(), reference_models.calibration_for((12, 12, 8))
            )
        raise KeyError(name)


class ProgramStore:
    """Generated sources and harness programs, each made once per session."""

    def __init__(self, directory):
        self.directory = pathlib.Path(directory)
        self._built = {}
        self._sources = {}

    def sources(self, model_path):
        """codegen.generate_sources of the model (planning MobileNet's fusions takes seconds)."""
        key = str(model_path)
        if key not in self._sources:
            self._sources[key] = codegen.generate_sources(model_path)
        return self._sources[key]

    def get(self, model_path, toolchain=build.HOST, trace=False, cmsis_root=None):
        key = (str(model_path), toolchain.name, trace, str(cmsis_root))
        if key not in self._built:
            folder = self.directory / f"{pathlib.Path(model_path).stem}-{len(self._built)}"
            sources = self.sources(model_path)
            codegen.write_sources(sources, folder)
            flags = ["-DEDGECNN_TRACE"] if trace else []
            program = build.build(
                folder, folder / "program", toolchain, flags, cmsis_root=cmsis_root,
                cmsis_build_dir=self.directory / f"cmsis-nn-{toolchain.name}",
            )
            self._built[key] = (sources, program, folder)
        return self._built[key]


def inputs_for(model_path, random_count=16, real_count=16, seed=0):
    """Random int8 inputs over the whole range, then real images quantized for the model (when it takes images)."""
    info = Interpreter(model_path, flavor="micro").input_details[0]
    batches = [reference_models.random_int8_inputs(info, random_count, seed=seed)]
    if real_count and len(info.shape) == 4 and info.shape[-1] in (1, 3):
        batches.append(reference_models.real_int8_inputs(info, real_count, seed=seed))
    return np.concatenate(batches)


def traced_mismatches(model_path, result, inputs):
    """(op index, op name, tensor, differing elements) for every tensor the C wrote that differs from the
    interpreter's micro flavor; asserts every op's outputs were traced."""
    interpreter = Interpreter(model_path, flavor="micro")
    run = interpreter.run(inputs)
    found = []
    for operator in interpreter.operators:
        for index in operator.outputs:
            assert index in result.traces, f"op {operator.index} ({operator.name}) wrote no trace of tensor {index}"
            ours = result.traces[index]
            theirs = np.asarray(run.tensors[index]).reshape(len(inputs), -1)
            differing = int(np.count_nonzero(ours != theirs))
            if differing:
                found.append((operator.index, operator.name, index, differing))
    return found


def _rows(arrays, count):
    """Every output, one row per input, laid out as the C output buffer holds them (back to back)."""
    return np.concatenate([np.asarray(array).reshape(count, -1) for array in arrays], axis=1)


def micro_outputs(model_path, inputs, tmp_path):
    """TFLite Micro's outputs (its pip interpreter)."""
    model_bytes = pathlib.Path(model_path).read_bytes()
    return _rows(reference_models.micro_outputs(model_bytes, inputs, tmp_path, every_output=True), len(inputs))


def interpreter_outputs(model_path, inputs):
    return _rows(Interpreter(model_path, flavor="micro").run(inputs).outputs, len(inputs))


def copy_model(path, directory):
    target = pathlib.Path(directory) / pathlib.Path(path).name
    shutil.copy(path, target)
    return target
