"""A TFLite Micro source tree as TFLite Micro's create_tflm_tree.py lays it out: where it is, which kernels it
carries, which of its files a model needs and the flags they compile with.

Only the interpreter core and the kernels of the model's ops are compiled (about 40 files instead of 200): a
MicroMutableOpResolver references a kernel only through the Add<Op>() methods a program calls. A tree made for
CMSIS-NN (it has third_party/cmsis_nn) has kernels/cmsis_nn/ versions of the main kernels, which are taken
instead of the reference ones, and CMSIS-NN's C sources.
"""

import dataclasses
import functools
import hashlib
import os
import pathlib
import re

from edgecnn.errors import ConfigurationError

ENVIRONMENT_VARIABLE = "EDGECNN_TFLM_ROOT"
REFERENCE = "reference"
CMSIS_NN = "cmsis-nn"
HOW_TO_MAKE = (
    "make one with TFLite Micro's tensorflow/lite/micro/tools/project_generation/create_tflm_tree.py OUT "
    "(with --makefile_options=\"TARGET=cortex_m_generic OPTIMIZED_KERNEL_DIR=cmsis_nn TARGET_ARCH=project_generation\" "
    f"for CMSIS-NN kernels) and pass --tflm-root OUT or set {ENVIRONMENT_VARIABLE}=OUT"
)
REQUIRED_FILES = (
    "tensorflow/lite/micro/micro_interpreter.h",
    "tensorflow/lite/micro/micro_mutable_op_resolver.h",
    "tensorflow/lite/schema/schema_generated.h",
    "third_party/flatbuffers/include/flatbuffers/flatbuffers.h",
)
KERNELS_DIR = "tensorflow/lite/micro/kernels"
# Sources of the tree's own tests and recording tools, which no program running a model links.
TEST_ONLY_SOURCES = {
    "test_helpers.cc",
    "test_helper_custom_ops.cc",
    "fake_micro_context.cc",
    "mock_micro_graph.cc",
    "recording_micro_allocator.cc",
    "recording_single_arena_buffer_allocator.cc",
}
SKIPPED_DIRS = {"examples", "benchmarks", "testing", "tools", "python", "integration_tests"}
INCLUDE_DIRS = (".", "third_party", "third_party/gemmlowp", "third_party/flatbuffers/include",
                "third_party/kissfft", "third_party/ruy")
CMSIS_INCLUDE_DIRS = ("third_party/cmsis", "third_party/cmsis_nn", "third_party/cmsis/CMSIS/Core/Include",
                      "third_party/cmsis_nn/Include")
# PROJECT_GENERATION: cortex_m_generic/micro_time.cc then needs no CMSIS device header (it returns 0 ticks).
CMSIS_DEFINES = ("-DCMSIS_NN", "-DKERNELS_OPTIMIZED_FOR_SPEED", "-DARM_NN_ENABLE_F16=0", "-DARM_NN_ENABLE_F32=0",
                 "-DPROJECT_GENERATION")
_METHOD = re.compile(r"TfLiteStatus (Add\w+)\((.*?)\n  \}", re.S)
_REGISTRATION = re.compile(r"Register_(\w+)\(\)")
_KERNEL_INCLUDE = re.compile(r'^#include "tensorflow/lite/micro/kernels/(\w+)\.h"', re.M)
_DEFINITION = re.compile(r"^\s*(?:const\s+)?TFLMRegistration\s*&?\s+Register_(\w+)\s*\(\s*\)\s*\{", re.M)


@dataclasses.dataclass(frozen=True)
class KernelUnit:
    """The sources of one kernel file (and its _common.cc), which may serve several resolver methods."""

    name: str  # e.g. "conv" or "cmsis_nn-conv"
    sources: tuple  # tree-relative paths


@dataclasses.dataclass(frozen=True)
class TflmTree:
    root: pathlib.Path

    @property
    def kernels(self):
        return CMSIS_NN if (self.root / "third_party" / "cmsis_nn").is_dir() else REFERENCE

    def include_flags(self):
        dirs = INCLUDE_DIRS + (CMSIS_INCLUDE_DIRS if self.kernels == CMSIS_NN else ())
        return tuple(f"-I{self.root / folder}" for folder in dirs)

    def defines(self):
        return CMSIS_DEFINES if self.kernels == CMSIS_NN else ()

    def has_debug_log_callback(self):
        return (self.root / "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h").is_file()

    def core_sources(self):
        """The interpreter, allocator, planner and schema code every model needs."""
        sources = []
        for path in sorted((self.root / "tensorflow").rglob("*.cc")):
            relative = path.relative_to(self.root).as_posix()
            parts = set(relative.split("/")[:-1])
            if relative.startswith(KERNELS_DIR + "/") and relative != f"{KERNELS_DIR}/kernel_util.cc":
                continue
            if path.name in TEST_ONLY_SOURCES or path.name.endswith("_test.cc") or parts & SKIPPED_DIRS:
                continue
            sources.append(relative)
        return tuple(sources)

    def cmsis_nn_sources(self):
        """CMSIS-NN's C files (a tree with CMSIS-NN kernels; none otherwise): what its kernels and edgecnn's
        generated C built with -DEDGECNN_USE_CMSIS_NN call."""
        if self.kernels != CMSIS_NN:
            return ()
        source_dir = self.root / "third_party" / "cmsis_nn" / "Source"
        return tuple(path.relative_to(self.root).as_posix() for path in sorted(source_dir.rglob("*.c")))

    def kernel_unit(self, method):
        """The kernel sources behind MicroMutableOpResolver::`method` (e.g. "AddConv2D") in this tree."""
        return _kernel_units(self.root, self.fingerprint())[method]

    def knows_method(self, method):
        return method in _kernel_units(self.root, self.fingerprint())

    def fingerprint(self):
        """A hash of every source file's path, size and modification time: it changes when the tree does."""
        digest = hashlib.sha256()
        for top in ("tensorflow", "third_party"):
            for folder, dirs, files in os.walk(self.root / top):
                dirs.sort()
                for name in sorted(files):
                    path = os.path.join(folder, name)
                    status = os.stat(path)
                    relative = os.path.relpath(path, self.root)
                    digest.update(f"{relative}\0{status.st_size}\0{status.st_mtime_ns}\n".encode())
        return digest.hexdigest()[:20]


def find_tree(tflm_root=None):
    """The tree given (`tflm_root`, else $EDGECNN_TFLM_ROOT), checked; without one, how to make one."""
    where = "--tflm-root"
    if tflm_root is None:
        tflm_root = os.environ.get(ENVIRONMENT_VARIABLE) or None
        where = ENVIRONMENT_VARIABLE
    if tflm_root is None:
        raise ConfigurationError(f"no TFLite Micro source tree given: {HOW_TO_MAKE}")
    root = pathlib.Path(tflm_root).expanduser()
    if not root.is_dir():
        raise ConfigurationError(f"TFLite Micro tree {root} (from {where}) is not a directory: {HOW_TO_MAKE}")
    root = root.resolve()
    missing = [name for name in REQUIRED_FILES if not (root / name).is_file()]
    if missing:
        checkout = (root / "tensorflow/lite/micro/tools/project_generation/create_tflm_tree.py").is_file()
        hint = "it is a tflite-micro checkout, not a generated tree: " if checkout else ""
        raise ConfigurationError(
            f"{root} (from {where}) is not a TFLite Micro source tree (no {missing[0]}); {hint}{HOW_TO_MAKE}"
        )
    return TflmTree(root)


@functools.lru_cache(maxsize=8)
def _kernel_units(root, fingerprint):
    """resolver method -> KernelUnit, read from the tree's resolver header and kernel sources."""
    header = (root / "tensorflow/lite/micro/micro_mutable_op_resolver.h").read_text(errors="replace")
    kernels = root / KERNELS_DIR
    definitions = {}
    for path in sorted(kernels.rglob("*.cc")):
        optimized = path.parent != kernels  # kernels/cmsis_nn/conv.cc replaces kernels/conv.cc
        for name in _DEFINITION.findall(path.read_text(errors="replace")):
            if name not in definitions or optimized:
                definitions[name] = path
    units = {}
    for method, body in _METHOD.findall(header):
        registration = _REGISTRATION.search(body)
        source = definitions.get(registration.group(1)) if registration else None
        if source is None:
            continue
        files = _with_common_sources(kernels, source)
        relative = source.relative_to(kernels).with_suffix("").as_posix()
        units[method] = KernelUnit(relative.replace("/", "-"), tuple(p.relative_to(root).as_posix() for p in files))
    return units


def _with_common_sources(kernels, source):
    """`source` and the <name>_common.cc of every kernel header it includes, directly or through headers.

    The declarations a kernel shares live in kernels/<name>.h and their definitions in <name>_common.cc
    (depthwise_conv.cc includes depthwise_conv.h, which includes conv.h: it needs conv_common.cc too).
    """
    files, queue, seen = [source], [source], set()
    while queue:
        text = queue.pop().read_text(errors="replace")
        for name in _KERNEL_INCLUDE.findall(text):
            if name in seen:
                continue
            seen.add(name)
            header = kernels / f"{name}.h"
            if header.is_file():
                queue.append(header)
            common = kernels / f"{name}_common.cc"
            if common.is_file() and common not in files:
                files.append(common)
                queue.append(common)
    return files
