"""The Cortex-M CPUs `emulate` builds for: compiler flags, the QEMU CPU and board, and the board's timer clock.

Each CPU is built with its hardware floating point (what boards with these cores carry: nRF52840 and STM32F4 are
M4F, the M55's MVE needs the hard-float ABI). One ELF per CPU runs under both emulators: qemu-arm (user mode,
fast, for outputs) and qemu-system-arm on an Arm MPS2/MPS3 board, whose SysTick counts instructions when QEMU
runs with `-icount shift=0` (one virtual nanosecond per instruction).
"""

import dataclasses

from edgecnn.registry import Registry


@dataclasses.dataclass(frozen=True)
class CpuSpec:
    name: str
    float_flags: tuple  # the float ABI and FPU
    board: str  # qemu-system-arm -M, the Arm board that carries this core
    vectors_address: int  # where the board's reset vector table is (its initial VTOR)
    text_address: int = None  # where code goes when the default 0x8000 is not memory on that board
    systick_hz: int = 25_000_000  # the board's processor clock, which SysTick counts with CLKSOURCE=1
    has_mve: bool = False  # Helium vectors (the compiler defines __ARM_FEATURE_MVE)

    @property
    def compile_flags(self):
        return ("-mcpu=" + self.name, "-mthumb", "-mlittle-endian", *self.float_flags)

    @property
    def link_flags(self):
        flags = ["-Wl,-u,edgecnn_vectors", f"-Wl,--section-start=.vectors={self.vectors_address:#x}"]
        if self.text_address is not None:
            flags.append(f"-Wl,-Ttext-segment={self.text_address:#x}")
        return tuple(flags)

    @property
    def instructions_per_tick(self):
        """With -icount shift=0 one instruction takes 1 ns of virtual time: 1e9 / clock instructions a tick."""
        return 1e9 / self.systick_hz


CPUS = Registry(
    "CPU",
    [
        CpuSpec("cortex-m4", ("-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"), "mps2-an386", 0x0),
        CpuSpec("cortex-m7", ("-mfloat-abi=hard", "-mfpu=fpv5-d16"), "mps2-an500", 0x0),
        CpuSpec("cortex-m33", ("-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"), "mps2-an505", 0x10000000,
                text_address=0x10008000, systick_hz=20_000_000),
        # -mfpu is left to -mcpu: FPU and MVE (Helium), which CMSIS-NN's fastest kernels use.
        CpuSpec("cortex-m55", ("-mfloat-abi=hard",), "mps3-an547", 0x10000000,
                text_address=0x70000000, systick_hz=32_000_000, has_mve=True),
    ],
)
