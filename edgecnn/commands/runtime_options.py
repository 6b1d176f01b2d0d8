"""--backend, --threads, --delegate and --fallback-cpu, shared by classify and bench."""

import logging

import click

from edgecnn.runtime import backends

BACKEND_CHOICES = backends.choices()


def runtime_options(function):
    function = click.option(
        "--fallback-cpu",
        is_flag=True,
        help="Run on the CPU when the delegate cannot be loaded (default: fail).",
    )(function)
    function = click.option(
        "--delegate", metavar="edgetpu[:usb|:pci|:N]", help="Run on a Coral Edge TPU through libedgetpu."
    )(function)
    function = click.option("--threads", type=click.IntRange(min=1), help="CPU threads for the runtime.")(
        function
    )
    function = click.option(
        "--backend",
        type=click.Choice(BACKEND_CHOICES),
        default="auto",
        show_default=True,
        help="Inference runtime; auto takes the first that imports (numpy: edgecnn's NumPy interpreter).",
    )(function)
    return function


def configure_logging(verbose=False):
    """Warnings (reconnects, fallbacks) go to stderr so stdout stays machine-readable."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s: %(message)s"
    )
