"""What gets copied to a board: a bundle directory (with or without manifest.json), or a single file.

A manifest written by `edgecnn export --target pi|coral-devboard` looks like
{"model": "model.tflite", "service": "edgecnn-classify", "files": {"model.tflite": "<sha256>", ...}}.
Its hashes are checked here, before any board is touched, so a corrupt bundle never reaches a fleet.
"""

import dataclasses
import hashlib
import json
import pathlib
import re

from edgecnn.errors import ConfigurationError, DeployError
from edgecnn.export.bundles import MANIFEST_NAME

CHUNK_BYTES = 1 << 20

# Remote commands quote every path, but names are also kept plain so sha256sum never escapes them.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_+-][A-Za-z0-9._+-]*(/[A-Za-z0-9_+-][A-Za-z0-9._+-]*)*$")


@dataclasses.dataclass(frozen=True)
class BundleFile:
    """One file to copy: its name relative to the remote directory, local path, SHA-256, size and mode."""

    name: str
    path: pathlib.Path
    sha256: str
    size: int
    executable: bool


@dataclasses.dataclass(frozen=True)
class Bundle:
    """The files of a bundle, the model among them (copied last) and the service that serves it."""

    source: pathlib.Path
    files: tuple
    model: str = None
    service: str = None
    target: str = None

    @property
    def total_bytes(self):
        return sum(bundle_file.size for bundle_file in self.files)


def file_sha256(path):
    """The hex SHA-256 of a file, read in chunks so large models do not fill memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _check_name(name, source):
    if not _SAFE_NAME.match(name):
        raise ConfigurationError(
            f"bundle file name {name!r} in {source} is not a plain relative path "
            "(letters, digits, . _ + - and /; no leading dot, no ..)"
        )


def _bundle_file(name, path):
    stat = path.stat()
    return BundleFile(name=name, path=path, sha256=file_sha256(path), size=stat.st_size,
                      executable=bool(stat.st_mode & 0o111))


def _read_manifest(directory):
    manifest_path = directory / MANIFEST_NAME
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigurationError(f"cannot read bundle manifest {manifest_path}: {error}") from error
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise ConfigurationError(f"bundle manifest {manifest_path} has no \"files\" object of name -> sha256")
    return manifest


def _load_manifest_bundle(directory):
    manifest = _read_manifest(directory)
    files = []
    for name, expected in sorted(manifest["files"].items()):
        _check_name(name, directory / MANIFEST_NAME)
        path = directory / name
        if not path.is_file():
            raise ConfigurationError(f"bundle file {path} is listed in {MANIFEST_NAME} but missing")
        bundle_file = _bundle_file(name, path)
        if isinstance(expected, str) and bundle_file.sha256 != expected.lower():
            raise DeployError(
                f"bundle file {path} does not match its SHA-256 in {MANIFEST_NAME} "
                f"({bundle_file.sha256[:12]}... != {expected[:12]}...): the bundle is corrupt or was edited"
            )
        files.append(bundle_file)
    if MANIFEST_NAME not in manifest["files"]:
        files.append(_bundle_file(MANIFEST_NAME, directory / MANIFEST_NAME))
    model = manifest.get("model")
    if model is not None and model not in manifest["files"]:
        raise ConfigurationError(
            f"{directory / MANIFEST_NAME} names model {model!r}, which is not in its files"
        )
    return Bundle(source=directory, files=tuple(files), model=model, service=manifest.get("service"),
                  target=manifest.get("target"))


def _guess_model(names):
    models = [name for name in names if name.endswith(".tflite")]
    return models[0] if len(models) == 1 else None


def load_bundle(path):
    """Read a bundle directory (manifest.json optional) or a single file, with every file's SHA-256."""
    path = pathlib.Path(path)
    if path.is_file():
        _check_name(path.name, path.parent)
        files = (_bundle_file(path.name, path),)
        return Bundle(source=path, files=files, model=_guess_model([path.name]))
    if not path.is_dir():
        raise ConfigurationError(
            f"bundle not found: {path} (expected a directory from `edgecnn export` or a file)"
        )
    if (path / MANIFEST_NAME).is_file():
        return _load_manifest_bundle(path)
    # Without a manifest: every visible top-level file, as-is.
    names = sorted(child.name for child in path.iterdir()
                   if child.is_file() and not child.name.startswith("."))
    if not names:
        raise ConfigurationError(f"bundle directory {path} has no files to deploy")
    for name in names:
        _check_name(name, path)
    files = tuple(_bundle_file(name, path / name) for name in names)
    return Bundle(source=path, files=files, model=_guess_model(names))


def ordered_files(bundle):
    """The bundle's files with the model last, so a board swaps its model only once the rest is in place."""
    return sorted(bundle.files, key=lambda bundle_file: (bundle_file.name == bundle.model, bundle_file.name))
