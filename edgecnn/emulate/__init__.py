"""`edgecnn emulate`: a model's firmware on the real TFLite Micro, run on an emulated Cortex-M (QEMU).

A stage of its own after export: it builds a firmware image from `export --target tflm`'s sources and a small
harness, links it against TFLite Micro compiled for the CPU (once, cached under the user's cache directory),
runs it under qemu-arm and counts instructions on the CPU's board under qemu-system-arm. Public API:

    emulate.CPUS                                      # the CPUs, a Registry of specs with .name
    emulate.unavailable_reason("cortex-m4")           # None, or one line saying what is missing
    result = emulate.run_model("model.tflite", cpu="cortex-m4", inputs=[int8_batch])
    result.to_dict()                                  # outputs, arena, flash, RAM, instructions per inference

`ENGINES` is the table of what builds the firmware (TFLite Micro; edgecnn's C compiler joins it).
"""

from edgecnn.emulate.cpus import CPUS
from edgecnn.emulate.emulation import EmulationResult, run_model, unavailable_reason
from edgecnn.emulate.engines import ENGINES
from edgecnn.emulate.tree import ENVIRONMENT_VARIABLE

__all__ = ["CPUS", "ENGINES", "ENVIRONMENT_VARIABLE", "EmulationResult", "run_model", "unavailable_reason"]
