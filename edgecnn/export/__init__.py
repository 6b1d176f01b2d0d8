"""Export a model for a target. `TARGETS` is the table of targets: name, description, what it runs, its options.

    from edgecnn import export
    export.export_model("model.tflite", "tflm", "out/")
"""

import dataclasses
import pathlib

from edgecnn import atomic
from edgecnn.errors import ConfigurationError, ModelFileError
from edgecnn.export import bundles, firmware
from edgecnn.registry import Registry


@dataclasses.dataclass(frozen=True)
class ExportTarget:
    """One `--target`: `run(model_path, out_dir, **options)` returns a result with `summary()`."""

    name: str
    description: str
    run: object = dataclasses.field(repr=False)
    options: tuple = ()  # the `export` options it takes, as keyword names


def _export_tflm(model_path, out_dir, name=None, legacy_names=False):
    from edgecnn.export import tflm

    sources = tflm.generate_tflm_sources(model_path, name=name, legacy_names=legacy_names)
    tflm.write_tflm_sources(sources, out_dir)
    return sources


def _export_c(model_path, out_dir):
    from edgecnn import codegen

    sources = codegen.generate_sources(model_path)  # every check first: a bad model writes nothing
    codegen.write_sources(sources, out_dir)
    return sources


def _firmware_target(spec):
    def export_firmware(model_path, out_dir, dataset=None, image_index=0, engine="tflm"):
        return firmware.export_firmware(
            model_path, out_dir, spec.name, dataset=dataset, image_index=image_index, engine=engine
        )

    return ExportTarget(spec.name, spec.description, export_firmware, ("dataset", "image_index", "engine"))


def _bundle_target(board):
    def export_bundle(model_path, out_dir, source=None, service=None, edgetpu_model=None):
        return bundles.export_bundle(
            model_path, out_dir, board.name, source=source, service=service or bundles.SERVICE_NAME,
            edgetpu_model=edgetpu_model,
        )

    return ExportTarget(board.name, f"bundle for {board.notes.split('.')[0]}", export_bundle,
                        ("source", "service", "edgetpu_model"))


TARGETS = Registry(
    "export target",
    [
        ExportTarget("tflm", "TFLite Micro sources: model array, op resolver, labels, arena size", _export_tflm,
                     ("name", "legacy_names")),
        ExportTarget("c", "portable C99 (edgecnn's compiler, bit-exact with TFLite Micro): no interpreter, one arena",
                     _export_c),
        *(_firmware_target(spec) for spec in firmware.FIRMWARE_TARGETS),
        *(_bundle_target(board) for board in bundles.BOARDS),
    ],
)


def export_model(model_path, target, out_dir, **options):
    """Write the files of `target` for the model at `model_path` into `out_dir`.

    Options left at None are dropped; an option the target does not take is a ConfigurationError.
    """
    spec = TARGETS.get(target)
    if not pathlib.Path(model_path).is_file():
        raise ModelFileError(f"model file not found: {model_path}")
    atomic.check_parent_directory(out_dir)
    given = {key: value for key, value in options.items() if value is not None}
    unknown = sorted(key for key in given if key not in spec.options)
    if unknown:
        names = ", ".join("--" + key.replace("_", "-") for key in unknown)
        raise ConfigurationError(f"{names} does not apply to --target {spec.name}")
    return spec.run(model_path, out_dir, **given)
