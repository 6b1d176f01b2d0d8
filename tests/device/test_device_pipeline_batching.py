"""The fast classify path (batch preprocessing, batched JSON lines) gives exactly what the plain path gives."""

import io
import json
import sys
import threading

import numpy as np
import pytest
from device_helpers import read_video

from edgecnn.camera import open_source, run_classification
from edgecnn.camera.readers import Frame
from edgecnn.camera.reporting import RecordWriter
from edgecnn.errors import SourceError
from edgecnn.runtime import Classifier, model


@pytest.fixture(scope="module")
def rgb_models(tmp_path_factory):
    """A small RGB CNN (random weights) as full-int8 with one and with per-channel scaling, and as float32."""
    pytest.importorskip("tensorflow")
    import keras

    from edgecnn.artifacts import ModelMetadata
    from edgecnn.data.preprocessing import Preprocessing
    from edgecnn.quantize.converter import quantize_keras_model

    keras.utils.set_random_seed(1)
    inputs = keras.Input((12, 16, 3))
    features = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    outputs = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(features))
    keras_model = keras.Model(inputs, outputs)

    calibration = np.random.default_rng(0).random((16, 12, 16, 3), dtype=np.float32)
    folder = tmp_path_factory.mktemp("rgb_models")
    paths = {}
    for name, int8, preprocessing in [
        ("int8", True, Preprocessing(12, 16, 3)),
        ("int8_per_channel", True, Preprocessing(12, 16, 3, mean=(0.5, 0.4, 0.3), std=(0.2, 0.3, 0.25))),
        ("float32", False, Preprocessing(12, 16, 3)),
    ]:
        metadata = ModelMetadata(labels=['say "a"', "b\\c", "ü"], preprocessing=preprocessing, model_name=None)
        if int8:
            tflite_bytes = quantize_keras_model(keras_model, calibration, metadata=metadata)
        else:
            tflite_bytes = quantize_keras_model(keras_model, mode="float32", io_type="float32", metadata=metadata)
        paths[name] = folder / f"{name}.tflite"
        paths[name].write_bytes(tflite_bytes)
    return paths


def reference_inputs(classifier, images):
    """What the model is fed without any fast path: Preprocessing.apply, then quantize, image by image."""
    return np.concatenate(
        [classifier.encoder.quantize(classifier.preprocessing.apply([image])) for image in images]
    )


@pytest.mark.parametrize("use_cv2", [True, False], ids=["cv2-lut", "numpy-take"])
def test_prepare_batch_equals_preprocessing_then_quantize(lenet5_int8, rgb_models, use_cv2, monkeypatch):
    if use_cv2:
        pytest.importorskip("cv2")
    else:
        monkeypatch.setitem(sys.modules, "cv2", None)
    generator = np.random.default_rng(3)
    for path in [lenet5_int8, *rgb_models.values()]:
        classifier = Classifier(path)
        height, width, _ = classifier.input_shape
        # At the model's size (the fast path), resized, grayscale, and a mix of all three in one batch.
        batches = [
            [generator.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(5)],
            [generator.integers(0, 256, (height + 7, width * 2, 3), dtype=np.uint8) for _ in range(2)],
            [generator.integers(0, 256, (height, width), dtype=np.uint8) for _ in range(2)],
        ]
        batches.append([image for batch in batches for image in batch])
        for images in batches:
            prepared = classifier.prepare_batch(images)
            assert prepared.dtype == classifier.input.dtype
            np.testing.assert_array_equal(prepared, reference_inputs(classifier, images))
            np.testing.assert_array_equal(classifier.prepare(images[0]), prepared[:1])


def test_scores_table_equals_dequantize(lenet5_int8, rgb_models):
    for path in [lenet5_int8, *rgb_models.values()]:
        classifier = Classifier(path)
        if classifier.output.dtype == np.float32:
            raw = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
        else:
            raw = np.arange(-128, 128, dtype=np.int8).reshape(-1, 1)
        np.testing.assert_array_equal(classifier.scores(raw), model.dequantize(raw, classifier.output))


def expected_line(frame, top, seconds):
    record = {"frame": frame.number, "time": frame.captured_at, "top": top, "latency_ms": round(seconds * 1000, 3)}
    if frame.path is not None:
        record["path"] = str(frame.path)
    return json.dumps(record)


def test_record_writer_writes_what_json_dumps_writes(rgb_models):
    generator = np.random.default_rng(5)
    frames = [
        Frame(number, None, None, round(1.7e9 + generator.random() * 1000, 3), path)
        for number, path in enumerate([None, "images/x \"1\".png", None, "ü/2.png"])
    ]
    seconds = [float(value) for value in generator.random(len(frames)) / 1000]
    for name in ("int8", "float32"):
        classifier = Classifier(rgb_models[name])
        writer = RecordWriter(classifier.labels, classifier.score_table)
        if name == "int8":
            raw = generator.integers(-128, 128, (len(frames), 3)).astype(np.int8)
        else:
            raw = np.array([[0.5, -1.25, 3.0], [np.nan, 1.0, 2.0], [np.inf, -np.inf, 0.1], [1.0, 1.0, 1.0]], np.float32)
        scores = classifier.scores(raw)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :2]
        expected = [
            expected_line(frame, classifier.top_k(scores[row], 2).to_json(), seconds[row])
            for row, frame in enumerate(frames)
        ]
        for _ in range(2):  # the second time from the cached entry texts
            assert writer.text(frames, seconds, raw, scores, order).splitlines() == expected


def test_video_lines_equal_frame_by_frame_classification(lenet5_int8, digits_video):
    pytest.importorskip("cv2")
    classifier = Classifier(lenet5_int8)
    output = io.StringIO()
    summary = run_classification(classifier, open_source(str(digits_video)), top_k=3, output=output)
    lines = output.getvalue().splitlines()
    expected = []
    for image in read_video(digits_video):
        scores = classifier.predict(reference_inputs(classifier, [image[:, :, ::-1]]))
        record = json.loads(lines[len(expected)])
        top = classifier.top_k(scores, 3).to_json()
        expected.append(
            json.dumps({"frame": len(expected), "time": record["time"], "top": top, "latency_ms": record["latency_ms"]})
        )
    assert lines == expected and summary.frames == len(expected) > 0


def test_frames_before_an_unreadable_image_are_still_reported(lenet5_int8, digits_folder, tmp_path):
    for index, source in enumerate(sorted(digits_folder.iterdir())[:3]):
        (tmp_path / f"{index}.png").write_bytes(source.read_bytes())
    (tmp_path / "9_broken.png").write_bytes(b"not a png")
    output = io.StringIO()
    with pytest.raises(SourceError, match="cannot read image .*9_broken.png"):
        run_classification(Classifier(lenet5_int8), open_source(str(tmp_path)), output=output)
    assert [json.loads(line)["path"].rsplit("/", 1)[1] for line in output.getvalue().splitlines()] == [
        "0.png",
        "1.png",
        "2.png",
    ]


class FailingOutput(io.StringIO):
    def write(self, text):
        raise OSError("no space left on device")


def test_an_output_error_in_the_reporter_thread_reaches_the_caller(lenet5_int8, digits_video):
    with pytest.raises(OSError, match="no space left"):
        run_classification(Classifier(lenet5_int8), open_source(str(digits_video)), output=FailingOutput())


class ThreadRecordingOutput(io.StringIO):
    def __init__(self):
        super().__init__()
        self.writers = set()

    def write(self, text):
        self.writers.add(threading.current_thread().name)
        return super().write(text)


def test_video_results_are_written_by_the_capture_thread_or_at_the_end(lenet5_int8, digits_video):
    """For files no third thread competes with inference: the capture thread reports between chunks."""
    output = ThreadRecordingOutput()
    summary = run_classification(Classifier(lenet5_int8), open_source(str(digits_video)), output=output)
    assert len(output.getvalue().splitlines()) == summary.frames > 0
    assert output.writers and output.writers <= {"MainThread", f"capture {digits_video}"}
