"""Atomic file writes: a temporary name in the same directory, then a rename.

An interrupted run never leaves a half-written model or report behind under the final name. The result gets
the permissions any other tool would give it (0666 or 0777 less the umask), not the temporary file's 0600, so a
service user on a board can read a deployed model.
"""

import contextlib
import functools
import os
import pathlib
import shutil
import tempfile

from edgecnn.errors import ConfigurationError


def check_parent_directory(path):
    """Fail clearly when the directory that should hold `path` does not exist."""
    parent = pathlib.Path(path).resolve().parent
    if not parent.is_dir():
        raise ConfigurationError(f"output directory does not exist: {parent} (for {path})")
    return parent


@functools.lru_cache(maxsize=1)
def process_umask():
    """This process's umask, read without changing it where Linux allows (os.umask sets it to read it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_mode(directory=False):
    return (0o777 if directory else 0o666) & ~process_umask()


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; on success rename it onto `path`, on failure delete it.

    The temporary name keeps the final suffix, for writers (such as Keras) that insist on one.
    """
    path = pathlib.Path(path)
    parent = check_parent_directory(path)
    descriptor, temporary_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".part{path.suffix}", dir=parent)
    os.close(descriptor)
    temporary = pathlib.Path(temporary_name)
    os.chmod(temporary, default_mode())
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_bytes(path, data):
    """Write `data` to `path` atomically."""
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())


def write_text(path, text):
    """Write `text` (UTF-8) to `path` atomically."""
    write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_directory(path):
    """Yield a temporary directory beside `path`; on success it replaces `path` as a whole.

    An existing directory at `path` is kept until the new one is complete.
    """
    path = pathlib.Path(path)
    parent = check_parent_directory(path)
    temporary = pathlib.Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=parent))
    os.chmod(temporary, default_mode(directory=True))
    try:
        yield temporary
        if path.exists():
            old = pathlib.Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=parent))
            os.replace(path, old / path.name)
            os.replace(temporary, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(temporary, path)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
