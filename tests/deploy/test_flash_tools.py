"""`edgecnn flash` against recording stand-ins for pio, arduino-cli and esptool on PATH."""

import json
import os
import sys

import pytest
from click.testing import CliRunner

from edgecnn.cli import main
from edgecnn.deploy import flash

NANO = "arduino:mbed_nano:nano33ble"
FATAL = "A fatal error occurred: Failed to connect to ESP32-S3: No serial data received."

STANDIN = """#!{python}
# Stand-in for {name}: records its arguments, and fails when STANDIN_FAIL names it (name or name:subcommand).
import json, os, sys
with open(os.environ["STANDIN_LOG"], "a") as log:
    log.write(json.dumps([os.path.basename(sys.argv[0]), *sys.argv[1:]]) + "\\n")
failing = os.environ.get("STANDIN_FAIL", "")
if failing in ({name!r}, {name!r} + ":" + (sys.argv[1] if len(sys.argv) > 1 else "")):
    sys.stderr.write("Serial port /dev/ttyUSB0\\nConnecting......\\n")
    sys.stderr.write("A fatal error occurred: Failed to connect to ESP32-S3: No serial data received.\\n")
    sys.exit(2)
print("done")
"""


@pytest.fixture()
def standins(tmp_path, monkeypatch):
    """Install stand-ins by name; PATH holds only them, so an uninstalled tool is really missing."""
    directory = tmp_path / "bin"
    directory.mkdir()
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PATH", str(directory))
    monkeypatch.setenv("STANDIN_LOG", str(log))
    monkeypatch.delenv("STANDIN_FAIL", raising=False)

    def install(*names):
        for name in names:
            path = directory / name
            path.write_text(STANDIN.format(python=sys.executable, name=name))
            path.chmod(0o755)

    def calls():
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    install.calls = calls
    return install


def platformio_project(directory, ini):
    directory.mkdir(parents=True)
    (directory / "platformio.ini").write_text(ini)
    return directory


def arduino_sketch(directory, sketch_yaml=None):
    directory.mkdir(parents=True)
    (directory / f"{directory.name}.ino").write_text("void setup() {}\nvoid loop() {}\n")
    if sketch_yaml:
        (directory / "sketch.yaml").write_text(sketch_yaml)
    return directory


def run(*arguments):
    return CliRunner().invoke(main, ["flash", *map(str, arguments)])


def test_platformio_uploads_the_default_env(tmp_path, standins):
    standins("pio")
    project = platformio_project(tmp_path / "fw", "[platformio]\ndefault_envs = esp32s3\n\n[env:esp32s3]\n"
                                                  "board = esp32-s3-devkitc-1\n[env:other]\nboard = x\n")
    outcome = run(project, "--target", "platformio", "--port", "/dev/ttyUSB0")
    assert outcome.exit_code == 0, outcome.output
    assert standins.calls() == [["pio", "run", "-d", str(project), "-e", "esp32s3", "-t", "upload",
                                 "--upload-port", "/dev/ttyUSB0"]]


def test_platformio_env_choice(tmp_path, standins):
    standins("pio")
    project = platformio_project(tmp_path / "fw", "[env:a]\nboard = x\n[env:b]\nboard = y\n")
    ambiguous = run(project, "--target", "platformio")
    assert ambiguous.exit_code != 0 and "several environments (a, b): pass --env NAME" in ambiguous.output
    assert standins.calls() == []
    chosen = run(project, "--target", "platformio", "--env", "b")
    assert chosen.exit_code == 0, chosen.output
    assert standins.calls() == [["pio", "run", "-d", str(project), "-e", "b", "-t", "upload"]]


def test_arduino_compiles_then_uploads(tmp_path, standins):
    standins("arduino-cli")
    sketch = arduino_sketch(tmp_path / "digits")
    outcome = run(sketch, "--target", "arduino", "--fqbn", NANO, "--port", "/dev/ttyACM0")
    assert outcome.exit_code == 0, outcome.output
    assert standins.calls() == [
        ["arduino-cli", "compile", "--fqbn", "arduino:mbed_nano:nano33ble", str(sketch)],
        ["arduino-cli", "upload", "-p", "/dev/ttyACM0", "--fqbn", "arduino:mbed_nano:nano33ble", str(sketch)],
    ]


def test_arduino_takes_board_and_port_from_sketch_yaml(tmp_path, standins):
    standins("arduino-cli")
    sketch = arduino_sketch(tmp_path / "digits",
                            "default_fqbn: esp32:esp32:esp32s3\ndefault_port: /dev/ttyUSB1\n")
    assert run(sketch, "--target", "arduino").exit_code == 0
    assert standins.calls()[1] == ["arduino-cli", "upload", "-p", "/dev/ttyUSB1",
                                   "--fqbn", "esp32:esp32:esp32s3", str(sketch)]


def test_arduino_upload_failure_stops_with_exit_code_and_last_stderr_line(tmp_path, standins, monkeypatch):
    standins("arduino-cli")
    monkeypatch.setenv("STANDIN_FAIL", "arduino-cli:upload")
    sketch = arduino_sketch(tmp_path / "digits")
    outcome = run(sketch, "--target", "arduino", "--fqbn", "a:b:c", "--port", "/dev/ttyACM0")
    assert outcome.exit_code != 0
    assert [call[1] for call in standins.calls()] == ["compile", "upload"]
    assert outcome.output.splitlines()[-1] == f"error: arduino-cli upload failed with exit code 2: {FATAL}"


def test_arduino_sketch_must_be_named_after_its_folder(tmp_path, standins):
    standins("arduino-cli")
    folder = tmp_path / "digits"
    folder.mkdir()
    (folder / "main.ino").write_text("")
    outcome = run(folder, "--target", "arduino", "--fqbn", "a:b:c", "--port", "p")
    assert outcome.exit_code != 0 and "digits.ino" in outcome.output
    assert standins.calls() == []


def test_esptool_v5_writes_with_write_flash_dash(tmp_path, standins):
    standins("esptool", "esptool.py")
    (tmp_path / "firmware.bin").write_bytes(b"\xe9" + bytes(255))
    outcome = run(tmp_path, "--target", "esp32", "--port", "/dev/ttyUSB0")
    assert outcome.exit_code == 0, outcome.output
    assert standins.calls() == [["esptool", "--chip", "esp32s3", "--port", "/dev/ttyUSB0",
                                 "write-flash", "0x0", str(tmp_path / "firmware.bin")]]


def test_esptool_py_is_the_fallback_with_its_old_subcommand(tmp_path, standins):
    standins("esptool.py")
    image = tmp_path / "app.bin"
    image.write_bytes(b"\xe9")
    outcome = run(image, "--target", "esp32", "--chip", "esp32", "--offset", "0x10000", "--baud", "921600")
    assert outcome.exit_code == 0, outcome.output
    assert standins.calls() == [["esptool.py", "--chip", "esp32", "--baud", "921600",
                                 "write_flash", "0x10000", str(image)]]


def test_esptool_failure_is_one_line_with_exit_code(tmp_path, standins, monkeypatch):
    standins("esptool")
    monkeypatch.setenv("STANDIN_FAIL", "esptool")
    (tmp_path / "firmware.bin").write_bytes(b"\xe9")
    outcome = run(tmp_path, "--target", "esp32", "--port", "/dev/ttyUSB0")
    assert outcome.exit_code != 0
    error_lines = [line for line in outcome.output.splitlines() if line.startswith("error:")]
    assert error_lines == [f"error: esptool failed with exit code 2: {FATAL}"]
    assert "Traceback" not in outcome.output


@pytest.mark.parametrize("target, setup, hint", [
    ("platformio", lambda path: platformio_project(path, "[env:a]\n"),
     "pio not found on PATH: pip install platformio"),
    ("arduino", arduino_sketch, "arduino-cli not found on PATH: see https://arduino.github.io/arduino-cli/"),
    ("esp32", lambda path: (path.mkdir(), (path / "firmware.bin").write_bytes(b"1")),
     "esptool not found on PATH: pip install esptool"),
])
def test_missing_tool_names_its_install_line(tmp_path, standins, target, setup, hint):
    setup(tmp_path / "project")
    outcome = run(tmp_path / "project", "--target", target, "--fqbn", "a:b:c", "--port", "p")
    assert outcome.exit_code != 0
    assert f"error: {hint}" in outcome.output


def test_dry_run_prints_the_commands_and_runs_nothing(tmp_path, standins):
    standins("arduino-cli")
    sketch = arduino_sketch(tmp_path / "my sketch")
    outcome = run(sketch, "--target", "arduino", "--fqbn", "a:b:c", "--port", "/dev/ttyACM0", "--dry-run")
    assert outcome.exit_code == 0, outcome.output
    assert outcome.output.splitlines() == [
        f"arduino-cli compile --fqbn a:b:c '{sketch}'",
        f"arduino-cli upload -p /dev/ttyACM0 --fqbn a:b:c '{sketch}'",
    ]
    assert standins.calls() == []


def test_missing_firmware_image_says_which_file(tmp_path, standins):
    standins("esptool")
    outcome = run(tmp_path, "--target", "esp32")
    assert outcome.exit_code != 0
    assert f"firmware image not found: {tmp_path / 'firmware.bin'}" in outcome.output


def test_exported_firmware_projects_flash_with_the_right_commands(trained_lenet, tmp_path, standins):
    """The projects `edgecnn export` writes are what flash expects: PlatformIO env and Arduino sketch name."""
    from edgecnn.export import firmware

    standins("pio", "arduino-cli")
    pio_project = tmp_path / "esp32s3"
    firmware.export_firmware(trained_lenet["tflite"], pio_project, "platformio-esp32s3")
    sketch = tmp_path / "digits"
    firmware.export_firmware(trained_lenet["tflite"], sketch, "arduino")
    assert run(pio_project, "--target", "platformio").exit_code == 0
    outcome = run(sketch, "--target", "arduino", "--fqbn", NANO, "--port", "/dev/ttyACM0")
    assert outcome.exit_code == 0, outcome.output
    assert standins.calls() == [
        ["pio", "run", "-d", str(pio_project), "-e", "esp32s3", "-t", "upload"],
        ["arduino-cli", "compile", "--fqbn", "arduino:mbed_nano:nano33ble", str(sketch)],
        ["arduino-cli", "upload", "-p", "/dev/ttyACM0", "--fqbn", "arduino:mbed_nano:nano33ble", str(sketch)],
    ]


def test_run_command_relays_stderr_lines(tmp_path, standins, monkeypatch):
    standins("esptool")
    monkeypatch.setenv("STANDIN_FAIL", "esptool")
    relayed = []
    with pytest.raises(Exception, match="exit code 2"):
        flash.run_command(["esptool", "version"], echo=relayed.append)
    assert relayed[-1].startswith("A fatal error occurred") and len(relayed) == 3
    assert os.environ["PATH"] == str(tmp_path / "bin")
