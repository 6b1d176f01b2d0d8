"""`edgecnn train`: train a zoo model or a Keras model file and save it with its labels and preprocessing."""

import click

from edgecnn.commands import options
from edgecnn.train.distribute import PEER_TIMEOUT_SECONDS, STRATEGIES


@click.command("train")
@click.argument("model_name", metavar="MODEL")
@click.option("--dataset", "dataset_spec", required=True, metavar="SPEC",
              help="A dataset name (mnist-sample, shapes, mnist, fashion-mnist, cifar10) or a folder of class "
                   "sub-folders (or of train/ and test/ or val/ folders).")
@options.dataset_reading("Images to train on (default: train; the test split is evaluated after training).")
@click.option("--limit", type=options.Count(), metavar="N", help="Train on a seeded random N of those images.")
@click.option("--epochs", default=5, show_default=True)
@click.option("--batch-size", default=64, show_default=True, help="Global batch size, split across replicas.")
@click.option("--input-size", metavar="HxW", help="Input size (default: the model's).")
@options.preprocessing_overrides
@click.option("--seed", default=0, show_default=True, help="The same seed gives the same weights.")
@click.option("--learning-rate", default=1e-3, show_default=True)
@click.option("--augment/--no-augment", default=False,
              help="Augment every epoch: random shifts of up to 10% and rotations of up to 18 degrees.")
@click.option("--strategy", type=click.Choice(STRATEGIES.names()), default="auto", show_default=True,
              help="auto: multi-worker when TF_CONFIG names a cluster, mirrored with several GPUs, else "
                   "one-device.")
@click.option("--peer-timeout", type=click.FloatRange(min=0, min_open=True), default=PEER_TIMEOUT_SECONDS,
              show_default=True, metavar="SECONDS", help="Multi-worker: give up when the cluster has not formed "
                                                          "after this long.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), metavar="DIR")
def command(model_name, dataset_spec, split, cache, limit, epochs, batch_size, input_size, scale, mean, std, seed,
            learning_rate, augment, strategy, peer_timeout, out_dir):
    """Train MODEL (a zoo name, see `edgecnn zoo`, or a .keras file, from its current weights) and write
    DIR/model.keras, labels.txt, preprocessing.json, history.json and training_curves.png.

    Every epoch is checkpointed in DIR/.edgecnn-work: run the same command again after a crash or Ctrl-C and
    it continues from the last finished epoch.
    """
    from edgecnn.train.trainer import parse_input_size, train_model

    size = parse_input_size(input_size) if input_size else None
    result = train_model(model_name, dataset_spec, out_dir, epochs=epochs, batch_size=batch_size, input_size=size,
                         seed=seed, learning_rate=learning_rate, augment=augment, split=split, limit=limit,
                         cache=cache, strategy=strategy, peer_timeout=peer_timeout, scale=scale, mean=mean,
                         std=std, log=lambda line: click.echo(line))
    where = f" ({result.strategy}, {result.replicas} replicas)" if result.replicas > 1 else ""
    if not result.is_chief:
        click.echo(f"trained on {result.trained_on}{where}; the chief writes {out_dir}")
        return
    accuracy = (f"test top-1 {result.test_accuracy:.4f} on {dataset_spec}" if result.test_accuracy is not None
                else "no separate test split to evaluate")
    click.echo(f"wrote {result.model_path}: {accuracy} (trained on {result.trained_on}{where})")
