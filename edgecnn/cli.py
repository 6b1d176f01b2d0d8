"""The `edgecnn` command: a thin click layer that loads each subcommand only when it runs.

Subcommands live in edgecnn/commands/<module>.py as a click command named `command`. Keeping them out of
this module means `edgecnn --help` and `import edgecnn.cli` never import TensorFlow, OpenCV or matplotlib.
"""

import importlib
import os
import sys
import warnings

import click

from edgecnn import __version__
from edgecnn.errors import EdgecnnError, short_reason

# command name -> (module under edgecnn.commands, one-line help shown by `edgecnn --help`)
COMMANDS = {
    "zoo": ("zoo", "List the model zoo: shapes, parameters, MACs, sizes, receptive fields."),
    "train": ("train", "Train a zoo model on a dataset and save it with its labels and preprocessing."),
    "quantize": ("quantize", "Convert a Keras or PyTorch model to a full-int8 (or float16/dynamic) TFLite model."),
    "report": ("report", "Compare a float Keras or PyTorch model with its quantized TFLite model on a dataset."),
    "demo": ("demo", "Train lenet5 on the bundled digits, quantize it to int8 and write the report."),
    "verify": ("verify", "Check the NumPy int8 interpreter against TFLite's kernels and TFLite Micro."),
    "explain": ("explain", "Show an int8 model layer by layer on one image, one output worked out by hand."),
    "classify": ("classify", "Classify frames from a camera, stream, video, image or folder."),
    "bench": ("bench", "Measure model latency per backend and thread count."),
    "doctor": ("doctor", "Show what this machine has for edge work, with fixes for what is missing."),
    "export": ("export", "Export a model for a target: TFLite Micro sources, firmware, Pi or Coral bundles."),
    "emulate": ("emulate", "Run a model's TFLite Micro firmware on an emulated Cortex-M: outputs, memory, cost."),
    "edgetpu": ("edgetpu", "Check a model against the Edge TPU's requirements, or compile it."),
    "deploy": ("deploy", "Copy a bundle to boards over SSH, atomically, with checksum checks."),
    "flash": ("flash", "Flash a firmware project to a microcontroller board."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, context):
        return sorted(COMMANDS)

    def get_command(self, context, name):
        if name not in COMMANDS:
            return None
        module_name, _ = COMMANDS[name]
        module = importlib.import_module(f"edgecnn.commands.{module_name}")
        return module.command

    def format_commands(self, context, formatter):
        # Listing the commands must not import them: the help text comes from COMMANDS.
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(context)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, context):
        try:
            with warnings.catch_warnings():
                warnings.showwarning = show_warning
                return super().invoke(context)
        except EdgecnnError as error:
            fail(str(error), error.exit_code)
        except KeyboardInterrupt:  # before click turns it into Abort, which first prints an empty line
            fail("interrupted", INTERRUPTED_EXIT_CODE)
        except BrokenPipeError:
            # `edgecnn ... | head`: the reader left. Stop as a tool killed by SIGPIPE would, without
            # Python's "Exception ignored" noise when it flushes stdout at exit.
            silence_stdout()
            context.exit(SIGPIPE_EXIT_CODE)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Run the CLI; every failure, click's usage errors included, ends in one `error:` line and an exit code."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as error:  # usage errors: a bad option value, an unknown command
            fail(error.format_message(), error.exit_code)
        except click.Abort:
            fail("interrupted", INTERRUPTED_EXIT_CODE)
        except SystemExit as exit_request:
            result = exit_request.code
        sys.exit(result if isinstance(result, int) else 0)


SIGPIPE_EXIT_CODE = 128 + 13
MESSAGE_LIMIT = 600  # a runtime's text embedded in a message is cut where it enters; this is the backstop
INTERRUPTED_EXIT_CODE = 128 + 2


def fail(message, exit_code):
    """The one way a command fails: `error: <message>` on one line of stderr, then `exit_code`."""
    click.echo("error: " + short_reason(message, MESSAGE_LIMIT), err=True)
    raise SystemExit(exit_code)


def show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one `warning: ...` line on stderr, like errors (no file name and source line)."""
    click.echo("warning: " + " ".join(str(message).split()), err=True)


def silence_stdout():
    """Point stdout at /dev/null so nothing more is written to a closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout already closed or not a file
        pass


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgecnn")
def main():
    """edgecnn: train, quantize, verify and deploy int8 CNNs on edge hardware."""


def run():
    """Entry point for `python -m edgecnn`."""
    main(prog_name="edgecnn")


if __name__ == "__main__":
    sys.exit(run())
