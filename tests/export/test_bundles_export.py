"""Pi and Coral Dev Board bundles: manifest hashes, a valid systemd unit whose command line parses with the
real `edgecnn classify`, an install script bash accepts, and what `edgecnn deploy` reads from them."""

import configparser
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from edgecnn.cli import main
from edgecnn.export import bundles


@pytest.fixture(scope="session")
def bundle_model(tmp_path_factory):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from edgecnn.artifacts import ModelMetadata
    from edgecnn.data import Preprocessing
    from edgecnn.quantize.converter import quantize_keras_model

    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Softmax()(keras.layers.Dense(3)(x)))
    metadata = ModelMetadata(
        labels=["circle", "square", "triangle"], preprocessing=Preprocessing(16, 16, 3), dataset="shapes"
    )
    calibration = np.random.default_rng(0).random((8, 16, 16, 3), dtype=np.float32)
    path = tmp_path_factory.mktemp("bundle_model") / "shapes.tflite"
    path.write_bytes(quantize_keras_model(model, calibration, metadata=metadata))
    return path


def read_unit(path):
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str
    parser.read_string(path.read_text())
    return parser


def test_pi_bundle_files_and_manifest(bundle_model, tmp_path):
    out = tmp_path / "pi_bundle"
    result = bundles.export_bundle(bundle_model, out, "pi")
    names = sorted(path.name for path in out.iterdir())
    assert names == [
        "README.md",
        "edgecnn-classify.service",
        "install.sh",
        "labels.txt",
        "manifest.json",
        "model.tflite",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest == result.manifest
    assert (manifest["model"], manifest["service"], manifest["target"]) == (
        "model.tflite",
        "edgecnn-classify",
        "pi",
    )
    assert sorted(manifest["files"]) == [name for name in names if name != "manifest.json"]
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    assert (out / "model.tflite").read_bytes() == bundle_model.read_bytes()
    assert (out / "labels.txt").read_text() == "circle\nsquare\ntriangle\n"
    assert os.access(out / "install.sh", os.X_OK)


def test_deploy_reads_the_bundle(bundle_model, tmp_path):
    """The deploy engineer's loader accepts the manifest and checks every hash."""
    from edgecnn.deploy import bundle as deploy_bundle

    out = tmp_path / "b"
    bundles.export_bundle(bundle_model, out, "pi")
    loaded = deploy_bundle.load_bundle(out)
    assert (loaded.model, loaded.service, loaded.target) == ("model.tflite", "edgecnn-classify", "pi")
    assert deploy_bundle.ordered_files(loaded)[-1].name == "model.tflite"
    (out / "labels.txt").write_text("tampered\n")
    with pytest.raises(Exception, match="does not match its SHA-256"):
        deploy_bundle.load_bundle(out)


def test_unit_runs_classify_headless_with_options_classify_has(bundle_model, tmp_path):
    from edgecnn.commands import classify

    for board, delegate in (("pi", None), ("coral-devboard", "edgetpu")):
        unit = bundles.systemd_unit(bundles.BOARDS[board], "0")
        path = tmp_path / f"{board}.service"
        path.write_text(unit)
        parser = read_unit(path)
        assert parser.sections() == ["Unit", "Service", "Install"]
        assert parser["Service"]["Restart"] == "on-failure"
        assert parser["Install"]["WantedBy"] == "multi-user.target"
        arguments = shlex.split(parser["Service"]["ExecStart"])
        assert arguments[0] == "/opt/edgecnn/venv/bin/edgecnn" and arguments[1] == "classify"
        context = classify.command.make_context("classify", arguments[2:])
        assert context.params["headless"] is True and context.params["source_spec"] == "0"
        assert context.params["model"] == f"/opt/edgecnn/bundle/{bundles.BOARDS[board].model_name}"
        assert context.params["delegate"] == delegate


def test_unit_passes_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (the unit is still parsed by the test above)")
    unit = bundles.systemd_unit(bundles.BOARDS["pi"], "picam")
    # verify insists that the program exists: point ExecStart at a real executable, keep everything else.
    stub = tmp_path / "edgecnn"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    path = tmp_path / "edgecnn-classify.service"
    path.write_text(unit.replace("/opt/edgecnn/venv/bin/edgecnn", str(stub)))
    result = subprocess.run([analyze, "verify", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "edgecnn-classify.service" not in result.stderr


@pytest.mark.parametrize("board", bundles.BOARDS.names())
def test_install_script_passes_bash_n(board, tmp_path):
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    script = tmp_path / "install.sh"
    script.write_text(bundles.install_script(bundles.BOARDS[board]))
    result = subprocess.run([bash, "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = script.read_text()
    assert 'systemctl enable "$SERVICE"' in text and "apt-get install -y" in text
    assert ("--system-site-packages" in text) == (board == "pi")


def test_install_script_refuses_a_corrupt_bundle(bundle_model, tmp_path):
    """The script's own manifest check, run for real up to that point (as root it would go on to apt)."""
    if os.geteuid() != 0:
        pytest.skip("install.sh stops before the manifest check unless run as root")
    out = tmp_path / "pi_bundle"
    bundles.export_bundle(bundle_model, out, "pi")
    (out / "labels.txt").write_text("tampered\n")
    # Stubs that fail loudly keep the test from touching this machine should the check ever let it through.
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name in ("apt-get", "systemctl"):
        (stubs / name).write_text("#!/bin/sh\necho reached $0 >&2\nexit 99\n")
        (stubs / name).chmod(0o755)
    path = f"{stubs}:{os.path.dirname(sys.executable)}:{os.environ['PATH']}"
    result = subprocess.run(
        ["bash", str(out / "install.sh")], capture_output=True, text=True, env={**os.environ, "PATH": path}
    )
    assert result.returncode == 1, result.stderr
    assert "labels.txt does not match manifest.json" in result.stderr and "reached" not in result.stderr


def test_coral_bundle_with_a_compiled_model(bundle_model, tmp_path):
    compiled = tmp_path / "shapes_edgetpu.tflite"
    compiled.write_bytes(bundle_model.read_bytes())
    out = tmp_path / "coral"
    result = CliRunner().invoke(
        main,
        [
            "export",
            str(bundle_model),
            "--target",
            "coral-devboard",
            "--out",
            str(out),
            "--edgetpu-model",
            str(compiled),
            "--source",
            "/dev/video1",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model"] == "model_edgetpu.tflite" and manifest["target"] == "coral-devboard"
    unit = read_unit(out / "edgecnn-classify.service")
    assert "--delegate edgetpu" in unit["Service"]["ExecStart"]
    assert "--source /dev/video1" in unit["Service"]["ExecStart"]


def test_coral_bundle_without_compiler_says_how_to_install_it(bundle_model, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    result = CliRunner().invoke(
        main, ["export", str(bundle_model), "--target", "coral-devboard", "--out", str(tmp_path / "coral")]
    )
    assert result.exit_code == 2 and "edgetpu_compiler is not on PATH" in result.output
    assert not (tmp_path / "coral").exists()
