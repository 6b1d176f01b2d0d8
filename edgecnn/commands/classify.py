"""`edgecnn classify MODEL.tflite --source SRC`: live or offline classification with a summary at the end."""

import sys

import click

from edgecnn.commands.runtime_options import configure_logging, runtime_options
from edgecnn.errors import SourceError


@click.command(name="classify")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option(
    "--source",
    "source_spec",
    required=True,
    metavar="SRC",
    help="Camera index or /dev/video*, picam[:N], http(s)/rtsp URL, video file, image, folder or glob.",
)
@runtime_options
@click.option("--top-k", "top_k", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--headless", is_flag=True, help="No window: print one JSON line per frame to stdout.")
@click.option(
    "--save", "save_path", type=click.Path(dir_okay=False), help="Write the annotated video (.mp4/.avi)."
)
@click.option("--max-frames", type=click.IntRange(min=1), help="Stop after this many frames.")
@click.option(
    "--reconnect-timeout",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Give up on a live source after this many seconds without a frame.",
)
@click.option("--verbose", "-v", is_flag=True, help="Also log when sources open.")
def command(
    model,
    source_spec,
    backend,
    threads,
    delegate,
    fallback_cpu,
    top_k,
    headless,
    save_path,
    max_frames,
    reconnect_timeout,
    verbose,
):
    """Classify frames from a camera, stream, video, image or folder with MODEL.

    The summary (frames, drops, model-only latency p50/p95, end-to-end FPS) goes to stderr, so that with
    --headless stdout holds only the JSON lines.
    """
    configure_logging(verbose)
    from edgecnn.camera import Summary, open_source, run_classification
    from edgecnn.runtime import Classifier

    classifier = Classifier(
        model, backend=backend, threads=threads, delegate_text=delegate, fallback_cpu=fallback_cpu
    )
    preprocessing = classifier.preprocessing
    source = open_source(source_spec, image_size=(preprocessing.height, preprocessing.width))
    click.echo(f"{model}: {classifier.describe()}; source: {source}", err=True)
    summary = Summary()
    try:
        run_classification(
            classifier,
            source,
            top_k=top_k,
            headless=headless,
            save_path=save_path,
            max_frames=max_frames,
            reconnect_timeout=reconnect_timeout,
            summary=summary,
        )
    except (SourceError, BrokenPipeError) as error:
        if isinstance(error, BrokenPipeError):
            click.echo("stopped: the reader of stdout went away", err=True)
        click.echo(summary.text(), err=True)
        raise
    click.echo(summary.text(), err=True)
    if summary.interrupted:
        sys.exit(130)
