"""Issue 11's memory figures: the activation memory `export --target c` plans, against TFLite Micro's.

For each MCU-sized zoo model (random weights, batch-norm statistics from real images so every layer keeps its
range, converted to full int8 here; needs TensorFlow): edgecnn's arena plus the output it writes to the
caller's buffer, TFLite Micro's greedy plan of the same tensors, and the peak of live tensors (the floor of any
plan that never lets two live tensors share bytes), then the same for the CMSIS-NN build.

    .venv/bin/python benchmarks/c_compiler_figures.py [--models lenet5,mobilenet_v2]

Target (issue 11): edgecnn's plan below TFLite Micro's greedy arena and close to or below the peak of live
tensors. Exits 1 when a plan is larger than the greedy arena.
"""

import argparse
import os
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MODELS = ("lenet5", "simple_cnn", "tiny_vgg", "resnet8", "mobilenet_v2")


def convert(name):
    from edgecnn import zoo
    from edgecnn.data import load_dataset
    from edgecnn.data.preprocessing import Preprocessing
    from edgecnn.quantize.converter import quantize_keras_model

    shape = zoo.model_info(name).default_input_shape
    model = zoo.create_model(name, input_shape=shape, num_classes=10)
    dataset = load_dataset("mnist-sample" if shape[-1] == 1 else "shapes", split="test").take(32, seed=1)
    images = Preprocessing.for_input_shape(shape).apply(list(dataset.images)).astype(np.float32)
    zoo.set_batch_norm_statistics(model, images)
    return quantize_keras_model(model, images)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    arguments = parser.parse_args()
    from edgecnn import codegen
    from edgecnn.text_table import format_table

    rows, failed = [], []
    for name in arguments.models.split(","):
        sources = codegen.generate_sources(convert(name))
        plan, cmsis = sources.plan, sources.cmsis_plan
        ours = plan.arena_bytes + plan.output_bytes
        rows.append(
            [
                name,
                f"{ours:,}",
                f"{plan.greedy_arena_bytes:,}",
                f"{plan.peak_live_bytes:,}",
                f"{ours / plan.greedy_arena_bytes:.3f}",
                f"{ours / plan.peak_live_bytes:.3f}",
                f"{len(plan.fusions)}",
                f"{cmsis.arena_bytes + cmsis.output_bytes:,}",
            ]
        )
        if ours > plan.greedy_arena_bytes:
            failed.append(name)
    header = ["model", "edgecnn C", "TFLM greedy", "peak live", "C / greedy", "C / peak", "fusions",
              "C + CMSIS-NN"]
    print(format_table(header, rows, right=range(1, len(header))))
    print("bytes of activation memory: edgecnn's arena + its output buffer; TFLite Micro's greedy plan of the same")
    print("tensors (16-byte units, without its interpreter's own structures); the peak of live tensor bytes")
    if failed:
        sys.exit(f"edgecnn's plan is larger than TFLite Micro's greedy arena for {', '.join(failed)}")


if __name__ == "__main__":
    main()
