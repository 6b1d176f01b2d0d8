"""Firmware images of edgecnn's generated C (`export --target c`): the model's edgecnn_model.c and
native/c_harness.c, linked for one CPU with the same startup, timer and semihosting as TFLite Micro's images, so
the two engines are measured the same way.

No TFLite Micro is needed. Given a tree with CMSIS-NN (--tflm-root or $EDGECNN_TFLM_ROOT), the image is the
-DEDGECNN_USE_CMSIS_NN build linked against that tree's CMSIS-NN, compiled once into the library cache; any
other tree, or none, gives the portable C. Images are cached under ($XDG_CACHE_HOME or ~/.cache)/edgecnn/c.
"""

import os

from edgecnn.emulate import firmware, library, toolchain, tree
from edgecnn.errors import ConfigurationError

C_FLAGS = ("-std=c99", "-ffunction-sections", "-fdata-sections", "-fomit-frame-pointer")
GENERATED_WARNINGS = ("-Wall", "-Wextra")  # the tests build the same sources with -Werror too
CMSIS_DEFINES = ("-DEDGECNN_USE_CMSIS_NN", "-DARM_NN_ENABLE_F16=0", "-DARM_NN_ENABLE_F32=0")
HARNESS = "c_harness.c"


def cache_root():
    return library.cache_root().parent / "c"


def optional_tree(tflm_root):
    """The tree given or in $EDGECNN_TFLM_ROOT, checked; None when neither names one."""
    if tflm_root is None and not os.environ.get(tree.ENVIRONMENT_VARIABLE):
        return None
    return tree.find_tree(tflm_root)


def build_c_firmware(model_path, cpu, tflm_root=None, arena_size=None, progress=None, optimization=None):
    """The harness firmware of `model_path`'s generated C for `cpu` (CMSIS-NN's build with a CMSIS-NN tree)."""
    from edgecnn import codegen

    if arena_size is not None:
        raise ConfigurationError("--arena-size applies to --engine tflm: the C engine's arena is planned at export")
    source_tree = optional_tree(tflm_root)
    use_cmsis = source_tree is not None and source_tree.kernels == tree.CMSIS_NN
    tools = toolchain.arm_toolchain()
    sources = codegen.generate_sources(model_path)
    plan = (sources.mve_plan if cpu.has_mve else sources.cmsis_plan) if use_cmsis else sources.plan
    flags = [*C_FLAGS, library.optimization_flag(optimization), *cpu.compile_flags, *GENERATED_WARNINGS]
    archives, context = [], f"{tools.version}\0portable"
    if use_cmsis:
        compiled = library.library_for(source_tree, cpu, tools, optimization)
        archives.append(compiled.cmsis_nn_archive(progress=progress))
        cmsis_root = source_tree.root / "third_party" / "cmsis_nn"
        flags += [*CMSIS_DEFINES, f"-I{cmsis_root / 'Include'}", f"-I{cmsis_root}"]
        context = compiled.directory.name  # keyed by the tree, the CPU, the compiler and the flags
    kernels = tree.CMSIS_NN if use_cmsis else tree.REFERENCE
    folder = cache_root() / f"{cpu.name}-{kernels}" / firmware.firmware_key(context, sources.files, flags)

    def make(build):
        support = [firmware.NATIVE / HARNESS, *(firmware.NATIVE / name for name in firmware.SUPPORT_SOURCES)]
        objects = [firmware.compile_source(tools.cc, flags, source, build, cpu)
                   for source in (build / codegen.SOURCE_NAME, *support)]
        firmware.link(tools, cpu, flags, objects, archives, build / firmware.IMAGE_NAME, compiler=tools.cc)
        return objects, {"arena_bytes": plan.arena_bytes}

    record = firmware.cached_image(folder, tools, sources.files, make)
    return firmware.Firmware(
        elf=folder / firmware.IMAGE_NAME,
        cpu=cpu,
        engine="c",
        kernels=kernels,
        tensor_arena_size=record["arena_bytes"],
        arena_bytes=record["arena_bytes"],
        flash_bytes=record["flash_bytes"],
        ram_bytes=record["ram_bytes"],
        tree=str(source_tree.root) if use_cmsis else None,
    )


def c_notes(tflm_root=None, model=None):
    """What verify says of this engine: which build of the generated C ran."""
    source = optional_tree(tflm_root)
    if source is not None and source.kernels == tree.CMSIS_NN:
        return [f"edgecnn's generated C, built with CMSIS-NN from {source.root}"]
    return ["edgecnn's generated C, portable kernels"]
