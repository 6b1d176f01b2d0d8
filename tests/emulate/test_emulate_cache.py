"""The library cache, on a tiny tree laid out as create_tflm_tree.py lays one out (so each build takes seconds):
built once, announced once, never rebuilt, safe when two processes build at once, and nothing half-written
when a tree does not compile or a build was killed."""

import os
import pathlib
import subprocess
import sys

import pytest

from edgecnn.emulate import CPUS, library, toolchain, tree
from edgecnn.errors import ExternalToolError

RESOLVER = """class MicroMutableOpResolver {
 public:
  TfLiteStatus AddConv2D(
      const TFLMRegistration& registration = Register_CONV_2D()) {
    return AddBuiltin(BuiltinOperator_CONV_2D, registration, ParseConv2D);
  }
};
"""


def make_tree(root, broken=False):
    files = {
        "tensorflow/lite/micro/micro_interpreter.h": "",
        "tensorflow/lite/micro/micro_mutable_op_resolver.h": RESOLVER,
        "tensorflow/lite/schema/schema_generated.h": "",
        "third_party/flatbuffers/include/flatbuffers/flatbuffers.h": "",
        "tensorflow/lite/micro/micro_allocator.cc": "int CoreFunction() { return 1; }\n",
        "tensorflow/lite/micro/test_helpers.cc": "this file is never compiled\n",
        "tensorflow/lite/micro/kernels/conv.h": "struct TFLMRegistration {};\n",
        "tensorflow/lite/micro/kernels/conv.cc": '#include "tensorflow/lite/micro/kernels/conv.h"\n'
                                                 "TFLMRegistration Register_CONV_2D() { return {}; }\n",
        "tensorflow/lite/micro/kernels/conv_common.cc": "int ConvCommon() { return 2; }\n",
    }
    if broken:
        files["tensorflow/lite/micro/micro_interpreter.cc"] = "int broken( {\n"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tree.find_tree(root)


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch, emulator):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "edgecnn" / "tflm"


def test_built_once_announced_once_and_reused(tmp_path, fresh_cache):
    source = make_tree(tmp_path / "tree")
    assert source.kernels == "reference" and "tensorflow/lite/micro/test_helpers.cc" not in source.core_sources()
    assert source.kernel_unit("AddConv2D").sources == ("tensorflow/lite/micro/kernels/conv.cc",
                                                       "tensorflow/lite/micro/kernels/conv_common.cc")
    compiled = library.library_for(source, CPUS.get("cortex-m4"), toolchain.arm_toolchain())
    assert compiled.directory.parent == fresh_cache
    lines = []
    archives = compiled.archives(["AddConv2D"], progress=lines.append)
    assert all(path.is_file() for path in archives) and len(archives) == 2
    assert len(lines) == 1 and "compiling TFLite Micro for cortex-m4 (reference kernels)" in lines[0]
    assert "the interpreter core and kernels conv, 3 files" in lines[0]
    stamps = [path.stat().st_mtime_ns for path in archives]
    again = compiled.archives(["AddConv2D"], progress=lines.append)
    assert again == archives and [path.stat().st_mtime_ns for path in again] == stamps and len(lines) == 1
    # A changed tree is another library: the key holds a fingerprint of the tree's files.
    (tmp_path / "tree" / "tensorflow/lite/micro/micro_allocator.cc").write_text("int CoreFunction() { return 3; }\n")
    changed = library.library_for(tree.find_tree(tmp_path / "tree"), CPUS.get("cortex-m4"), toolchain.arm_toolchain())
    assert changed.directory != compiled.directory


def test_two_processes_building_at_once_build_each_unit_once(tmp_path, fresh_cache):
    make_tree(tmp_path / "tree")
    script = (
        "import sys\n"
        "from edgecnn.emulate import CPUS, library, toolchain, tree\n"
        "source = tree.find_tree(sys.argv[1])\n"
        "compiled = library.library_for(source, CPUS.get('cortex-m4'), toolchain.arm_toolchain())\n"
        "print(len(compiled.archives(['AddConv2D'])))\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(pathlib.Path(__file__).resolve().parents[2])}
    processes = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "tree")], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=environment) for _ in range(2)]
    results = [process.communicate(timeout=300) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], results
    assert [stdout.strip() for stdout, _ in results] == ["2", "2"]
    announcements = sum(stderr.count("edgecnn: compiling TFLite Micro") for _, stderr in results)
    waits = sum(stderr.count("edgecnn: waiting for another process") for _, stderr in results)
    assert announcements == 1 and waits <= 1, results
    units = sorted(path.name.rsplit("-", 1)[0] for path in fresh_cache.glob("*/units/*"))
    assert units == ["conv", "core"]


def test_tree_that_does_not_compile_is_one_line_and_leaves_nothing(tmp_path, fresh_cache):
    source = make_tree(tmp_path / "tree", broken=True)
    compiled = library.library_for(source, CPUS.get("cortex-m4"), toolchain.arm_toolchain())
    lines = []
    with pytest.raises(ExternalToolError) as caught:
        compiled.archives(["AddConv2D"], progress=lines.append)
    message = str(caught.value)
    assert "does not compile for cortex-m4" in message and "micro_interpreter.cc" in message and "\n" not in message
    assert lines and "compiling TFLite Micro" in lines[0]
    assert list(compiled.directory.glob("units/*")) == [] and list(compiled.directory.glob("units/.*")) == []


def test_what_a_killed_build_left_is_removed_before_the_next(tmp_path, fresh_cache):
    source = make_tree(tmp_path / "tree")
    compiled = library.library_for(source, CPUS.get("cortex-m4"), toolchain.arm_toolchain())
    leftover = compiled.directory / "units" / ".core-0123.abcd"
    leftover.mkdir(parents=True)
    (leftover / "micro_allocator.o").write_bytes(b"half an object")
    compiled.archives(["AddConv2D"])
    assert not leftover.exists()


def test_not_a_tree_and_a_checkout_are_told_apart(tmp_path):
    (tmp_path / "checkout" / "tensorflow/lite/micro/tools/project_generation").mkdir(parents=True)
    (tmp_path / "checkout" / "tensorflow/lite/micro/tools/project_generation/create_tflm_tree.py").write_text("")
    with pytest.raises(Exception, match="a tflite-micro checkout, not a generated tree"):
        tree.find_tree(tmp_path / "checkout")
    with pytest.raises(Exception, match="is not a TFLite Micro source tree"):
        tree.find_tree(tmp_path)
