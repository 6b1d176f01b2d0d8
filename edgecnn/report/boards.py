"""Common microcontroller boards and their memories, for the report's "does it fit" table.

RAM is the on-chip SRAM a firmware can use for data, stack and the tensor arena; flash is the program memory
the model and code live in. External PSRAM, SDRAM or QSPI flash are in the notes, not the figures: a model
that needs them runs slower and needs a board-specific memory setup. `cpu` names the edgecnn emulate CPU that
measures the board's core, or None when no emulated core matches (another instruction set).
"""

import dataclasses

from edgecnn.registry import Registry

KIB = 1024
MIB = 1024 * KIB


@dataclasses.dataclass(frozen=True)
class Board:
    name: str
    core: str
    cpu: object  # the emulate CPU name that measures this core, or None
    ram_bytes: int
    flash_bytes: int
    notes: str = ""


BOARDS = Registry(
    "board",
    [
        Board("Arduino Nano 33 BLE Sense", "nRF52840, Cortex-M4F 64 MHz", "cortex-m4", 256 * KIB, 1 * MIB),
        Board("SparkFun Edge", "Ambiq Apollo3, Cortex-M4F 48 MHz", "cortex-m4", 384 * KIB, 1 * MIB,
              "TFLite Micro's first reference board"),
        Board("STM32F746G-DISCO", "STM32F746, Cortex-M7 216 MHz", "cortex-m7", 320 * KIB, 1 * MIB,
              "plus 8 MiB SDRAM and 16 MiB QSPI flash on the board"),
        Board("Arduino Portenta H7", "STM32H747, Cortex-M7 480 MHz + M4", "cortex-m7", 1 * MIB, 2 * MIB,
              "plus 8 MiB SDRAM"),
        Board("Raspberry Pi Pico 2", "RP2350, Cortex-M33 150 MHz", "cortex-m33", 520 * KIB, 4 * MIB),
        Board("Raspberry Pi Pico", "RP2040, Cortex-M0+ 133 MHz", None, 264 * KIB, 2 * MIB,
              "Cortex-M0+ (ARMv6-M) is not emulated"),
        Board("ESP32-S3-DevKitC-1 N8R8", "ESP32-S3, Xtensa LX7 240 MHz", None, 512 * KIB, 8 * MIB,
              "plus 8 MiB PSRAM; Xtensa is not emulated"),
    ],
)
