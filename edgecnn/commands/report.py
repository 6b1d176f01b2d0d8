"""`edgecnn report`: int8 against float accuracy, agreement, flips, confusion, size and latency."""

import click

from edgecnn.commands import options


def print_summary(report):
    from edgecnn import text_table
    from edgecnn.report.render import summary_rows

    click.echo(text_table.format_table(("", "float", "quantized"), summary_rows(report)))


@click.command("report")
@click.option("--float", "float_model", required=True, type=click.Path(dir_okay=False), metavar="MODEL",
              help="The float model: a Keras file, FILE.pt2 or module.py:function (as `quantize` takes it).")
@click.option("--quantized", "quantized_model", required=True, type=click.Path(dir_okay=False),
              metavar="FILE.tflite")
@click.option("--dataset", "dataset_spec", required=True, metavar="SPEC",
              help="Evaluated on its test split (a folder: a fixed 20% of it).")
@click.option("--limit", type=options.Count(), help="Evaluate only the first N test images.")
@click.option("--backend", default="auto", show_default=True, help="Runtime for the .tflite model.")
@options.torch_model_options
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), metavar="DIR")
def command(float_model, quantized_model, dataset_spec, limit, backend, input_shape, weights, out_dir):
    """Evaluate the float MODEL and FILE.tflite on the same images; write report.json, report.md, report.html."""
    from edgecnn import extras
    from edgecnn.report import render
    from edgecnn.report.evaluate import build_report, write_report

    extras.require("matplotlib", render.CONFUSION_PURPOSE)  # before the evaluation, not after it
    report, images = build_report(float_model, quantized_model, dataset_spec, limit, backend, input_shape, weights)
    write_report(report, images, out_dir)
    print_summary(report)
    click.echo(f"wrote {out_dir}/report.json, report.md, report.html")
