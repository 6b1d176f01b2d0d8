"""Firmware images for the emulator: a model's `export --target tflm` sources and the harness, linked against
TFLite Micro for one CPU; cached beside that library, so the same model on the same CPU links once.

Sizes come from the toolchain's `size` (Berkeley format): flash = text + data (.data's initial values live in
flash), RAM = data + bss. The harness's image holds newlib's stdio and semihosting, a 16 KiB heap for them and
an arena of kTensorArenaSize (or the size asked for), so the figures are those of this firmware, not of a
product image.
"""

import dataclasses
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import time

from edgecnn import atomic
from edgecnn.emulate import library, toolchain, tree
from edgecnn.errors import ExternalToolError, UnsupportedModelError

NATIVE = pathlib.Path(__file__).parent / "native"
SUPPORT_SOURCES = ("edgecnn_ticks.c", "edgecnn_print.c", "startup_mps2.c")  # every engine's firmware links these
FIRMWARE_FORMAT = 1
IMAGE_NAME = "harness.elf"
KEPT_FIRMWARE = 64  # firmware images kept per library; the least recently used go first
OWN_WARNINGS = ("-Wall",)  # edgecnn's own sources; the tests add -Wextra -Werror


@dataclasses.dataclass(frozen=True)
class Firmware:
    """One linked image and the facts about it the results report."""

    elf: pathlib.Path
    cpu: object  # cpus.CpuSpec
    engine: str
    kernels: str  # "reference" or "cmsis-nn" (TFLite Micro); the engine's own name otherwise
    tensor_arena_size: int  # kTensorArenaSize as exported
    arena_bytes: int  # the arena the harness was built with
    flash_bytes: int
    ram_bytes: int
    tree: str = None


def link_flags(cpu):
    """How every emulated image links: newlib with semihosting, unused sections dropped, the board's vectors."""
    return ("--specs=rdimon.specs", "-Wl,--gc-sections", *cpu.link_flags)


def build_tflm_firmware(model_path, cpu, tflm_root=None, arena_size=None, progress=None, optimization=None):
    """The harness firmware of `model_path` for `cpu` on the TFLite Micro tree given (or $EDGECNN_TFLM_ROOT)."""
    from edgecnn.export import tflm

    source_tree = tree.find_tree(tflm_root)
    tools = toolchain.arm_toolchain()
    compiled = library.library_for(source_tree, cpu, tools, optimization)
    sources = tflm.generate_tflm_sources(model_path, legacy_names=True)
    methods = [tflm.RESOLVER_METHODS[op] for op in sources.ops]
    absent = [f"{op} (MicroMutableOpResolver::{method})" for op, method in zip(sources.ops, methods)
              if not source_tree.knows_method(method)]
    if absent:
        raise UnsupportedModelError(
            f"{model_path}: the TFLite Micro tree {source_tree.root} has no kernel for {', '.join(absent)}"
        )
    # What kTensorArenaSize is on this CPU: model_settings.h selects the Helium figure where MVE is compiled in.
    exported_arena = sources.arena.bytes_for(mve=cpu.has_mve)
    arena_bytes = int(arena_size or exported_arena)
    files = dict(sources.files)
    files["tensor_arena.c"] = arena_source(arena_bytes)
    cxx_flags = (*compiled.flags("c++"), *OWN_WARNINGS)
    c_flags = (*compiled.flags("c"), *OWN_WARNINGS)
    folder = compiled.directory / "firmware" / firmware_key(compiled.directory.name, files, cxx_flags, c_flags)

    def make(build):
        archives = compiled.archives(methods, progress=progress)
        harness = _harness_object(compiled, files["op_resolver.h"], cxx_flags)
        objects = [
            compile_source(tools.cxx, cxx_flags, build / "model_data.cc", build, cpu),
            compile_source(tools.cc, c_flags, build / "tensor_arena.c", build, cpu),
            *(compile_source(tools.cc, c_flags, NATIVE / name, build, cpu) for name in SUPPORT_SOURCES),
        ]
        link(tools, cpu, cxx_flags, [harness, *objects], archives, build / IMAGE_NAME)
        return objects, {"tensor_arena_size": exported_arena, "arena_bytes": arena_bytes}

    record = cached_image(folder, tools, files, make)
    return Firmware(
        elf=folder / IMAGE_NAME,
        cpu=cpu,
        engine="tflm",
        kernels=source_tree.kernels,
        tensor_arena_size=record["tensor_arena_size"],
        arena_bytes=record["arena_bytes"],
        flash_bytes=record["flash_bytes"],
        ram_bytes=record["ram_bytes"],
        tree=str(source_tree.root),
    )


def cached_image(folder, tools, files, make):
    """The firmware.json record of the image cached in `folder`, built first when it is not there: `files` (name
    -> text) are written into a temporary build directory, make(build) compiles and links build/harness.elf and
    returns (its objects, to delete, and the engine's own record fields); the sizes are added, and the directory
    is renamed onto `folder`. The image is marked as recently used (kept by prune)."""
    if not (folder / "firmware.json").is_file():
        with build_directory(folder) as build:
            for name, text in files.items():
                (build / name).write_text(text, encoding="utf-8")
            objects, fields = make(build)
            for path in objects:
                path.unlink()
            flash, ram = image_size(tools, build / IMAGE_NAME)
            record = {"format": FIRMWARE_FORMAT, "flash_bytes": flash, "ram_bytes": ram, **fields}
            (build / "firmware.json").write_text(json.dumps(record, indent=1) + "\n")
        prune(folder.parent)
    record = json.loads((folder / "firmware.json").read_text())
    os.utime(folder)
    return record


def tflm_notes(tflm_root=None, model=None):
    """What verify says of this engine: the tree's kernels, and the known CMSIS-NN defects the model's ops hit
    (a mismatch there is theirs)."""
    from edgecnn.emulate import defects

    source = tree.find_tree(tflm_root)
    notes = [f"TFLite Micro with {source.kernels} kernels from {source.root}"]
    if source.kernels == tree.CMSIS_NN and model is not None:
        notes += [f"known CMSIS-NN defect: {defect}" for defect in defects.cmsis_nn_defects(model)]
    return notes


def link(tools, cpu, cxx_flags, objects, archives, elf, compiler=None):
    """Link objects and static libraries into an ELF for `cpu` (archives in a group: any order resolves)."""
    command = [compiler or tools.cxx, *cxx_flags, *map(str, objects), "-Wl,--start-group", *map(str, archives),
               "-Wl,--end-group", *link_flags(cpu), "-o", str(elf)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ExternalToolError(f"linking the firmware for {cpu.name} failed: {library.first_error(result.stderr)}")


def image_size(tools, elf):
    """(flash bytes, RAM bytes) of an ELF from `size`: text + data, data + bss."""
    result = subprocess.run([tools.size, "-B", str(elf)], capture_output=True, text=True, check=False)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or len(lines) < 2:
        raise ExternalToolError(f"{tools.size} could not read {elf}: {result.stderr.strip()[:200]}")
    text, data, bss = (int(value) for value in lines[1].split()[:3])
    return text + data, data + bss


def compile_source(compiler, flags, source, build, cpu):
    output = build / (source.stem + ".o")
    command = [compiler, *flags, f"-I{build}", f"-I{NATIVE}", "-c", str(source), "-o", str(output)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ExternalToolError(
            f"compiling {source.name} for {cpu.name} failed: {library.first_error(result.stderr)}"
        )
    return output


def arena_source(arena_bytes):
    """The tensor arena of a harness, in a file of its own: the harness object then serves every model."""
    return (
        "/* Generated by edgecnn: the harness's tensor arena. */\n#include <stddef.h>\n#include <stdint.h>\n\n"
        f"_Alignas(16) uint8_t edgecnn_tensor_arena[{arena_bytes}];\n"
        f"const size_t edgecnn_tensor_arena_bytes = {arena_bytes};\n"
    )


def _harness_object(compiled, resolver_header, cxx_flags):
    """native/harness.cc compiled for the model's op resolver, cached in the library (one per set of ops)."""
    digest = hashlib.sha256(f"{FIRMWARE_FORMAT}\0{cxx_flags}\0{resolver_header}".encode())
    digest.update((NATIVE / "harness.cc").read_bytes())
    for header in sorted(NATIVE.glob("*.h")):
        digest.update(header.read_bytes())
    path = compiled.directory / "harness" / f"{digest.hexdigest()[:20]}.o"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        build = pathlib.Path(tempfile.mkdtemp(prefix=".harness.", dir=path.parent))
        try:
            (build / "op_resolver.h").write_text(resolver_header, encoding="utf-8")
            compiled_object = compile_source(compiled.toolchain.cxx, cxx_flags, NATIVE / "harness.cc", build,
                                             compiled.cpu)
            os.replace(compiled_object, path)
        finally:
            shutil.rmtree(build, ignore_errors=True)
    return path


def firmware_key(context, files, *flag_sets):
    """The cache key of an image: what it is built on (`context`), its sources and flags, and the harness's files."""
    digest = hashlib.sha256(f"{FIRMWARE_FORMAT}\0{context}\0{flag_sets}".encode())
    for name in sorted(files):
        digest.update(f"\0{name}\0{files[name]}".encode())
    for path in sorted(NATIVE.iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:20]


class build_directory:
    """A temporary directory beside `folder`, renamed onto it when the block succeeds, deleted otherwise."""

    def __init__(self, folder):
        self.folder = folder

    def __enter__(self):
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        self.temporary = pathlib.Path(tempfile.mkdtemp(prefix=f".{self.folder.name}.", dir=self.folder.parent))
        return self.temporary

    def __exit__(self, kind, value, trace):
        if kind is None:
            os.chmod(self.temporary, atomic.default_mode(directory=True))
            try:
                os.rename(self.temporary, self.folder)
            except OSError:  # another process linked the same firmware first: theirs is as good
                shutil.rmtree(self.temporary, ignore_errors=True)
        else:
            shutil.rmtree(self.temporary, ignore_errors=True)
        return False


def prune(parent):
    """Keep the KEPT_FIRMWARE most recently used images, and no build a killed process left an hour ago."""
    ages = {}
    for path in parent.iterdir():
        try:
            ages[path] = time.time() - path.stat().st_mtime
        except FileNotFoundError:  # another process pruned it
            continue
    entries = sorted(ages, key=ages.get)
    finished = [path for path in entries if not path.name.startswith(".")]
    abandoned = [path for path in entries if path.name.startswith(".") and ages[path] > 3600]
    for path in finished[KEPT_FIRMWARE:] + abandoned:
        shutil.rmtree(path, ignore_errors=True)


PROJECT_MAINS = ("main.cc", "main.cpp", "camera_esp32.cc")  # the boards' own entry points and drivers


def build_project_firmware(project_dir, cpu, tflm_root=None, folder=None, progress=None):
    """An exported firmware project's common core (edgecnn_classifier, the model, its test input) linked with
    native/selftest_main.cc for `cpu`: the ELF the board's self-test runs as, under QEMU. Built in `folder`."""
    cores = sorted(pathlib.Path(project_dir).rglob("edgecnn_classifier.c*"))
    if not cores:
        raise UnsupportedModelError(f"{project_dir} is not an edgecnn firmware project (no edgecnn_classifier.cc)")
    sources_dir = cores[0].parent
    source_tree = tree.find_tree(tflm_root)
    tools = toolchain.arm_toolchain()
    compiled = library.library_for(source_tree, cpu, tools)
    resolver = (sources_dir / "op_resolver.h").read_text(encoding="utf-8")
    archives = compiled.archives(_RESOLVER_CALL.findall(resolver), progress=progress)
    cxx_flags = (*compiled.flags("c++"), *OWN_WARNINGS, f"-I{sources_dir}")
    c_flags = (*compiled.flags("c"), *OWN_WARNINGS)
    folder = pathlib.Path(folder)
    sources = [path for path in sorted(sources_dir.iterdir())
               if path.suffix in (".cc", ".cpp") and path.name not in PROJECT_MAINS]
    objects = [compile_source(tools.cxx, (*cxx_flags, "-x", "c++"), path, folder, cpu) for path in sources]
    objects.append(compile_source(tools.cxx, cxx_flags, NATIVE / "selftest_main.cc", folder, cpu))
    objects.extend(compile_source(tools.cc, c_flags, NATIVE / name, folder, cpu) for name in SUPPORT_SOURCES)
    elf = folder / "selftest.elf"
    link(tools, cpu, cxx_flags, objects, archives, elf)
    return elf


_RESOLVER_CALL = re.compile(r"resolver\.(Add\w+)\(\)")
