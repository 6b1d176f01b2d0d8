"""The shared foundations: the registry idiom and atomic writes with ordinary permissions."""

import os
import stat

import pytest

from edgecnn import atomic
from edgecnn.errors import ConfigurationError
from edgecnn.registry import Registry


class Spec:
    def __init__(self, name, aliases=()):
        self.name = name
        self.aliases = aliases


def test_registry_keeps_order_resolves_aliases_and_names_the_choices():
    first, second = Spec("first", aliases=("one",)), Spec("second")
    table = Registry("widget", [first, second])
    assert list(table) == [first, second] and table.names() == ("first", "second")
    assert table.get("one") is first and table["second"] is second and "one" in table
    assert table.choices() == ("first", "second", "one")
    with pytest.raises(ConfigurationError, match="unknown widget 'third'; choose one of first, second"):
        table.get("third")
    with pytest.raises(ValueError, match="registered twice"):
        table.add(Spec("other", aliases=("first",)))


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("mask", [0o022, 0o002])
def test_written_files_and_directories_get_the_umask_permissions(tmp_path, mask, monkeypatch):
    monkeypatch.setattr(atomic, "process_umask", lambda: mask)
    atomic.write_text(tmp_path / "model.txt", "hello\n")
    with atomic.atomic_directory(tmp_path / "bundle") as folder:
        (folder / "inside.txt").write_text("x")
    assert stat.S_IMODE((tmp_path / "model.txt").stat().st_mode) == 0o666 & ~mask
    assert stat.S_IMODE((tmp_path / "bundle").stat().st_mode) == 0o777 & ~mask
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bundle", "model.txt"]


def test_the_umask_is_read_without_changing_it():
    atomic.process_umask.cache_clear()
    assert atomic.process_umask() == current_umask()


def test_long_runtime_errors_are_cut_to_their_first_distinct_sentences():
    from edgecnn.errors import short_reason

    repeated = "".join(
        f"quantized_dimension must be in range [0, 1). Was 3.Tensor {index} has invalid quantization parameters."
        for index in range(33, 90, 4)
    )
    assert short_reason(repeated) == (
        "quantized_dimension must be in range [0, 1). Was 3. Tensor 33 has invalid quantization parameters. "
        "(the same for 14 more)"
    )
    assert short_reason("Short enough. Kept as it is.") == "Short enough. Kept as it is."
    assert len(short_reason("word " * 400)) <= 240
