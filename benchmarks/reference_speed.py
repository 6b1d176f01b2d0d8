"""Speed of the NumPy int8 interpreter, as ratios against TFLite measured in the same process.

Targets: per image at batch 64, the NumPy interpreter is at least as fast as TFLite's C++ reference kernels
(BUILTIN_REF, one image per invoke), ratio <= 1.0, and within 10x of the default XNNPACK path, ratio <= 10.

    .venv/bin/python benchmarks/reference_speed.py [--batch 64] [--repeats 3] [--profile]

Models are zoo models with random weights (speed does not depend on training): tiny_vgg at 64x64x3 and
resnet8 at 32x32x3, converted to full int8 here; needs TensorFlow. --profile prints where the NumPy
interpreter spends its time, per op type.
"""

import argparse
import collections
import os
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MODELS = {"tiny_vgg": (64, 64, 3), "resnet8": (32, 32, 3)}
REFERENCE_TARGET = 1.0
XNNPACK_TARGET = 10.0


def convert(name, input_shape):
    from edgecnn import zoo
    from edgecnn.quantize.converter import quantize_keras_model

    keras_model = zoo.create_model(name, input_shape=input_shape, num_classes=10)
    calibration = np.random.default_rng(0).random((32, *input_shape), dtype=np.float32)
    return quantize_keras_model(keras_model, calibration)


def best_seconds(function, repeats):
    """The fastest of `repeats` timed calls, after one warm-up call."""
    function()
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return min(timings)


def numpy_seconds_per_image(model_bytes, images, repeats):
    from edgecnn.reference import Interpreter

    interpreter = Interpreter(model_bytes)
    return best_seconds(lambda: interpreter.run(images, keep_intermediates=False), repeats) / len(images)


def litert_seconds_per_image(model_bytes, images, repeats, reference_kernels):
    from ai_edge_litert import interpreter as litert

    options = {}
    if reference_kernels:
        options["experimental_op_resolver_type"] = litert.OpResolverType.BUILTIN_REF
    interpreter = litert.Interpreter(model_content=model_bytes, **options)
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]

    def run_all():
        for image in images:
            interpreter.set_tensor(input_index, image[None])
            interpreter.invoke()

    return best_seconds(run_all, repeats) / len(images)


def profile_numpy(model_bytes, images):
    """Seconds per op type for one batch, by timing each kernel call."""
    from edgecnn.reference import Interpreter
    from edgecnn.reference import interpreter as interpreter_module

    totals = collections.defaultdict(float)
    originals = dict(interpreter_module.KERNELS)

    def timed(name, kernel):
        def call(arguments):
            start = time.perf_counter()
            result = kernel(arguments)
            totals[name] += time.perf_counter() - start
            return result

        return call

    try:
        for name, kernel in originals.items():
            interpreter_module.KERNELS[name] = timed(name, kernel)
        interpreter = Interpreter(model_bytes)
        start = time.perf_counter()
        interpreter.run(images, keep_intermediates=False)
        total = time.perf_counter() - start
    finally:
        interpreter_module.KERNELS.update(originals)
    return total, dict(totals)


def main(arguments=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="time the NumPy interpreter per op type")
    options = parser.parse_args(arguments)
    random = np.random.default_rng(0)
    failures = []
    print(
        f"{'model':<10} {'numpy ms/img':>13} {'BUILTIN_REF':>12} {'XNNPACK':>9} "
        f"{'numpy/ref':>10} {'numpy/xnn':>10}"
    )
    for name, shape in MODELS.items():
        model_bytes = convert(name, shape)
        images = random.integers(-128, 127, size=(options.batch, *shape), endpoint=True).astype(np.int8)
        numpy_time = numpy_seconds_per_image(model_bytes, images, options.repeats)
        reference_time = litert_seconds_per_image(
            model_bytes, images, options.repeats, reference_kernels=True
        )
        xnnpack_time = litert_seconds_per_image(model_bytes, images, options.repeats, reference_kernels=False)
        reference_ratio, xnnpack_ratio = numpy_time / reference_time, numpy_time / xnnpack_time
        print(
            f"{name:<10} {numpy_time * 1e3:>13.3f} {reference_time * 1e3:>12.3f} {xnnpack_time * 1e3:>9.3f} "
            f"{reference_ratio:>10.2f} {xnnpack_ratio:>10.2f}"
        )
        if reference_ratio > REFERENCE_TARGET:
            failures.append(f"{name}: NumPy/BUILTIN_REF = {reference_ratio:.2f} > {REFERENCE_TARGET}")
        if xnnpack_ratio > XNNPACK_TARGET:
            failures.append(f"{name}: NumPy/XNNPACK = {xnnpack_ratio:.2f} > {XNNPACK_TARGET}")
        if options.profile:
            total, per_op = profile_numpy(model_bytes, images)
            for op_name, seconds in sorted(per_op.items(), key=lambda item: -item[1]):
                print(f"    {op_name:<20} {seconds / total:6.1%}  {seconds * 1e3 / len(images):8.3f} ms/img")
    print(
        f"targets: NumPy/BUILTIN_REF <= {REFERENCE_TARGET}, NumPy/XNNPACK <= {XNNPACK_TARGET} "
        f"(batch {options.batch})"
    )
    for failure in failures:
        print(f"MISSED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
