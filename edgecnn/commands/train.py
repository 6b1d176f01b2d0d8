"""`edgecnn train`: train a zoo model and save it with its labels and preprocessing."""

import click


@click.command("train")
@click.argument("model_name", metavar="MODEL")
@click.option("--dataset", "dataset_spec", required=True, metavar="SPEC",
              help="A dataset name (mnist-sample, shapes, mnist, fashion-mnist, cifar10) or a folder of class "
                   "sub-folders.")
@click.option("--epochs", default=5, show_default=True)
@click.option("--batch-size", default=64, show_default=True)
@click.option("--input-size", metavar="HxW", help="Input size (default: the model's).")
@click.option("--seed", default=0, show_default=True, help="The same seed gives the same weights.")
@click.option("--learning-rate", default=1e-3, show_default=True)
@click.option("--augment/--no-augment", default=False,
              help="Augment every epoch: random shifts of up to 10% and rotations of up to 18 degrees.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), metavar="DIR")
def command(model_name, dataset_spec, epochs, batch_size, input_size, seed, learning_rate, augment, out_dir):
    """Train MODEL (see `edgecnn zoo`) and write DIR/model.keras, labels.txt, preprocessing.json,
    history.json and training_curves.png."""
    from edgecnn.train.trainer import parse_input_size, train_model

    size = parse_input_size(input_size) if input_size else None
    result = train_model(model_name, dataset_spec, out_dir, epochs=epochs, batch_size=batch_size,
                         input_size=size, seed=seed, learning_rate=learning_rate, augment=augment)
    click.echo(f"wrote {result.model_path}: test top-1 {result.test_accuracy:.4f} on {dataset_spec}")
