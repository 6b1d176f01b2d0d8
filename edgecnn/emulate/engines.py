"""What turns a model into an emulated firmware: TFLite Micro, or edgecnn's own C compiler (`--engine c`).

An engine's `build(model_path, cpu, tflm_root=None, arena_size=None, progress=None, optimization=None)` returns a
firmware.Firmware whose ELF speaks the harness protocol (edgecnn/emulate/protocol.py) and links
native/startup_mps2.c, edgecnn_ticks.c and edgecnn_print.c (firmware.SUPPORT_SOURCES, firmware.link_flags): then the
runner, the sizes, the instruction count and verify's comparison work for it unchanged.
"""

import dataclasses

from edgecnn.emulate import c_firmware, firmware
from edgecnn.registry import Registry


@dataclasses.dataclass(frozen=True)
class EngineSpec:
    name: str
    description: str
    build: object = dataclasses.field(repr=False)
    needs_tree: bool = True  # it compiles against a TFLite Micro tree (--tflm-root); else a tree is optional
    notes: object = dataclasses.field(default=None, repr=False)  # notes(tflm_root, model) -> verify's notes

    def notes_for(self, tflm_root=None, model=None):
        return self.notes(tflm_root, model) if self.notes is not None else [f"engine {self.name}"]


ENGINES = Registry(
    "engine",
    [
        EngineSpec("tflm", "TFLite Micro's interpreter and kernels (reference or CMSIS-NN, as the tree has)",
                   firmware.build_tflm_firmware, notes=firmware.tflm_notes),
        EngineSpec("c", "edgecnn's generated C (export --target c); with a CMSIS-NN tree, its CMSIS-NN build",
                   c_firmware.build_c_firmware, needs_tree=False, notes=c_firmware.c_notes),
    ],
)
