"""CNN Explainer's trained Tiny VGG loads into the zoo's tiny_vgg and classifies its sample images."""

import json
import os
import pathlib
import shutil

import numpy as np
import pytest
from PIL import Image

import edgecnn.zoo as zoo
from edgecnn.errors import ModelFileError

# A copy of ../shared/peers/cnn-explainer-tinyvgg (MIT, see its LICENSE), so a clone anywhere can run this.
PEER = pathlib.Path(__file__).resolve().parent / "cnn_explainer_tinyvgg"
PREFIX_TO_CLASS = {
    "boat": "lifeboat", "bug": "ladybug", "pizza": "pizza", "pepper": "bell pepper", "bus": "school bus",
    "koala": "koala", "espresso": "espresso", "panda": "red panda", "orange": "orange", "car": "sport car",
}


@pytest.fixture(scope="module")
def peer_directory():
    if not (PEER / "model.json").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CNN Explainer's Tiny VGG is missing at {PEER}")
        pytest.skip(f"CNN Explainer's Tiny VGG is not at {PEER}")
    return PEER


@pytest.fixture(scope="module")
def trained_tiny_vgg(peer_directory):
    return zoo.load_cnn_explainer_tinyvgg(peer_directory)


def load_sample_images(directory):
    paths = sorted((directory / "images").glob("*.jpeg"))
    images = np.stack([np.asarray(Image.open(path).convert("RGB"), np.float32) / 255.0 for path in paths])
    labels = [zoo.CNN_EXPLAINER_CLASS_NAMES.index(PREFIX_TO_CLASS[path.name.split("_")[0]]) for path in paths]
    return images, np.array(labels)


def test_parameter_count_equals_the_peer_manifest(peer_directory, trained_tiny_vgg):
    manifest = json.loads((peer_directory / "model.json").read_text())["weightsManifest"]
    peer_parameters = sum(int(np.prod(entry["shape"])) for group in manifest for entry in group["weights"])
    assert trained_tiny_vgg.count_params() == peer_parameters == 19_920
    assert (peer_directory / "group1-shard1of1.bin").stat().st_size == 4 * peer_parameters


def test_trained_tiny_vgg_classifies_the_sample_images(peer_directory, trained_tiny_vgg):
    images, labels = load_sample_images(peer_directory)
    assert images.shape == (20, 64, 64, 3)
    predictions = trained_tiny_vgg(images, training=False).numpy().argmax(axis=1)
    accuracy = float(np.mean(predictions == labels))
    # Measured: 14 of 20 (chance is 2 of 20). The network is CNN Explainer's small 10-class teaching model;
    # these are the images its web demo shows, including ones it gets wrong (e.g. koala_2, panda_5).
    assert accuracy >= 0.65, f"accuracy {accuracy:.2f}, predictions {predictions}, labels {labels}"


def test_keras_model_equals_a_numpy_forward_pass_of_the_raw_weights(peer_directory, trained_tiny_vgg):
    """TF.js layers format: conv kernels [kh, kw, in, out], flatten in (row, column, channel) order."""
    weights = zoo.read_tfjs_weights(peer_directory)
    images, _ = load_sample_images(peer_directory)
    images = images[:4]

    def conv_relu(x, name):
        kernel, bias = weights[f"{name}/kernel"], weights[f"{name}/bias"]
        windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))  # N, H', W', C, 3, 3
        return np.maximum(np.einsum("nhwcij,ijco->nhwo", windows, kernel) + bias, 0)

    def max_pool(x):
        n, h, w, c = x.shape
        return x[:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))

    x = max_pool(conv_relu(conv_relu(images, "conv_1_1"), "conv_1_2"))
    x = max_pool(conv_relu(conv_relu(x, "conv_2_1"), "conv_2_2"))
    logits = x.reshape(len(x), -1) @ weights["output/kernel"] + weights["output/bias"]
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(trained_tiny_vgg(images, training=False).numpy(), expected, atol=1e-5)


def test_truncated_or_missing_weights_fail_clearly(peer_directory, tmp_path):
    shutil.copy(peer_directory / "model.json", tmp_path / "model.json")
    with pytest.raises(ModelFileError, match="missing weight shard"):
        zoo.load_cnn_explainer_tinyvgg(tmp_path)
    data = (peer_directory / "group1-shard1of1.bin").read_bytes()
    (tmp_path / "group1-shard1of1.bin").write_bytes(data[:-40])
    with pytest.raises(ModelFileError, match="'output/bias' needs"):
        zoo.load_cnn_explainer_tinyvgg(tmp_path)
    with pytest.raises(ModelFileError, match="no TF.js model.json"):
        zoo.load_cnn_explainer_tinyvgg(tmp_path / "absent")
