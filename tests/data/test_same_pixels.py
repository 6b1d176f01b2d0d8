"""Training, calibration, the report and verify feed a model exactly the same pixels for the same photo."""

import numpy as np
from click.testing import CliRunner
from PIL import Image

from edgecnn.cli import main
from edgecnn.data import Preprocessing, decode, files

MODEL = Preprocessing(24, 24, 3)
CLASSES = ("apple", "pear", "plum")


def photo_folder(root):
    """Twelve 640x480 JPEGs (decoded at 1/8 for a 24x24 model), some stored sideways with an EXIF orientation."""
    rng = np.random.default_rng(4)
    rows, columns = np.mgrid[0:480, 0:640].astype(np.float32)
    for label, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        for index in range(4):
            base = np.stack([columns / 640 * 255, rows / 480 * 255, np.full_like(rows, 80 * label)], axis=2)
            pixels = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
            exif = Image.Exif()
            exif[decode.EXIF_ORIENTATION] = (1, 6, 3, 8)[index]
            Image.fromarray(pixels).save(root / name / f"{index}.jpg", quality=85, exif=exif.tobytes())
    return root


def rows_match(inputs, references):
    """Every row of `inputs` is exactly one of `references`' rows."""
    flat = {row.tobytes() for row in references.reshape(len(references), -1)}
    return len(inputs) > 0 and all(row.tobytes() in flat for row in np.asarray(inputs).reshape(len(inputs), -1))


def test_every_stage_sees_the_same_pixels(tmp_path, monkeypatch):
    import keras

    from edgecnn import verify
    from edgecnn.quantize import converter, float_models

    root = photo_folder(tmp_path / "fruit")
    paths = sorted(str(path) for path in root.rglob("*.jpg"))
    reference = {path: decode.read_image(path, MODEL) for path in paths}
    stacked = np.stack([reference[path] for path in paths])
    assert not np.array_equal(stacked[0], MODEL.prepare_pixels([decode.read_native(paths[0])])[0])

    model = keras.Sequential([keras.Input(MODEL.input_shape), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3),
                              keras.layers.Softmax()])
    model.save(tmp_path / "fruit.keras")

    gathered = []
    original_gather = files.FileDataset.gather

    def recording_gather(self, positions):
        pixels = original_gather(self, positions)
        gathered.extend(zip((self._paths[position] for position in positions), pixels))
        return pixels

    monkeypatch.setattr(files.FileDataset, "gather", recording_gather)
    result = CliRunner().invoke(main, ["train", str(tmp_path / "fruit.keras"), "--dataset", str(root),
                                       "--epochs", "1", "--batch-size", "4", "--out", str(tmp_path / "trained")])
    assert result.exit_code == 0, result.output
    assert len({path for path, _ in gathered}) == 12  # train, validation and test images all went through it
    assert all(np.array_equal(pixels, reference[path]) for path, pixels in gathered)

    calibrations = []
    original_convert = converter.quantize_keras_model

    def recording_convert(keras_model, calibration_inputs=None, *arguments, **options):
        if calibration_inputs is not None:
            calibrations.append(np.asarray(calibration_inputs))
        return original_convert(keras_model, calibration_inputs, *arguments, **options)

    monkeypatch.setattr(converter, "quantize_keras_model", recording_convert)
    tflite = tmp_path / "fruit_int8.tflite"
    result = CliRunner().invoke(main, ["quantize", str(tmp_path / "trained" / "model.keras"), "--calibration",
                                       str(root), "--split", "all", "--out", str(tflite)])
    assert result.exit_code == 0, result.output
    assert "calibrated on 12 images of" in result.output
    assert len(calibrations[0]) == 12 and rows_match(calibrations[0], MODEL.scale_pixels(stacked))

    evaluated = []
    original_predict = float_models.FloatModel.predict
    monkeypatch.setattr(float_models.FloatModel, "predict",
                        lambda model, inputs: evaluated.append(inputs) or original_predict(model, inputs))
    result = CliRunner().invoke(main, ["report", "--float", str(tmp_path / "trained" / "model.keras"),
                                       "--quantized", str(tflite), "--dataset", str(root),
                                       "--out", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    assert "evaluated 12 images of" in result.output and "(split all)" in result.output  # a plain folder: all
    assert np.array_equal(np.concatenate(evaluated), MODEL.scale_pixels(stacked))

    interpreter = verify.load_interpreter(str(tflite), "tflite")
    inputs = verify.dataset_inputs(interpreter, str(root), count=100, seed=0)
    assert inputs.count == 12 and "12 images of" in inputs.description
    assert rows_match(inputs.floats[0], MODEL.scale_pixels(stacked))
