"""Helpers for the device tests: running the CLI, the MJPEG server, model conversion."""

import http.server
import json
import os
import pathlib
import socket
import socketserver
import subprocess
import sys
import threading
import time

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
DIGIT_FRAMES = 120


def edgecnn_command(python=None):
    """The CLI as a user runs it, from the given environment's Python."""
    return [str(python or sys.executable), "-m", "edgecnn"]


def run_cli(arguments, python=None, timeout=300, **kwargs):
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(
        edgecnn_command(python) + [str(argument) for argument in arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        **kwargs,
    )


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def convert_int8(keras_model, calibration, metadata):
    """Full-int8 conversion with edgecnn's own quantizer, metadata embedded."""
    from edgecnn.quantize import converter

    return converter.quantize_keras_model(keras_model, calibration, mode="int8", io_type="int8", metadata=metadata)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MJPEGServer:
    """multipart/x-mixed-replace JPEG frames on 127.0.0.1, like an IP camera; stoppable and restartable."""

    BOUNDARY = "edgecnnframe"

    def __init__(self, frames, port=None, fps=30):
        self.frames = frames
        self.port = port or free_port()
        self.fps = fps
        self.server = None
        self.running = threading.Event()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/stream.mjpg"

    def start(self):
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={owner.BOUNDARY}")
                self.end_headers()
                index = 0
                try:
                    while owner.running.is_set():
                        jpeg = owner.frames[index % len(owner.frames)]
                        self.wfile.write(
                            f"--{owner.BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                            f"Content-Length: {len(jpeg)}\r\n\r\n".encode()
                            + jpeg
                            + b"\r\n"
                        )
                        index += 1
                        time.sleep(1 / owner.fps)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *arguments):
                pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.running.set()
        self.server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.running.clear()  # ends the streaming handlers, closing their connections
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def load_device_venv_builder():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "edgecnn_device_venv", REPOSITORY / "tools" / "device_venv.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def expected_top1(model_path, images):
    """Top-1 labels from the default backend in this process, as the reference for other runs."""
    from edgecnn.runtime import Classifier

    classifier = Classifier(model_path)
    return [
        classifier.classify(image[:, :, 0] if image.shape[-1] == 1 else image, 1).top[0][0]
        for image in images
    ]


def write_digits_video(path, images, quality=None):
    """Gray digits as an MJPG .avi of 28x28 BGR frames, written with OpenCV."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (28, 28))
    if quality is not None:
        writer.set(cv2.VIDEOWRITER_PROP_QUALITY, quality)
    for image in images:
        writer.write(cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR))
    writer.release()
    return path


def read_video(path):
    """Every frame of a video as OpenCV decodes it (BGR)."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames
