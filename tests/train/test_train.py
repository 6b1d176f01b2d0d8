import json

import numpy as np
from click.testing import CliRunner

from edgecnn.cli import main


def test_training_writes_every_output(trained_lenet):
    directory = trained_lenet["dir"]
    for name in ("model.keras", "labels.txt", "history.json", "training_curves.png", "preprocessing.json"):
        assert (directory / name).stat().st_size > 0, name
    assert (directory / "labels.txt").read_text().split() == [str(digit) for digit in range(10)]
    record = json.loads((directory / "history.json").read_text())
    assert len(record["history"]["loss"]) == 2 and "val_accuracy" in record["history"]
    assert (directory / "training_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    settings = json.loads((directory / "preprocessing.json").read_text())
    assert settings["preprocessing"]["height"] == 28 and settings["model"] == "lenet5"
    # Two epochs on 7,200 digits is far above the 10% of chance.
    assert trained_lenet["test_accuracy"] > 0.85


def test_same_seed_gives_same_weights(tmp_path):
    from edgecnn.artifacts import load_keras_model

    runs = []
    for name, seed in (("first", 3), ("second", 3), ("third", 4)):
        result = CliRunner().invoke(main, ["train", "tiny_vgg", "--dataset", str(_tiny_folder(tmp_path)),
                                           "--epochs", "1", "--input-size", "16x16", "--seed", str(seed),
                                           "--augment", "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        runs.append(load_keras_model(tmp_path / name / "model.keras").get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(runs[0], runs[1]))
    assert not all(np.array_equal(a, b) for a, b in zip(runs[0], runs[2]))


def _tiny_folder(tmp_path):
    from PIL import Image

    from edgecnn.data import load_dataset

    folder = tmp_path / "tiny"
    if not folder.exists():
        shapes = load_dataset("shapes", split="test")
        for index in range(60):
            class_folder = folder / shapes.class_names[shapes.labels[index]]
            class_folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(shapes.images[index]).save(class_folder / f"{index}.png")
    return folder


def test_bad_training_requests_fail_in_one_line(tmp_path):
    cases = [
        (["train", "lenet6", "--dataset", "mnist-sample"], "unknown model 'lenet6'; valid models: alexnet"),
        (["train", "lenet5", "--dataset", "mnist-sample", "--input-size", "4x4"], "lenet5"),
        (["train", "lenet5", "--dataset", "mnist-sample", "--input-size", "big"], "--input-size must look like"),
        (["train", "lenet5", "--dataset", "imagenet"], "unknown dataset 'imagenet'"),
        (["train", "lenet5", "--dataset", str(tmp_path / "nowhere")], "dataset folder does not exist"),
    ]
    for arguments, expected in cases:
        result = CliRunner().invoke(main, arguments + ["--epochs", "1", "--out", str(tmp_path / "run")])
        assert result.exit_code != 0, arguments
        assert result.output.startswith("error: ") and expected in result.output, result.output
        assert result.output.count("\n") == 1, result.output
    result = CliRunner().invoke(main, ["train", "lenet5", "--dataset", "mnist-sample",
                                       "--out", str(tmp_path / "missing" / "run")])
    assert result.exit_code != 0 and "output directory does not exist" in result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == []


def test_training_a_keras_model_file_continues_from_its_weights(trained_lenet, tmp_path):
    import shutil

    own = tmp_path / "my_model.keras"
    shutil.copy(trained_lenet["keras"], own)  # without its preprocessing.json: a model edgecnn did not train
    out = tmp_path / "tuned"
    result = CliRunner().invoke(main, ["train", str(own), "--dataset", "mnist-sample", "--limit", "500",
                                       "--epochs", "1", "--learning-rate", "1e-6", "--out", str(out)])
    assert result.exit_code == 0, result.output
    record = json.loads((out / "history.json").read_text())
    # One epoch on 450 digits at a tiny learning rate: only a model that started from trained weights is this good.
    assert record["test_accuracy"] > 0.85
    settings = json.loads((out / "preprocessing.json").read_text())
    assert settings["model"] == "my_model" and settings["preprocessing"]["height"] == 28
    assert (out / "labels.txt").read_text().split() == [str(digit) for digit in range(10)]


def test_a_logits_model_file_trains_and_mismatches_are_one_line(tmp_path):
    import keras

    logits = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(8, 3, activation="relu"),
                               keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])
    logits.save(tmp_path / "logits.keras")
    folder = _tiny_folder(tmp_path)
    result = CliRunner().invoke(main, ["train", str(tmp_path / "logits.keras"), "--dataset", str(folder),
                                       "--epochs", "3", "--learning-rate", "0.01", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    losses = json.loads((tmp_path / "out" / "history.json").read_text())["history"]["loss"]
    assert losses[-1] < losses[0]
    keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Flatten(), keras.layers.Dense(5)]).save(
        tmp_path / "five.keras")
    cases = [
        (["train", str(tmp_path / "five.keras")], "five.keras has 5 outputs but"),
        (["train", str(tmp_path / "logits.keras"), "--input-size", "32x32"], "takes 16x16 inputs"),
        (["train", str(tmp_path / "absent.keras")], "model file not found"),
    ]
    for arguments, expected in cases:
        result = CliRunner().invoke(main, arguments + ["--dataset", str(folder), "--out", str(tmp_path / "x")])
        assert result.exit_code == 2 and result.output.startswith("error: ") and expected in result.output, (
            arguments, result.output)
        assert result.output.count("\n") == 1


def test_a_split_layout_folder_trains_without_a_cache_and_leaves_nothing_behind(tmp_path):
    import os

    import keras
    from PIL import Image

    from edgecnn.data import load_dataset

    shapes = load_dataset("shapes", split="test")
    root = tmp_path / "shipped"
    for index in range(48):
        split = "val" if index % 4 == 0 else "train"
        target = root / split / shapes.class_names[shapes.labels[index]] / f"{index}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(shapes.images[index]).save(target)
    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3), keras.layers.Softmax()])
    model.save(tmp_path / "small.keras")
    shared_cache = os.environ["EDGECNN_IMAGE_CACHE"]
    before = sorted(os.listdir(shared_cache))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["train", str(tmp_path / "small.keras"), "--dataset", str(root),
                                       "--no-cache", "--epochs", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "trained on 36 images of" in result.output and "(split train)" in result.output
    assert json.loads((out / "history.json").read_text())["test_accuracy"] is not None  # on val/
    assert not (out / ".edgecnn-work").exists() and sorted(os.listdir(shared_cache)) == before
