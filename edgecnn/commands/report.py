"""`edgecnn report`: int8 against float accuracy, agreement, flips, confusion, size and latency.

Optional sections: quantization error per layer (on by default), a calibration-size sweep, and deployment
estimates measured with `edgecnn emulate` and `edgecnn bench` files.
"""

import click

from edgecnn.commands import options


def print_summary(report):
    from edgecnn import text_table
    from edgecnn.report import sections
    from edgecnn.report.render import summary_rows

    click.echo(text_table.format_table(("", "float", "quantized"), summary_rows(report)))
    for title, introduction, tables, notes, _ in sections.sections(report):
        click.echo(f"\n{title}:")
        if not tables:
            click.echo(introduction)
        for header, rows in tables:
            click.echo(text_table.format_table(header, rows, last_free=True))
        for note in notes:
            click.echo(f"note: {note}")


def _sizes(context, parameter, value):
    if value is None:
        return None
    from edgecnn.report.calibration import parse_sizes

    return parse_sizes(value)


@click.command("report")
@click.option("--float", "float_model", required=True, type=click.Path(dir_okay=False), metavar="MODEL",
              help="The float model: a Keras file, FILE.pt2 or module.py:function (as `quantize` takes it).")
@click.option("--quantized", "quantized_model", required=True, type=click.Path(dir_okay=False),
              metavar="FILE.tflite")
@click.option("--dataset", "dataset_spec", required=True, metavar="SPEC",
              help="A dataset name or a folder of class sub-folders (or of train/ and test/ folders).")
@options.dataset_reading("Images to evaluate (default: the test split; every image of a plain folder).")
@click.option("--limit", type=options.Count(), metavar="N", help="Evaluate only the first N images.")
@click.option("--backend", default="auto", show_default=True, help="Runtime for the .tflite model.")
@click.option("--layer-error/--no-layer-error", default=True, show_default=True,
              help="SQNR and cosine of every layer against the float model (NumPy int8 interpreter).")
@click.option("--calibration-sweep", "calibration_sizes", callback=_sizes, metavar="N[,N...]",
              help="Re-quantize with each number of calibration images and evaluate each, e.g. 8,32,128,512.")
@click.option("--calibration", "calibration_spec", metavar="SPEC",
              help="Dataset the sweep calibrates on (its training split; default: --dataset).")
@click.option("--targets", metavar="CPU[,CPU...]|all",
              help="Measure flash, RAM, arena and instructions per inference with edgecnn emulate "
                   "(cortex-m4, cortex-m7, ...; the first build takes minutes).")
@click.option("--tflm-root", type=click.Path(file_okay=False), metavar="DIR",
              help="TFLite Micro source tree for --targets (default: edgecnn emulate's).")
@click.option("--bench", "bench_specs", multiple=True, metavar="[LABEL=]FILE.jsonl",
              help="Add rows from `edgecnn bench --json` output measured on a device (repeatable).")
@options.torch_model_options
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), metavar="DIR")
def command(float_model, quantized_model, dataset_spec, split, cache, limit, backend, layer_error,
            calibration_sizes, calibration_spec, targets, tflm_root, bench_specs, input_shape, weights, out_dir):
    """Evaluate the float MODEL and FILE.tflite on the same images; write report.json, report.md, report.html."""
    from edgecnn import atomic, extras
    from edgecnn.report import render
    from edgecnn.report.evaluate import ReportOptions, build_report, write_report

    atomic.check_parent_directory(out_dir)
    extras.require("matplotlib", render.CONFUSION_PURPOSE)  # before the evaluation, not after it
    report_options = ReportOptions(layer_error=layer_error, calibration_sizes=calibration_sizes,
                                   calibration_spec=calibration_spec, targets=targets,
                                   bench_specs=tuple(bench_specs), tflm_root=tflm_root)
    report, images = build_report(float_model, quantized_model, dataset_spec, limit, backend, split, cache,
                                  report_options, input_shape, weights)
    write_report(report, images, out_dir)
    click.echo(f"evaluated {report['evaluated']}")
    print_summary(report)
    click.echo(f"wrote {out_dir}/report.json, report.md, report.html")
