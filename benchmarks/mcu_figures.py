"""The MCU-sized zoo models on an emulated Cortex-M: flash, RAM, arena, and instructions per inference with
TFLite Micro's reference kernels and CMSIS-NN, as one table per model.

    .venv/bin/python benchmarks/mcu_figures.py [--cpu cortex-m4] [--tflm-root TREE] [--cmsis-nn-root TREE]

Trees default to ../shared/peers/tflite-micro and tflite-micro-cmsis-nn above the checkout. Models are zoo
models with random weights and batch-norm statistics from random images (instruction counts do not depend on
training), converted to full int8 here; needs TensorFlow, arm-none-eabi-gcc and QEMU 8+. Instructions are for
the first input, counted with qemu-system-arm -icount on the CPU's board. Targets: kTensorArenaSize / arena
used within 1.00-1.05 for both kernel sets; the script exits 1 when one is missed.
"""

import argparse
import os
import pathlib
import sys
import tempfile

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MODELS = ("lenet5", "simple_cnn", "tiny_vgg", "resnet8", "mobilenet_v2")
ARENA_RANGE = (1.0, 1.05)


def peer_tree(name):
    for folder in pathlib.Path(__file__).resolve().parents[1:]:
        if (folder / "shared" / "peers" / name / "tensorflow").is_dir():
            return folder / "shared" / "peers" / name
    return None


def convert(name, folder):
    import keras

    from edgecnn import zoo
    from edgecnn.quantize.converter import quantize_keras_model

    shape = zoo.model_info(name).default_input_shape
    model = zoo.create_model(name, input_shape=shape, num_classes=10)
    images = np.random.default_rng(0).random((16, *shape), dtype=np.float32)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.0
    model(images, training=True)
    path = pathlib.Path(folder) / f"{name}.tflite"
    path.write_bytes(quantize_keras_model(model, images))
    return path


def main():
    from edgecnn import emulate
    from edgecnn.text_table import format_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", default="cortex-m4", choices=emulate.CPUS.names())
    parser.add_argument("--tflm-root", default=peer_tree("tflite-micro"))
    parser.add_argument("--cmsis-nn-root", default=peer_tree("tflite-micro-cmsis-nn"))
    arguments = parser.parse_args()
    trees = {"reference": arguments.tflm_root, "cmsis-nn": arguments.cmsis_nn_root}
    for kernels, root in trees.items():
        reason = emulate.unavailable_reason(arguments.cpu, root)
        if reason:
            sys.exit(f"{kernels}: {reason}")
    missed = []
    with tempfile.TemporaryDirectory() as folder:
        for name in MODELS:
            path = convert(name, folder)
            results = {kernels: emulate.run_model(path, cpu=arguments.cpu, tflm_root=root)
                       for kernels, root in trees.items()}
            rows = []
            for kernels, result in results.items():
                ratio = result.tensor_arena_size / result.arena_used_bytes
                if not ARENA_RANGE[0] <= ratio <= ARENA_RANGE[1]:
                    missed.append(f"{name} {kernels}: kTensorArenaSize / arena used {ratio:.3f}")
                rows.append((kernels, f"{result.flash_bytes:,}", f"{result.ram_bytes:,}",
                             f"{result.arena_used_bytes:,}", f"{result.tensor_arena_size:,}", f"{ratio:.3f}",
                             f"{result.instructions_per_inference:,}"))
            speedup = (results["cmsis-nn"].instructions_per_inference
                       / results["reference"].instructions_per_inference)
            print(f"{name} on {arguments.cpu} ({path.stat().st_size:,} byte model)")
            print(format_table(("kernels", "flash", "RAM", "arena used", "kTensorArenaSize", "ratio",
                                "instructions/inference"), rows, right=(1, 2, 3, 4, 5, 6), rule=True))
            print(f"instructions CMSIS-NN / reference: {speedup:.3f}\n", flush=True)
    if missed:
        sys.exit("missed: " + "; ".join(missed))


if __name__ == "__main__":
    main()
