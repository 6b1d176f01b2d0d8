"""Shared artifacts for the device tests: a trained int8 lenet5, digit videos and folders, an MJPEG server."""

import os
import subprocess

import pytest
from device_helpers import (
    DIGIT_FRAMES,
    MJPEGServer,
    convert_int8,
    expected_top1,
    load_device_venv_builder,
    read_video,
    write_digits_video,
)


@pytest.fixture(scope="session")
def digits():
    from edgecnn.data.registry import load_dataset

    return load_dataset("mnist-sample", split="test")


@pytest.fixture(scope="session")
def lenet5_int8(tmp_path_factory, digits):
    """A lenet5 trained briefly on the bundled digits, full-int8, with labels and preprocessing inside."""
    pytest.importorskip("tensorflow")
    import keras

    import edgecnn.zoo.classic  # noqa: F401 - registers lenet5
    from edgecnn.artifacts import ModelMetadata
    from edgecnn.data.preprocessing import Preprocessing
    from edgecnn.data.registry import load_dataset
    from edgecnn.zoo.registry import create_model

    keras.utils.set_random_seed(0)
    preprocessing = Preprocessing.for_input_shape((28, 28, 1))
    train = load_dataset("mnist-sample", split="train")
    model = create_model("lenet5", input_shape=(28, 28, 1), num_classes=10)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train.inputs(preprocessing), train.labels, epochs=2, batch_size=64, verbose=0)
    metadata = ModelMetadata(
        labels=list(digits.class_names), preprocessing=preprocessing, model_name="lenet5"
    )
    calibration = train.take(200).inputs(preprocessing)
    folder = tmp_path_factory.mktemp("models")
    model.save(folder / "lenet5.keras")
    path = folder / "lenet5_int8.tflite"
    path.write_bytes(convert_int8(model, calibration, metadata))
    return path


@pytest.fixture(scope="session")
def digits_video(tmp_path_factory, digits):
    """The first DIGIT_FRAMES test digits as an MJPG .avi (near-lossless at quality 100), 28x28 BGR."""
    pytest.importorskip("cv2")
    path = tmp_path_factory.mktemp("video") / "digits.avi"
    return write_digits_video(path, digits.images[:DIGIT_FRAMES], quality=100)


@pytest.fixture(scope="session")
def digits_folder(tmp_path_factory, digits):
    """20 test digits as lossless PNG files named in order."""
    cv2 = pytest.importorskip("cv2")
    folder = tmp_path_factory.mktemp("images")
    for index, image in enumerate(digits.images[:20]):
        cv2.imwrite(str(folder / f"digit_{index:03d}.png"), image[:, :, 0])
    return folder


@pytest.fixture
def mjpeg_server(digits):
    cv2 = pytest.importorskip("cv2")
    frames = []
    for image in digits.images[:30]:
        ok, jpeg = cv2.imencode(
            ".jpg", cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95]
        )
        frames.append(jpeg.tobytes())
    server = MJPEGServer(frames).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def device_python():
    """The device-only venv's python (tflite-runtime 2.14, numpy<2, no TensorFlow), built once and cached."""
    builder = load_device_venv_builder()
    try:
        return builder.ensure_device_venv(os.environ.get("EDGECNN_DEVICE_VENV", builder.DEFAULT_PATH))
    except (RuntimeError, subprocess.CalledProcessError) as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cannot build the device venv here: {error}")


@pytest.fixture(scope="session")
def video_reference_labels(lenet5_int8, digits_video):
    """Top-1 labels for the decoded video frames, computed in-process with OpenCV + the default backend."""
    import cv2

    frames = [cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) for frame in read_video(digits_video)]
    return expected_top1(lenet5_int8, frames)
