"""TFLite Micro compiled for one CPU, cached under the user's cache directory and reused by every later run.

The cache is ($XDG_CACHE_HOME or ~/.cache)/edgecnn/tflm/<cpu>-<kernels>-<key>, the key a hash of the tree
(path and a fingerprint of its files), the CPU, the kernels, the compiler's version and the flags. Inside, each
unit (the interpreter core, and one per kernel file) is one static library in units/<name>/lib.a: a model whose
ops are already there links at once, a new op compiles only its kernel (CMSIS-NN's C files, in a tree that has
them, are a unit of their own, which edgecnn's generated C links too). A unit is built in a temporary
directory and renamed into place, under a lock, so two processes never build the same unit twice and an
interrupted build leaves nothing behind that a later run would take.
"""

import concurrent.futures
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

from edgecnn import atomic
from edgecnn.errors import ConfigurationError, ExternalToolError

LIBRARY_FORMAT = 1  # part of the key: raise it when the way units are built changes
COMMON_FLAGS = ("-DTF_LITE_STATIC_MEMORY", "-DTF_LITE_DISABLE_X86_NEON", "-ffunction-sections", "-fdata-sections",
                "-fno-unwind-tables", "-fno-asynchronous-unwind-tables", "-fmessage-length=0")
# What the library and the firmware are optimised for: -O2 (TFLite Micro's own default) or -Os, as product
# images often are; part of the cache key.
OPTIMIZATIONS = {"speed": "-O2", "size": "-Os"}
DEFAULT_OPTIMIZATION = "speed"
CXX_FLAGS = ("-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics")
C_FLAGS = ("-std=c17",)
CORTEX_M_FLAGS = ("-funsigned-char", "-fomit-frame-pointer", "-DTF_LITE_MCU_DEBUG_LOG")
HOST_FLAGS = ("-DTF_LITE_USE_CTIME",)
CORE_UNIT = "core"
CMSIS_NN_UNIT = "cmsis_nn"


def optimization_flag(optimization=None):
    """The -O flag of an optimisation name ("speed" or "size"; None is the default)."""
    name = optimization or DEFAULT_OPTIMIZATION
    if name not in OPTIMIZATIONS:
        raise ConfigurationError(f"unknown optimisation {name!r}; choose one of {', '.join(OPTIMIZATIONS)}")
    return OPTIMIZATIONS[name]


def compiler_flags(tree, cpu=None, language="c++", optimization=None):
    """The flags TFLite Micro and the programs using it compile with: for `cpu` (a CpuSpec), or the host."""
    target = (*cpu.compile_flags, *CORTEX_M_FLAGS) if cpu is not None else HOST_FLAGS
    language_flags = CXX_FLAGS if language == "c++" else C_FLAGS
    return (*language_flags, *COMMON_FLAGS, optimization_flag(optimization), *target, *tree.defines(),
            *tree.include_flags())


def cache_root():
    """($XDG_CACHE_HOME or ~/.cache)/edgecnn/tflm; a relative XDG_CACHE_HOME is ignored, as the spec says."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    folder = pathlib.Path(base) if os.path.isabs(base) else pathlib.Path.home() / ".cache"
    return folder / "edgecnn" / "tflm"


@dataclasses.dataclass(frozen=True)
class Library:
    """The cached TFLite Micro of one tree, CPU and compiler."""

    tree: object  # tree.TflmTree
    cpu: object  # cpus.CpuSpec
    toolchain: object  # toolchain.ArmToolchain
    directory: pathlib.Path
    optimization: str = DEFAULT_OPTIMIZATION

    @property
    def kernels(self):
        return self.tree.kernels

    def flags(self, language):
        return compiler_flags(self.tree, self.cpu, language, self.optimization)

    def archives(self, methods, progress=None, jobs=None):
        """The static libraries to link for the resolver `methods`, compiling the ones not cached yet."""
        units = {_unit_name(CORE_UNIT, self.tree.core_sources()): self.tree.core_sources()}
        if self.tree.cmsis_nn_sources():
            units[_unit_name(CMSIS_NN_UNIT, self.tree.cmsis_nn_sources())] = self.tree.cmsis_nn_sources()
        for method in methods:
            unit = self.tree.kernel_unit(method)
            units[_unit_name(unit.name, unit.sources)] = unit.sources
        return self._built_units(units, progress, jobs)

    def cmsis_nn_archive(self, progress=None, jobs=None):
        """CMSIS-NN's C files alone as one static library (compiled once), for edgecnn's generated C."""
        sources = self.tree.cmsis_nn_sources()
        return self._built_units({_unit_name(CMSIS_NN_UNIT, sources): sources}, progress, jobs)[0]

    def _built_units(self, units, progress, jobs):
        paths = [self.directory / "units" / name / "lib.a" for name in units]
        missing = {name: sources for name, sources in units.items() if not self._built(name)}
        if missing:
            with self._locked():
                missing = {name: sources for name, sources in missing.items() if not self._built(name)}
                if missing:
                    self._announce(missing, progress)
                    for name, sources in missing.items():
                        self._build_unit(name, sources, jobs)
        return paths

    def _built(self, name):
        return (self.directory / "units" / name / "lib.a").is_file()

    @contextlib.contextmanager
    def _locked(self):
        (self.directory / "units").mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".lock", "a+") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                _stderr_line(f"edgecnn: waiting for another process compiling TFLite Micro into {self.directory}")
                fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                # Holding the lock, nobody else is building: what a killed build left behind can go.
                for leftover in (self.directory / "units").glob(".*"):
                    shutil.rmtree(leftover, ignore_errors=True)
                info = self.directory / "library.json"
                if not info.is_file():
                    atomic.write_text(info, json.dumps(self.description(), indent=1) + "\n")
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def description(self):
        return {
            "tree": str(self.tree.root),
            "cpu": self.cpu.name,
            "kernels": self.kernels,
            "compiler": self.toolchain.version,
            "c++ flags": list(self.flags("c++")),
            "c flags": list(self.flags("c")),
        }

    def _announce(self, missing, progress):
        files = sum(len(sources) for sources in missing.values())
        names = [name.rsplit("-", 1)[0] for name in missing]
        parts = ["the interpreter core"] if CORE_UNIT in names else []
        if CMSIS_NN_UNIT in names:
            parts.append("CMSIS-NN")
        kernels = sorted(name for name in names if name not in (CORE_UNIT, CMSIS_NN_UNIT))
        if kernels:
            parts.append("kernels " + ", ".join(kernels))
        write = progress or _stderr_line
        write(
            f"edgecnn: compiling TFLite Micro for {self.cpu.name} ({self.kernels} kernels): {' and '.join(parts)}, "
            f"{files} files from {self.tree.root}; once, cached in {self.directory}"
            + (" (a few minutes)" if {CORE_UNIT, CMSIS_NN_UNIT} & set(names) else "")
        )

    def _build_unit(self, name, sources, jobs):
        units = self.directory / "units"
        temporary = pathlib.Path(tempfile.mkdtemp(prefix=f".{name}.", dir=units))
        try:
            objects = _compile_all(self, sources, temporary, jobs)
            _run([self.toolchain.ar, "rcs", str(temporary / "lib.a"), *map(str, objects)], "archiving", self)
            for path in objects:
                path.unlink()
            os.chmod(temporary, atomic.default_mode(directory=True))
            os.rename(temporary, units / name)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise


def _unit_name(name, sources):
    """The unit's folder name: its name and a hash of its file list, so a changed list is a new unit."""
    return f"{name}-{hashlib.sha256(chr(0).join(sources).encode()).hexdigest()[:10]}"


def library_for(tree, cpu, toolchain, optimization=None):
    """The Library of `tree` for `cpu` built with `toolchain` (nothing is compiled until archives())."""
    optimization = optimization or DEFAULT_OPTIMIZATION
    optimization_flag(optimization)
    description = {
        "format": LIBRARY_FORMAT,
        "tree": str(tree.root),
        "fingerprint": tree.fingerprint(),
        "cpu": cpu.name,
        "kernels": tree.kernels,
        "compiler": toolchain.version,
        "c++": compiler_flags(tree, cpu, "c++", optimization),
        "c": compiler_flags(tree, cpu, "c", optimization),
    }
    key = hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()[:16]
    suffix = "" if optimization == DEFAULT_OPTIMIZATION else f"-{optimization}"
    return Library(tree, cpu, toolchain, cache_root() / f"{cpu.name}-{tree.kernels}{suffix}-{key}", optimization)


def _compile_all(library, sources, folder, jobs):
    jobs = jobs or max(1, len(os.sched_getaffinity(0)))
    tasks = [(source, folder / (source.replace("/", "_").rsplit(".", 1)[0] + ".o")) for source in sources]
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_compile_one, library, source, output) for source, output in tasks]
        try:
            for future in concurrent.futures.as_completed(futures):
                future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return [output for _, output in tasks]


def _compile_one(library, source, output):
    language = "c" if source.endswith(".c") else "c++"
    compiler = library.toolchain.cc if language == "c" else library.toolchain.cxx
    flags = library.flags(language)
    _run([compiler, *flags, "-c", str(library.tree.root / source), "-o", str(output)], source, library)


def _run(command, what, library):
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ExternalToolError(
            f"TFLite Micro tree {library.tree.root} does not compile for {library.cpu.name} "
            f"({library.toolchain.version}): {what}: {first_error(result.stderr or result.stdout)}"
        )


def first_error(text):
    """The compiler's first error line (else its first line), without the build directory's noise."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("collect2")]
    for marker in ("error:", "undefined reference", "error"):
        for line in lines:
            if marker in line.lower():
                return line
    return lines[0] if lines else "no output"


def _stderr_line(text):
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
