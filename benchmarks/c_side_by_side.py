"""edgecnn's generated C against TFLite Micro, side by side: the same model, the same harness, the same compiler
flags (-Os by default, Cortex-M4), one table per model.

    .venv/bin/python benchmarks/c_side_by_side.py [--models lenet5,resnet8] [--cpu cortex-m4] [--optimize size]

Four builds of each MCU-sized zoo model (random weights, batch-norm statistics from random images, converted
to full int8 here): TFLite Micro with its reference kernels, TFLite Micro with CMSIS-NN, edgecnn C, and edgecnn
C with CMSIS-NN, each linked into `edgecnn emulate`'s harness image and run under QEMU. Flash is text + data and
RAM data + bss of the whole image (the arena included; the harness's newlib stdio, semihosting and 16 KiB heap
are in every build alike, so a second pair of ratios leaves out what the harness alone takes, measured around a
one-byte model); instructions are one inference counted with qemu-system-arm -icount. Ratios are
edgecnn C / TFLite Micro with the same kernels. Goals (issue 11): RAM <= 0.5, flash <= 0.65, instructions
<= 1.0; a missed goal is printed, not an error. Exits 1 when the four builds' outputs differ.
Trees default to ../shared/peers/tflite-micro and tflite-micro-cmsis-nn above the checkout.
"""

import argparse
import sys
import tempfile

import numpy as np
from mcu_figures import MODELS, convert, peer_tree

GOALS = {"RAM": 0.5, "flash": 0.65, "instructions": 1.0}


def measure(model, cpu, optimization, tflm_root, cmsis_root):
    """name -> EmulationResult of the four builds, on one fixed random input."""
    from edgecnn import emulate

    builds = {
        "TFLite Micro": ("tflm", tflm_root),
        "TFLite Micro + CMSIS-NN": ("tflm", cmsis_root),
        "edgecnn C": ("c", None),
        "edgecnn C + CMSIS-NN": ("c", cmsis_root),
    }
    return {
        name: emulate.run_model(str(model), cpu=cpu, inputs=None, engine=engine, tflm_root=tree,
                                optimization=optimization)
        for name, (engine, tree) in builds.items()
    }


STUB_HEADER = """#include <stdint.h>
#define EDGECNN_INPUT_BYTES 1
#define EDGECNN_OUTPUT_BYTES 1
#define EDGECNN_ARENA_BYTES 0
#define EDGECNN_OUTPUT_COUNT 1
#define EDGECNN_OUTPUT_SIZES {1}
int edgecnn_invoke(const int8_t *input, int8_t *output);
int8_t *edgecnn_input_buffer(void);
"""
STUB_MODEL = """#include "edgecnn_model.h"
static int8_t edgecnn_byte;
int8_t *edgecnn_input_buffer(void) { return &edgecnn_byte; }
int edgecnn_invoke(const int8_t *input, int8_t *output) { output[0] = input[0]; return 0; }
"""


def harness_alone(cpu_name, optimization, folder):
    """(flash, RAM) of the harness image around a one-byte model: newlib's stdio and semihosting, the heap for
    them, the startup code; what every build carries and a product image would not."""
    import pathlib

    from edgecnn.emulate import c_firmware, firmware, library, toolchain
    from edgecnn.emulate.cpus import CPUS

    cpu, tools = CPUS.get(cpu_name), toolchain.arm_toolchain()
    build = pathlib.Path(folder) / "harness-alone"
    build.mkdir()
    (build / "edgecnn_model.h").write_text(STUB_HEADER)
    (build / "edgecnn_model.c").write_text(STUB_MODEL)
    flags = [*c_firmware.C_FLAGS, library.optimization_flag(optimization), *cpu.compile_flags]
    sources = [build / "edgecnn_model.c", firmware.NATIVE / c_firmware.HARNESS,
               *(firmware.NATIVE / name for name in firmware.SUPPORT_SOURCES)]
    objects = [firmware.compile_source(tools.cc, flags, source, build, cpu) for source in sources]
    firmware.link(tools, cpu, flags, objects, [], build / "harness.elf", compiler=tools.cc)
    return firmware.image_size(tools, build / "harness.elf")


def table(name, results, alone):
    from edgecnn.text_table import format_table

    baselines = {"edgecnn C": "TFLite Micro", "edgecnn C + CMSIS-NN": "TFLite Micro + CMSIS-NN"}
    rows, missed = [], []
    for build, result in results.items():
        row = [build, f"{result.flash_bytes:,}", f"{result.ram_bytes:,}", f"{result.arena_used_bytes:,}",
               f"{result.instructions_per_inference:,}"]
        if build in baselines:
            base = results[baselines[build]]
            ratios = {"flash": result.flash_bytes / base.flash_bytes, "RAM": result.ram_bytes / base.ram_bytes,
                      "instructions": result.instructions_per_inference / base.instructions_per_inference}
            beyond_flash = (result.flash_bytes - alone[0]) / (base.flash_bytes - alone[0])
            beyond_ram = (result.ram_bytes - alone[1]) / (base.ram_bytes - alone[1])
            row += [f"{ratios['flash']:.3f}", f"{ratios['RAM']:.3f}", f"{beyond_flash:.3f}", f"{beyond_ram:.3f}",
                    f"{result.arena_used_bytes / base.arena_used_bytes:.3f}", f"{ratios['instructions']:.3f}"]
            missed += [f"{build} {figure} {ratios[figure]:.3f} > {goal}" for figure, goal in GOALS.items()
                       if ratios[figure] > goal]
        else:
            row += [""] * 6
        rows.append(row)
    header = ["build", "flash", "RAM", "arena", "instructions", "flash x", "RAM x", "flash x*", "RAM x*", "arena x",
              "instr. x"]
    return f"{name}\n" + format_table(header, rows, right=range(1, len(header))), missed


def main():
    from edgecnn import emulate
    from edgecnn.emulate.library import OPTIMIZATIONS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--cpu", default="cortex-m4", choices=emulate.CPUS.names())
    parser.add_argument("--optimize", default="size", choices=list(OPTIMIZATIONS))
    parser.add_argument("--tflm-root", default=peer_tree("tflite-micro"))
    parser.add_argument("--cmsis-nn-root", default=peer_tree("tflite-micro-cmsis-nn"))
    arguments = parser.parse_args()
    if arguments.tflm_root is None or arguments.cmsis_nn_root is None:
        sys.exit("give --tflm-root and --cmsis-nn-root (TFLite Micro trees with reference and CMSIS-NN kernels)")
    differing, missed = [], []
    with tempfile.TemporaryDirectory() as folder:
        alone = harness_alone(arguments.cpu, arguments.optimize, folder)
        for name in arguments.models.split(","):
            results = measure(convert(name, folder), arguments.cpu, arguments.optimize, arguments.tflm_root,
                              arguments.cmsis_nn_root)
            first = next(iter(results.values()))
            differing += [f"{name}: {build}" for build, result in results.items()
                          if not np.array_equal(result.outputs[0], first.outputs[0])]
            text, model_missed = table(name, results, alone)
            print(text + "\n", flush=True)
            missed += [f"{name}: {line}" for line in model_missed]
    flag = OPTIMIZATIONS[arguments.optimize]
    print(f"{arguments.cpu}, {flag}, hard float; flash = text + data, RAM = data + bss of the harness image; arena: "
          "what TFLite Micro used (arena_used_bytes) or EDGECNN_ARENA_BYTES; x: edgecnn C / TFLite Micro with the "
          "same kernels; x*: the same without the harness's own flash and RAM "
          f"({alone[0]:,} and {alone[1]:,} bytes: newlib's stdio and semihosting, their heap, the startup code; "
          "measured around a one-byte model), which every build carries and a product image would not")
    print("goals are checked on the whole image (x)")
    print("goals (RAM <= 0.5, flash <= 0.65, instructions <= 1.0): "
          + ("all met" if not missed else "missed: " + "; ".join(missed)))
    if differing:
        sys.exit(f"outputs differ from TFLite Micro's reference kernels: {', '.join(differing)}")


if __name__ == "__main__":
    main()
