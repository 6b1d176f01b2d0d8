"""`edgecnn demo`: the whole pipeline on the bundled digits, in a few minutes on a laptop CPU."""

import pathlib

import click

DEMO_MODEL = "lenet5"
DEMO_DATASET = "mnist-sample"
DEMO_EPOCHS = 30
DEMO_LEARNING_RATE = 2e-3


@click.command("demo")
@click.option("--out", "out_dir", default="runs/demo", show_default=True, type=click.Path(file_okay=False))
@click.option("--epochs", default=DEMO_EPOCHS, show_default=True)
def command(out_dir, epochs):
    """Train lenet5 on the bundled MNIST digits, quantize it to int8 and report int8 against float."""
    from edgecnn.commands.report import print_summary
    from edgecnn.quantize.pipeline import quantize_file
    from edgecnn.report.evaluate import build_report, write_report
    from edgecnn.train.trainer import train_model

    out_dir = pathlib.Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    click.echo(f"1/3 training {DEMO_MODEL} on {DEMO_DATASET} ({epochs} epochs)")
    trained = train_model(DEMO_MODEL, DEMO_DATASET, out_dir, epochs=epochs, learning_rate=DEMO_LEARNING_RATE,
                          augment=True, verbose=2)
    click.echo("2/3 quantizing to full int8")
    quantized = quantize_file(trained.model_path, out_dir / "model_int8.tflite", DEMO_DATASET)
    click.echo(f"3/3 evaluating float and int8 on the {DEMO_DATASET} test split")
    report, images = build_report(trained.model_path, quantized.path, DEMO_DATASET)
    write_report(report, images, out_dir)
    click.echo(f"evaluated {report['evaluated']}")
    print_summary(report)
    click.echo(f"wrote {out_dir}/model.keras, model_int8.tflite, report.html")
