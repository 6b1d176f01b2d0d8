"""Export a model for a target. Targets register themselves in TARGETS: name -> function(model, out, options).

    from edgecnn import export
    export.export_model("model.tflite", "tflm", "out/")
"""

import inspect
import pathlib

from edgecnn import atomic
from edgecnn.errors import ConfigurationError, ModelFileError


def _export_tflm(model_path, out_dir, name=None, legacy_names=False):
    from edgecnn.export import tflm

    sources = tflm.generate_tflm_sources(model_path, name=name, legacy_names=legacy_names)
    tflm.write_tflm_sources(sources, out_dir)
    return sources


def _firmware_target(target_name):
    def export_firmware(model_path, out_dir, dataset=None, image_index=0):
        from edgecnn.export import firmware

        return firmware.export_firmware(
            model_path, out_dir, target_name, dataset=dataset, image_index=image_index
        )

    return export_firmware


def _bundle_target(board_name):
    def export_bundle(model_path, out_dir, source=None, service=None, edgetpu_model=None):
        from edgecnn.export import bundles

        return bundles.export_bundle(
            model_path,
            out_dir,
            board_name,
            source=source,
            service=service or bundles.SERVICE_NAME,
            edgetpu_model=edgetpu_model,
        )

    return export_bundle


TARGETS = {
    "tflm": _export_tflm,
    "platformio-esp32s3": _firmware_target("platformio-esp32s3"),
    "platformio-nano33ble": _firmware_target("platformio-nano33ble"),
    "arduino": _firmware_target("arduino"),
    "esp-idf": _firmware_target("esp-idf"),
    "pi": _bundle_target("pi"),
    "coral-devboard": _bundle_target("coral-devboard"),
}


def export_model(model_path, target, out_dir, **options):
    """Write the files of `target` for the model at `model_path` into `out_dir`.

    Options left at None are dropped; an option the target does not take is a ConfigurationError.
    """
    if target not in TARGETS:
        raise ConfigurationError(f"unknown export target {target!r}; available: {', '.join(sorted(TARGETS))}")
    if not pathlib.Path(model_path).is_file():
        raise ModelFileError(f"model file not found: {model_path}")
    atomic.check_parent_directory(out_dir)
    function = TARGETS[target]
    accepted = inspect.signature(function).parameters
    given = {key: value for key, value in options.items() if value is not None}
    unknown = sorted(key for key in given if key not in accepted)
    if unknown:
        names = ", ".join("--" + key.replace("_", "-") for key in unknown)
        raise ConfigurationError(f"{names} does not apply to --target {target}")
    return function(model_path, out_dir, **given)
