"""`edgecnn bench MODEL [MODEL ...]`: latency (and accuracy) per model, backend and thread count."""

import json

import click

from edgecnn.commands import options
from edgecnn.commands.runtime_options import BACKEND_CHOICES, configure_logging
from edgecnn.errors import ConfigurationError


def _thread_counts(context, parameter, value):
    if value is None:
        return [None]
    try:
        counts = [int(part) for part in value.split(",")]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated thread counts, got {value!r}") from None
    if any(count < 1 for count in counts):
        raise click.BadParameter("thread counts must be at least 1")
    return counts


def _frame_size(context, parameter, value):
    width, _, height = value.lower().partition("x")
    try:
        return int(width), int(height)
    except ValueError:
        raise click.BadParameter(f"expected WIDTHxHEIGHT, got {value!r}") from None


@click.command(name="bench")
@click.argument("models", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--backend",
    "backends",
    multiple=True,
    type=click.Choice(BACKEND_CHOICES),
    help="Runtime to measure; repeat for several (default: auto).",
)
@click.option("--threads", callback=_thread_counts, metavar="N[,N...]", help="Thread counts to measure.")
@click.option("--delegate", metavar="edgetpu[:usb|:pci|:N]", help="Run on a Coral Edge TPU.")
@click.option("--fallback-cpu", is_flag=True, help="Run on the CPU when the delegate cannot be loaded.")
@click.option("--warmup", type=click.IntRange(min=0), default=10, show_default=True)
@click.option("--runs", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--dataset", help="Also measure top-1 accuracy on this dataset (name or folder).")
@options.dataset_reading("Images of --dataset (default: the test split; every image of a plain folder).")
@click.option("--limit", type=options.Count(), metavar="N",
              help="Use only the first N images of --dataset for accuracy.")
@click.option(
    "--frame-size",
    callback=_frame_size,
    default="640x480",
    show_default=True,
    help="Camera frame size for the end-to-end column (without --dataset).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per row instead of the table.")
def command(
    models, backends, threads, delegate, fallback_cpu, warmup, runs, dataset, split, cache, limit, frame_size,
    as_json,
):
    """Measure latency percentiles after warm-up for each MODEL (.tflite, or .keras as a float32 row).

    "Model" columns time the runtime alone; "E2E" columns add preprocessing a frame and the top-k.
    """
    configure_logging()
    from edgecnn.runtime import bench

    width, height = frame_size
    if width < 1 or height < 1:
        raise ConfigurationError(f"--frame-size must be positive, got {width}x{height}")
    frame = bench.default_frame(height, width)
    rows = []
    for model in models:
        for backend in backends or ("auto",):
            for thread_count in threads:
                row = bench.bench_model(
                    model,
                    backend,
                    thread_count,
                    delegate,
                    fallback_cpu,
                    warmup,
                    runs,
                    dataset,
                    limit,
                    frame,
                    split,
                    cache,
                )
                rows.append(row)
                if as_json:
                    click.echo(json.dumps(row.to_dict()))
    if not as_json:
        click.echo(bench.format_table(rows))
