"""`edgecnn export MODEL --target T --out DIR`."""

import click

from edgecnn import export
from edgecnn.export import firmware


@click.command("export")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--target", required=True, type=click.Choice(export.TARGETS.names()), help="What to generate.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--name", default=None, help="tflm: C name of the model (default: the file name).")
@click.option("--legacy-names", is_flag=True, help="tflm: name the array g_model / g_model_len (xxd style).")
@click.option("--dataset", default=None, help="Firmware: dataset of the test image (default: the model's).")
@click.option("--image-index", type=click.IntRange(min=0), default=None, help="Firmware: which test image.")
@click.option(
    "--engine",
    type=click.Choice(firmware.ENGINES.names()),
    default=None,
    help="Firmware: what runs the model: tflm (TFLite Micro, the default) or c (edgecnn's generated C, no "
    "TFLite Micro library).",
)
@click.option("--source", default=None, help="pi/coral-devboard: camera source the service classifies.")
@click.option("--service", default=None, help="pi/coral-devboard: systemd service name.")
@click.option(
    "--edgetpu-model",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="coral-devboard: an already compiled *_edgetpu.tflite (default: compile MODEL).",
)
def command(
    model, target, out_dir, name, legacy_names, dataset, image_index, engine, source, service, edgetpu_model
):
    """Export MODEL for a target: TFLite Micro sources (tflm), portable C (c), firmware projects, Pi or Coral
    bundles."""
    result = export.export_model(
        model,
        target,
        out_dir,
        name=name,
        legacy_names=legacy_names or None,
        dataset=dataset,
        image_index=image_index,
        engine=engine,
        source=source,
        service=service,
        edgetpu_model=edgetpu_model,
    )
    click.echo(result.summary())
