"""`edgecnn explain MODEL.tflite --image IMG`: the int8 model layer by layer on one image, as a web page."""

import click

from edgecnn.reference.interpreter import FLAVORS


@click.command("explain")
@click.argument("model_path", metavar="MODEL.tflite", type=click.Path(dir_okay=False))
@click.option("--image", "image_path", required=True, type=click.Path(dir_okay=False), metavar="IMG",
              help="The image to run (PNG, JPEG, ...); resized to the model's input size.")
@click.option("--keras", "keras_path", type=click.Path(dir_okay=False), metavar="MODEL.keras",
              help="The float model: float activations beside the int8 ones, SQNR and cosine per layer.")
@click.option("--element", metavar="LAYER,Y,X,C",
              help="The convolution output element to work out (LAYER: op index or layer name). "
                   "Default: the first convolution's centre pixel, in its largest channel.")
@click.option("--flavor", type=click.Choice(FLAVORS), default="micro", show_default=True,
              help="Interpreter arithmetic: TFLite Micro (as on a microcontroller) or TFLite's reference kernels.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), metavar="DIR")
def command(model_path, image_path, keras_path, element, flavor, out_dir):
    """Write DIR/explain.html (self-contained, opens from a file) and DIR/explain.json for one image."""
    from edgecnn import atomic, explain
    from edgecnn.explain import working

    atomic.check_parent_directory(out_dir)
    explanation = explain.explain(model_path, image_path, keras_path, element, flavor)
    html_path, json_path = explain.write(explanation, out_dir)
    top = explanation.top[0]
    click.echo(f"prediction: {top['label']} ({top['int8']:.3f} int8"
               + ("" if top["float"] is None else f", {top['float']:.3f} float") + ")")
    worst = explanation.keras.get(explanation.worst_tensor)
    if worst is not None:
        click.echo(f"lowest SQNR: {worst.layer}, {worst.sqnr_db:.1f} dB (cosine {worst.cosine:.4f})")
    click.echo(working.describe(explanation.example))
    click.echo(f"wrote {html_path} and {json_path}")
