"""Flash a firmware project with the board's own tool: PlatformIO, arduino-cli or esptool.

The commands are argument lists (never a shell string), built up front so --dry-run prints exactly what runs.
"""

import configparser
import dataclasses
import pathlib
import re
import shlex
import shutil
import subprocess
import sys

from edgecnn.errors import ConfigurationError, ExternalToolError
from edgecnn.registry import Registry

DEFAULT_CHIP = "esp32s3"
DEFAULT_OFFSET = "0x0"

INSTALL_HINTS = {
    "pio": "pip install platformio",
    "arduino-cli": "see https://arduino.github.io/arduino-cli/latest/installation/",
    "esptool": "pip install esptool",
    "esptool.py": "pip install esptool",
}


@dataclasses.dataclass(frozen=True)
class FlashPlan:
    """The commands to run in order, and the tool they need."""

    tool: str
    commands: tuple
    tool_found: bool

    def render(self):
        return [shlex.join(command) for command in self.commands]


def _platformio_env(directory, env):
    ini_path = directory / "platformio.ini"
    if not ini_path.is_file():
        raise ConfigurationError(f"{directory} is not a PlatformIO project: no platformio.ini")
    if env:
        return env
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(ini_path, encoding="utf-8")
    except configparser.Error as error:
        raise ConfigurationError(f"cannot parse {ini_path}: {error}") from None
    default_envs = parser.get("platformio", "default_envs", fallback="").replace(",", " ").split()
    if default_envs:
        return default_envs[0]
    envs = [section.split(":", 1)[1] for section in parser.sections() if section.startswith("env:")]
    if len(envs) == 1:
        return envs[0]
    if not envs:
        raise ConfigurationError(f"{ini_path} defines no [env:NAME] section")
    raise ConfigurationError(f"{ini_path} defines several environments ({', '.join(envs)}): pass --env NAME")


def _sketch_defaults(directory):
    """default_fqbn / default_port from an arduino-cli sketch.yaml (flat `key: value` lines)."""
    path = directory / "sketch.yaml"
    defaults = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.match(r"^(default_fqbn|default_port):\s*(\S+)\s*$", line)
            if match:
                defaults[match[1]] = match[2].strip("'\"")
    return defaults


def _arduino_commands(directory, port, fqbn):
    sketches = sorted(directory.glob("*.ino"))
    if not sketches:
        raise ConfigurationError(f"{directory} is not an Arduino sketch: no .ino file")
    if not (directory / f"{directory.name}.ino").is_file():
        raise ConfigurationError(
            f"arduino-cli needs the main sketch named after its folder: "
            f"{directory / (directory.name + '.ino')} "
            f"(found {', '.join(sketch.name for sketch in sketches)})"
        )
    defaults = _sketch_defaults(directory)
    fqbn = fqbn or defaults.get("default_fqbn")
    port = port or defaults.get("default_port")
    if not fqbn:
        raise ConfigurationError("arduino needs a board: pass --fqbn (e.g. esp32:esp32:esp32s3 or "
                                 "arduino:mbed_nano:nano33ble) or set default_fqbn in sketch.yaml")
    if not port:
        raise ConfigurationError("arduino needs a serial port: pass --port (e.g. /dev/ttyACM0; "
                                 "`arduino-cli board list` shows them) or set default_port in sketch.yaml")
    sketch = str(directory)
    return [["arduino-cli", "compile", "--fqbn", fqbn, sketch],
            ["arduino-cli", "upload", "-p", port, "--fqbn", fqbn, sketch]]


def _firmware_file(path, firmware):
    if firmware:
        firmware = pathlib.Path(firmware)
    elif path.is_file():
        firmware = path
    else:
        firmware = path / "firmware.bin"
    if not firmware.is_file():
        raise ConfigurationError(f"firmware image not found: {firmware} (pass --firmware FILE.bin)")
    return firmware


def _esptool(which):
    """esptool v5 installs `esptool` (subcommand write-flash); older releases `esptool.py` (write_flash)."""
    if which("esptool"):
        return "esptool", "write-flash", True
    if which("esptool.py"):
        return "esptool.py", "write_flash", True
    return "esptool", "write-flash", False


def _esp32_plan(path, which, port=None, chip=DEFAULT_CHIP, firmware=None, offset=DEFAULT_OFFSET, baud=None,
                **_):
    firmware = _firmware_file(path, firmware)
    try:
        int(offset, 0)
    except ValueError:
        raise ConfigurationError(
            f"bad flash offset {offset!r}: expected a number such as 0x0 or 0x10000"
        ) from None
    executable, write_flash, found = _esptool(which)
    command = [executable, "--chip", chip or DEFAULT_CHIP]
    if port:
        command += ["--port", port]
    if baud:
        command += ["--baud", str(baud)]
    command += [write_flash, offset, str(firmware)]
    return FlashPlan(executable, (command,), found)


def _platformio_plan(path, which, port=None, env=None, **_):
    command = ["pio", "run", "-d", str(path), "-e", _platformio_env(path, env), "-t", "upload"]
    if port:
        command += ["--upload-port", port]
    return FlashPlan("pio", (command,), which("pio") is not None)


def _arduino_plan(path, which, port=None, fqbn=None, **_):
    return FlashPlan("arduino-cli", tuple(_arduino_commands(path, port, fqbn)), which("arduino-cli") is not None)


@dataclasses.dataclass(frozen=True)
class FlashTarget:
    """One `--target`: the tool it runs and how the commands are planned from the project and options."""

    name: str
    description: str
    plan: object = dataclasses.field(repr=False)  # (path, which, **options) -> FlashPlan
    needs_directory: bool = True  # esptool also flashes a single image file


TARGETS = Registry(
    "flash target",
    [
        FlashTarget("esp32", "esptool write-flash of a firmware image", _esp32_plan, needs_directory=False),
        FlashTarget("arduino", "arduino-cli compile and upload of a sketch folder", _arduino_plan),
        FlashTarget("platformio", "PlatformIO `pio run -t upload` of a project", _platformio_plan),
    ],
)


def plan_flash(path, target, port=None, env=None, fqbn=None, chip=DEFAULT_CHIP, firmware=None,
               offset=DEFAULT_OFFSET, baud=None, which=shutil.which):
    """The commands that flash the project (or firmware image) at `path` to a `target` board."""
    path = pathlib.Path(path)
    spec = TARGETS.get(target)
    if not path.exists():
        raise ConfigurationError(f"firmware project not found: {path}")
    if spec.needs_directory and not path.is_dir():
        raise ConfigurationError(f"{spec.name} needs a project directory, not a file: {path}")
    return spec.plan(path, which, port=port, env=env, fqbn=fqbn, chip=chip, firmware=firmware, offset=offset,
                     baud=baud)


def missing_tool_error(tool):
    return ExternalToolError(f"{tool} not found on PATH: {INSTALL_HINTS.get(tool, 'install it')}")


def run_command(command, echo=None):
    """Run one tool command, passing its output through; a failure raises with its exit code and last
    stderr line. `echo(line)` receives each stderr line (default: this process's stderr)."""
    echo = echo or (lambda line: print(line, end="", file=sys.stderr, flush=True))
    name = " ".join(command[:2]) if len(command) > 1 and not command[1].startswith("-") else command[0]
    try:
        process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, errors="replace", bufsize=1)
    except FileNotFoundError:
        raise missing_tool_error(command[0]) from None
    last_line = ""
    with process:
        for line in process.stderr:
            echo(line)
            if line.strip():
                last_line = line.strip()
        returncode = process.wait()
    if returncode != 0:
        detail = f": {last_line}" if last_line else ""
        raise ExternalToolError(f"{name} failed with exit code {returncode}{detail}")


def flash_board(plan, echo=None):
    """Run the plan's commands in order, stopping at the first failure."""
    if not plan.tool_found:
        raise missing_tool_error(plan.tool)
    for command in plan.commands:
        run_command(command, echo)
