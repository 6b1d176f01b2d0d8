import gzip
import warnings

import numpy as np
import pytest
from PIL import Image

from edgecnn.data import Preprocessing, idx, list_datasets, load_dataset
from edgecnn.errors import ConfigurationError, DatasetError


def test_mnist_sample_is_the_real_test_set_split_8000_2000():
    every = load_dataset("mnist-sample", split="all")
    assert every.images.shape == (10000, 28, 28, 1) and every.images.dtype == np.uint8
    # The label counts of the real MNIST t10k set.
    assert np.bincount(every.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    train, test = load_dataset("mnist-sample", split="train"), load_dataset("mnist-sample", split="test")
    assert (len(train), len(test)) == (8000, 2000)
    again = load_dataset("mnist-sample", split="test")
    assert np.array_equal(test.labels, again.labels) and np.array_equal(test.images, again.images)
    merged = np.concatenate([train.images, test.images]).reshape(10000, -1)
    assert len(np.unique(merged, axis=0)) == len(np.unique(every.images.reshape(10000, -1), axis=0))


def test_shapes_are_seeded_and_balanced():
    first, second = load_dataset("shapes", split="test"), load_dataset("shapes", split="test")
    assert first.images.shape == (600, 64, 64, 3)
    assert np.array_equal(first.images, second.images)
    assert first.class_names == ["circle", "square", "triangle"]
    assert np.bincount(first.labels).min() > 160
    assert not np.array_equal(first.images[:10], load_dataset("shapes", split="train").images[:10])


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(DatasetError) as error:
        load_dataset("imagenet")
    for name in list_datasets():
        assert name in str(error.value)


def test_folder_dataset_reads_classes_skips_unreadable_and_resizes(tmp_path):
    rng = np.random.default_rng(0)
    for class_name in ("cat", "dog"):
        (tmp_path / class_name).mkdir()
        for index in range(5):
            pixels = rng.integers(0, 256, (20 + index, 30, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / class_name / f"{index}.png")
    (tmp_path / "dog" / "broken.jpg").write_bytes(b"not a jpeg")
    preprocessing = Preprocessing(16, 16, 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = load_dataset(str(tmp_path), preprocessing=preprocessing, split="all")
    assert any("skipped 1 unreadable" in str(warning.message) for warning in caught)
    assert dataset.class_names == ["cat", "dog"]
    assert dataset.images.shape == (10, 16, 16, 1)
    assert np.bincount(dataset.labels).tolist() == [5, 5]
    train = load_dataset(str(tmp_path), preprocessing=preprocessing, split="train")
    test = load_dataset(str(tmp_path), preprocessing=preprocessing, split="test")
    assert (len(train), len(test)) == (8, 2)


def test_folder_dataset_errors_name_the_path(tmp_path):
    with pytest.raises(DatasetError, match="does not exist: .*missing"):
        load_dataset(str(tmp_path / "missing"))
    with pytest.raises(DatasetError, match="no class sub-folders"):
        load_dataset(str(tmp_path))
    (tmp_path / "empty_class").mkdir()
    (tmp_path / "empty_class" / "notes.txt").write_text("hi")
    with pytest.raises(DatasetError, match="no readable images"):
        load_dataset(str(tmp_path))


def test_keras_sets_read_the_cache_and_explain_where_to_put_files(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    images = np.arange(5 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(5, 28, 28)
    np.savez(datasets / "mnist.npz", x_train=images, y_train=np.arange(5), x_test=images[:2], y_test=np.arange(2))
    mnist = load_dataset("mnist", split="train")
    assert mnist.images.shape == (5, 28, 28, 1) and mnist.labels.tolist() == [0, 1, 2, 3, 4]
    import keras

    def offline():
        raise OSError("URL fetch failure: network is unreachable")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    with pytest.raises(DatasetError, match=r"could not be downloaded .*put the file at .*fashion-mnist"):
        load_dataset("fashion-mnist")


def test_idx_reader_checks_magic_and_size(tmp_path):
    path = tmp_path / "labels.gz"
    with gzip.open(path, "wb") as handle:
        handle.write((2049).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes([1, 2, 3]))
    assert idx.read_idx(path, idx.LABEL_MAGIC).tolist() == [1, 2, 3]
    with pytest.raises(DatasetError, match="magic"):
        idx.read_idx(path, idx.IMAGE_MAGIC)
    with gzip.open(path, "wb") as handle:
        handle.write((2049).to_bytes(4, "big") + (5).to_bytes(4, "big") + bytes([1, 2, 3]))
    with pytest.raises(DatasetError, match="header promises"):
        idx.read_idx(path, idx.LABEL_MAGIC)


def test_preprocessing_converts_resizes_and_scales():
    rgb = np.zeros((10, 20, 3), np.uint8)
    rgb[..., 0] = 255
    gray = Preprocessing(5, 10, 1).apply([rgb])
    assert gray.shape == (1, 5, 10, 1) and gray.dtype == np.float32
    assert np.allclose(gray, round(0.299 * 255) / 255, atol=1e-6)
    normalized = Preprocessing(10, 20, 3, scale=1.0, mean=(255, 0, 0), std=(2, 2, 2)).apply([rgb])
    assert np.allclose(normalized, 0.0)
    three = Preprocessing(4, 4, 3).prepare_pixels([np.full((4, 4, 1), 7, np.uint8)])
    assert three.shape == (1, 4, 4, 3) and (three == 7).all()
    round_trip = Preprocessing.from_dict(Preprocessing(8, 9, 3, 0.5, (1, 2, 3), (4, 5, 6)).to_dict())
    assert round_trip == Preprocessing(8, 9, 3, 0.5, (1.0, 2.0, 3.0), (4.0, 5.0, 6.0))


def test_channels_first_layout_is_read_guessed_and_encoded():
    from edgecnn.data.encoding import InputEncoder
    from edgecnn.data.preprocessing import detect_layout

    nchw = Preprocessing(4, 5, 3, mean=(0.5,), layout="nchw")
    assert nchw.input_shape == (4, 5, 3) and nchw.tensor_shape == (3, 4, 5)
    assert Preprocessing.from_dict(nchw.to_dict()) == nchw
    assert Preprocessing.from_dict({"height": 4, "width": 5, "channels": 3}).layout == "nhwc"  # older metadata
    # Without metadata: channels-first only when the last axis cannot be the channels.
    assert [detect_layout(shape) for shape in [(1, 3, 224, 224), (1, 224, 224, 3), (1, 1, 28, 28), (1, 3, 8, 3)]] == [
        "nchw", "nhwc", "nchw", "nhwc"]
    guessed = Preprocessing.for_input_shape((1, 1, 28, 32))
    assert (guessed.height, guessed.width, guessed.channels, guessed.layout) == (28, 32, 1, "nchw")
    pixels = np.random.default_rng(0).integers(0, 256, (2, 4, 5, 3), dtype=np.uint8)
    channels_last = InputEncoder(Preprocessing(4, 5, 3, mean=(0.5,)), np.int8, 1 / 255, -128)
    channels_first = InputEncoder(nchw, np.int8, 1 / 255, -128)
    encoded = channels_first.encode_pixels(pixels)
    assert encoded.shape == (2, 3, 4, 5) and encoded.flags.c_contiguous
    assert np.array_equal(encoded, np.moveaxis(channels_last.encode_pixels(pixels), -1, 1))
    assert np.array_equal(channels_first.floats(pixels), np.moveaxis(channels_last.floats(pixels), -1, 1))
    with pytest.raises(ConfigurationError, match="unknown input layout"):
        Preprocessing(4, 4, 1, layout="chw")


def test_preprocessing_rejects_bad_settings():
    with pytest.raises(ConfigurationError, match="1 or 3 values"):
        Preprocessing(4, 4, 3, mean=(0.1, 0.2))
    with pytest.raises(ConfigurationError, match="must not be 0"):
        Preprocessing(4, 4, 1, std=(0,))
    with pytest.raises(ConfigurationError, match="uint8"):
        Preprocessing(4, 4, 1).apply([np.zeros((4, 4), np.float32)])
