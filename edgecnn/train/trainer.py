"""Training a zoo model on a dataset, reproducibly, and saving everything later steps need."""

import dataclasses
import json
import pathlib

import numpy as np

from edgecnn import artifacts, atomic, extras
from edgecnn.artifacts import ModelMetadata
from edgecnn.data import Preprocessing, load_dataset
from edgecnn.errors import ConfigurationError

VALIDATION_FRACTION = 0.1


@dataclasses.dataclass
class TrainingResult:
    model_path: pathlib.Path
    metadata: ModelMetadata
    history: dict
    test_accuracy: float


def parse_input_size(text):
    """'HxW' (or a single number for a square) -> (height, width)."""
    try:
        parts = [int(part) for part in str(text).lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or min(parts) < 1:
        raise ConfigurationError(f"--input-size must look like 28x28 or 64, got {text!r}")
    return tuple(parts)


def choose_preprocessing(model_name, dataset_images, input_size=None):
    """The model's default size (or --input-size), with the dataset's channel count."""
    from edgecnn import zoo

    default_height, default_width, _ = zoo.model_info(model_name).default_input_shape
    height, width = input_size or (default_height, default_width)
    channels = 1 if dataset_images.ndim == 3 or dataset_images.shape[-1] == 1 else 3
    return Preprocessing(height, width, channels)


def train_model(model_name, dataset_spec, out_dir, epochs=5, batch_size=64, input_size=None, seed=0,
                learning_rate=1e-3, augment=False, verbose=1, model_options=None):
    """Train `model_name` on `dataset_spec` and write DIR/model.keras and its companions."""
    from edgecnn import zoo

    if epochs < 1 or batch_size < 1:
        raise ConfigurationError("--epochs and --batch-size must be at least 1")
    out_dir = pathlib.Path(out_dir)
    atomic.check_parent_directory(out_dir)
    zoo.model_info(model_name)  # fails early, listing the valid names
    train_set = load_dataset(dataset_spec, split="train")
    preprocessing = choose_preprocessing(model_name, train_set.images, input_size)
    train_inputs = train_set.inputs(preprocessing)
    test_set = load_dataset(dataset_spec, preprocessing=preprocessing, split="test")

    extras.tensorflow("training")
    import keras
    import tensorflow as tf

    order = np.random.default_rng(seed).permutation(len(train_set))
    validation_count = max(1, int(len(order) * VALIDATION_FRACTION))
    validation, training = order[:validation_count], order[validation_count:]
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    model = zoo.create_model(model_name, input_shape=preprocessing.input_shape,
                             num_classes=train_set.num_classes, **(model_options or {}))
    steps = epochs * -(-len(training) // batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps, alpha=0.05)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=False)
    batches = training_batches(train_inputs[training], train_set.labels[training], batch_size, seed, augment)
    fit = model.fit(
        batches, epochs=epochs, verbose=verbose, shuffle=False,  # the batches are shuffled already
        validation_data=(train_inputs[validation], train_set.labels[validation]),
    )
    test_accuracy = float(np.mean(
        np.argmax(model.predict(test_set.inputs(preprocessing), batch_size=256, verbose=0), axis=1)
        == test_set.labels
    ))
    history = {key: [float(value) for value in values] for key, values in fit.history.items()}
    metadata = ModelMetadata(labels=train_set.class_names, preprocessing=preprocessing,
                             model_name=model_name, dataset=str(dataset_spec))
    model_path = save_outputs(out_dir, model, metadata, history, test_accuracy, seed)
    return TrainingResult(model_path, metadata, history, test_accuracy)


def save_outputs(out_dir, model, metadata, history, test_accuracy, seed):
    """Write the model and its companions, each atomically, into `out_dir` (created if needed)."""
    out_dir.mkdir(exist_ok=True)
    model_path = out_dir / "model.keras"
    with atomic.atomic_path(model_path) as temporary:
        model.save(temporary)
    artifacts.write_settings(out_dir, metadata)
    record = {"history": history, "test_accuracy": test_accuracy, "seed": seed,
              "epochs": len(next(iter(history.values()), []))}
    atomic.write_text(out_dir / "history.json", json.dumps(record, indent=1) + "\n")
    plot_training_curves(history, out_dir / "training_curves.png")
    return model_path


def plot_training_curves(history, path):
    """Loss and accuracy per epoch, training against validation."""
    extras.require("matplotlib", "training plots")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(1, 2, figsize=(9, 3.5))
    for axis, metric in zip(axes, ("loss", "accuracy")):
        for prefix, style in (("", "-"), ("val_", "--")):
            if prefix + metric in history:
                axis.plot(range(1, len(history[prefix + metric]) + 1), history[prefix + metric], style,
                          label="validation" if prefix else "training")
        axis.set_xlabel("epoch")
        axis.set_title(metric)
        axis.legend()
    figure.tight_layout()
    with atomic.atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=100)
    pyplot.close(figure)


def training_batches(inputs, labels, batch_size, seed, augment):
    """Shuffled batches, freshly augmented each epoch: shifts of up to 10% and rotations of up to 18 degrees.

    The map runs sequentially so that, with op determinism on, the same seed gives the same weights.
    """
    import keras
    import tensorflow as tf

    batches = tf.data.Dataset.from_tensor_slices((inputs, labels))
    batches = batches.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    if augment:
        augmenter = keras.Sequential([
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed),
            keras.layers.RandomRotation(0.05, fill_mode="constant", seed=seed + 1),
        ])
        batches = batches.map(lambda images, targets: (augmenter(images, training=True), targets))
    return batches.prefetch(1)
