"""`edgecnn quantize`: Keras or PyTorch model -> full-int8 (or float16 / dynamic-range) TFLite model."""

import click

from edgecnn.commands import options


@click.command("quantize")
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False))
@click.option("--calibration", "calibration_spec", metavar="SPEC",
              help="Dataset for calibration: a name (mnist-sample, shapes, ...) or a folder of class sub-folders.")
@click.option("--samples", default=200, show_default=True, type=options.Count(),
              help="Calibration images drawn from SPEC (only these are decoded).")
@options.dataset_reading("Which images of SPEC calibrate (default: train).")
@click.option("--io", "io_type", type=click.Choice(["int8", "uint8", "float32"]),
              help="Input/output type (default int8 for --mode int8, else float32).")
@click.option("--mode", type=click.Choice(["int8", "float16", "dynamic"]), default="int8", show_default=True,
              help="float16 and dynamic: Keras models only.")
@options.preprocessing_overrides
@click.option("--labels", "labels_file", type=click.Path(dir_okay=False), help="Labels file, one per line.")
@options.torch_model_options
@click.option("--input-layout", "layout", type=click.Choice(["nhwc", "nchw"]),
              help="PyTorch models: the .tflite input's layout (default nhwc: no TRANSPOSE before the first op; "
                   "nchw keeps PyTorch's).")
@click.option("--out", "out_path", required=True, metavar="FILE.tflite", type=click.Path(dir_okay=False))
def command(model_path, calibration_spec, samples, split, cache, io_type, mode, scale, mean, std, labels_file,
            input_shape, weights, layout, out_path):
    """Quantize MODEL to TFLite with a representative dataset (per-channel weights, batch 1).

    MODEL is a Keras file (.keras, .h5) or a PyTorch model (extra torch): FILE.pt2 from torch.export.save, or
    module.py:function, a function returning the nn.Module (weights from --weights). Labels and preprocessing
    travel inside the .tflite file.
    """
    from edgecnn.quantize.pipeline import quantize_file

    result = quantize_file(model_path, out_path, calibration_spec, samples, mode, io_type, scale, mean, std,
                           labels_file, split=split, cache=cache, input_shape=input_shape, weights=weights,
                           layout=layout)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    preprocessing = result.metadata.preprocessing
    click.echo(
        f"wrote {result.path} ({result.size_bytes / 1024:.1f} KiB, mode {mode}"
        + (f", calibrated on {result.calibration}" if result.samples else "")
        + f"; input {preprocessing.height}x{preprocessing.width}x{preprocessing.channels}"
        + (" as NCHW" if preprocessing.layout == "nchw" else "")
        + f", {len(result.metadata.labels)} labels)"
    )
