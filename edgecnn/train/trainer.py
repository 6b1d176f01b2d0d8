"""Training a zoo model, or a Keras model file, on a dataset: reproducibly, resumably, on one or many machines.

The dataset streams: a folder's images are decoded once into the image cache (in parallel, with a progress
bar), and every epoch reads its batches from there; a bundled or keras.datasets set stays in memory as uint8.
Either way batches come from the same plan (edgecnn.train.batches), so the same seed gives the same weights.
"""

import dataclasses
import pathlib
import re
import shutil
import tempfile

import numpy as np

from edgecnn import artifacts, atomic, extras
from edgecnn.artifacts import ModelMetadata
from edgecnn.data import Dataset, Preprocessing, open_dataset
from edgecnn.errors import ConfigurationError, EdgecnnError, ModelFileError
from edgecnn.train import batches, distribute, loop, outputs, resume

VALIDATION_FRACTION = 0.1
MODEL_FILE_SUFFIXES = (".keras", ".h5")


class Interrupted(EdgecnnError):
    """Ctrl-C during training: the checkpoint of the last finished epoch stays for the next run."""

    exit_code = 130


@dataclasses.dataclass
class TrainingResult:
    model_path: pathlib.Path  # None on a worker that is not the chief: it writes nothing
    metadata: ModelMetadata
    history: dict
    test_accuracy: float  # None when there is no held-out test split
    resumed_after: int = 0  # epochs a checkpoint had already done
    is_chief: bool = True
    strategy: str = "one-device"
    replicas: int = 1
    trained_on: str = ""


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


def is_model_file(model):
    return str(model).lower().endswith(MODEL_FILE_SUFFIXES) or pathlib.Path(str(model)).is_file()


def override_scaling(preprocessing, scale=None, mean=None, std=None):
    return Preprocessing(
        preprocessing.height, preprocessing.width, preprocessing.channels,
        preprocessing.scale if scale is None else scale,
        preprocessing.mean if mean is None else tuple(mean),
        preprocessing.std if std is None else tuple(std),
    )


def outputs_are_probabilities(model):
    """True when the model ends in a softmax (every zoo model does); else its outputs are taken as logits."""
    last = model.layers[-1] if model.layers else None
    activation = getattr(last, "activation", None)
    return type(last).__name__ == "Softmax" or getattr(activation, "__name__", "") == "softmax"


def train_model(model_name, dataset_spec, out_dir, epochs=5, batch_size=64, input_size=None, seed=0,
                learning_rate=1e-3, augment=False, verbose=1, model_options=None, split=None, limit=None,
                cache=None, strategy="auto", peer_timeout=distribute.PEER_TIMEOUT_SECONDS, scale=None, mean=None,
                std=None, log=print):
    """Train `model_name` (a zoo name or a .keras file) on `dataset_spec` and write DIR/model.keras and its
    companions; only the chief of a multi-worker run writes anything.

    split: the images to train on (default "train"); the test split is evaluated after training when it is a
    separate set. limit: train on a seeded random subset of that many images. cache: as for open_dataset;
    False keeps the run's decoded images in DIR/.edgecnn-work until it ends. A run interrupted or killed after
    some epochs continues from the last of them when started again with the same arguments.
    """
    if epochs < 1 or batch_size < 1:
        raise ConfigurationError("--epochs and --batch-size must be at least 1")
    if peer_timeout <= 0:
        raise ConfigurationError(f"--peer-timeout must be positive, got {peer_timeout}")
    log = log if verbose else None
    out_dir = pathlib.Path(out_dir)
    from_file = is_model_file(model_name)
    if from_file and not pathlib.Path(str(model_name)).is_file():
        raise ModelFileError(f"model file not found: {model_name}")
    if not from_file:
        from edgecnn import zoo

        zoo.model_info(model_name)  # fails early, listing the valid names
    cluster = distribute.cluster_from_environment() if strategy in ("auto", "multi-worker") else None
    is_chief = cluster is None or cluster.is_chief
    if is_chief:
        atomic.check_parent_directory(out_dir)
    work = resume.WorkArea(out_dir)
    extras.tensorflow("training")
    # Before any other TensorFlow work: a multi-worker strategy must configure the runtime first.
    tf_strategy, strategy_name = distribute.create_strategy(strategy, cluster, peer_timeout)
    private_cache = None
    if cache is False:
        private_cache = work.image_cache() if is_chief else pathlib.Path(tempfile.mkdtemp(prefix="edgecnn-images-"))
    import tensorflow as tf

    try:
        return _train(model_name, from_file, dataset_spec, out_dir, work, epochs, batch_size, input_size, seed,
                      learning_rate, augment, log, model_options, split or "train", limit,
                      cache if private_cache is None else private_cache, tf_strategy, strategy_name, cluster,
                      (scale, mean, std))
    except tf.errors.OpError as error:  # outside the epochs: a peer that failed before or after them
        if cluster is None:
            raise
        raise distribute.PeerUnreachable(_lost_peer_message(error, cluster)) from None
    finally:
        if private_cache is not None and not is_chief:
            shutil.rmtree(private_cache, ignore_errors=True)


def _train(model_name, from_file, dataset_spec, out_dir, work, epochs, batch_size, input_size, seed, learning_rate,
           augment, log, model_options, split, limit, cache, tf_strategy, strategy_name, cluster, scaling):
    import keras
    import tensorflow as tf

    is_chief = cluster is None or cluster.is_chief
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    train_set = open_dataset(dataset_spec, split=split, cache=cache)
    file_model = None
    if from_file:
        with tf_strategy.scope():
            file_model = artifacts.load_keras_model(model_name, "training")
        preprocessing = file_preprocessing(model_name, file_model, input_size)
    else:
        preprocessing = zoo_preprocessing(model_name, train_set.channels, input_size)
    preprocessing = override_scaling(preprocessing, *scaling)
    train_set = train_set.with_preprocessing(preprocessing)
    if limit:
        train_set = train_set.take(limit, seed=seed)
    test_set = None
    if split == "train" and _has_test_split(dataset_spec):
        test_set = open_dataset(dataset_spec, split="test", preprocessing=preprocessing, cache=cache)
    train_set = train_set.prepare()
    test_set = test_set.prepare() if test_set is not None else None
    if len(train_set) < 2:
        raise ConfigurationError(f"{train_set.describe()} are too few to train on (at least 2 are needed)")
    with tf_strategy.scope():
        model = file_model or _zoo_model(model_name, preprocessing, train_set.num_classes, model_options)
        _check_outputs(model, model_name, train_set)
        steps_per_epoch = -(-(len(train_set) - _validation_count(len(train_set))) // batch_size)
        schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=epochs * steps_per_epoch,
                                                          alpha=0.05)
        optimizer = keras.optimizers.Adam(schedule)
        optimizer.build(model.trainable_variables)
    settings = {
        "model": str(pathlib.Path(model_name).resolve()) if from_file else str(model_name),
        "model_options": {key: repr(value) for key, value in sorted((model_options or {}).items())},
        "dataset": train_set.source or str(dataset_spec), "split": split, "limit": limit, "images": len(train_set),
        "epochs": epochs, "batch_size": batch_size, "seed": seed, "learning_rate": learning_rate,
        "augment": bool(augment), "preprocessing": preprocessing.to_dict(),
    }
    first_epoch, history = 0, {}
    if is_chief:
        found = work.latest(settings)
        if found is not None:
            first_epoch, history, folder = found
            resume.WorkArea.restore(folder, model, optimizer)
    if cluster is not None:
        first_epoch = resume.broadcast_from_chief(tf_strategy, list(model.weights) + list(optimizer.variables),
                                                  first_epoch)
    if first_epoch and log:
        where = f"the checkpoint in {work.path}" if is_chief else "the chief's checkpoint"
        log(f"resuming after epoch {first_epoch} of {epochs} from {where}")
    replicas = tf_strategy.num_replicas_in_sync
    order = np.random.default_rng(seed).permutation(len(train_set))
    validation, training = order[: _validation_count(len(order))], order[_validation_count(len(order)):]
    labels = train_set.labels
    input_shape = preprocessing.input_shape

    def inputs_of(dataset, positions):
        return lambda chosen: preprocessing.scale_pixels(dataset.gather(positions[chosen]))

    train_feed = loop.Feed(tf_strategy, batches.BatchPlan(len(training), batch_size, seed, True, augment, replicas),
                           inputs_of(train_set, training), labels[training], input_shape)
    validation_feed = loop.Feed(tf_strategy, batches.BatchPlan(len(validation), batch_size, seed, False, False,
                                                               replicas),
                                inputs_of(train_set, validation), labels[validation], input_shape)
    steps = loop.Steps(tf_strategy, model, optimizer, from_logits=not outputs_are_probabilities(model))

    def checkpoint(epoch):
        if is_chief:
            work.save(epoch + 1, model, optimizer, history, settings)

    done = first_epoch
    try:
        if first_epoch < epochs:
            current = {"epoch": first_epoch}

            def on_epoch_end(epoch):
                checkpoint(epoch)
                current["epoch"] = epoch + 1

            try:
                loop.run_epochs(steps, train_feed, validation_feed, first_epoch, epochs, history, on_epoch_end, log)
            finally:
                done = current["epoch"]
        test_accuracy = None
        if test_set is not None and len(test_set):
            everything = np.arange(len(test_set))
            test_feed = loop.Feed(tf_strategy, batches.BatchPlan(len(test_set), 256, seed, False, False, replicas),
                                  inputs_of(test_set, everything), test_set.labels, input_shape)
            test_accuracy = float(loop.evaluate(steps, test_feed)[1])
    except KeyboardInterrupt:
        raise Interrupted(_interrupted_message(done, epochs, work, is_chief)) from None
    except tf.errors.OpError as error:
        if cluster is None:
            raise
        raise distribute.PeerUnreachable(_lost_peer_message(error, cluster, done, epochs)) from None
    metadata = ModelMetadata(labels=train_set.class_names, preprocessing=preprocessing,
                             model_name=pathlib.Path(model_name).stem if from_file else model_name,
                             dataset=train_set.name if isinstance(dataset_spec, Dataset) else str(dataset_spec))
    model_path = None
    if is_chief:
        model_path = outputs.save_outputs(out_dir, model, metadata, history, test_accuracy, seed)
        work.clean()
    return TrainingResult(model_path, metadata, history, test_accuracy, first_epoch, is_chief, strategy_name,
                          replicas, train_set.describe())


def zoo_preprocessing(model_name, channels, input_size=None):
    """The zoo model's default size (or --input-size), with the dataset's channel count."""
    from edgecnn import zoo

    default_height, default_width, _ = zoo.model_info(model_name).default_input_shape
    height, width = input_size or (default_height, default_width)
    return Preprocessing(height, width, channels)


def file_preprocessing(model_path, model, input_size=None):
    """A model file's preprocessing: saved beside it by edgecnn, else the default for its input shape."""
    from edgecnn.quantize import converter

    input_shape = converter.model_input_shape(model)
    if input_size is not None and tuple(input_size) != tuple(input_shape[:2]):
        raise ConfigurationError(
            f"{model_path} takes {input_shape[0]}x{input_shape[1]} inputs; --input-size cannot change a model "
            f"file's input"
        )
    saved = artifacts.saved_settings(model_path)
    if saved is not None and tuple(saved.preprocessing.input_shape) == tuple(input_shape):
        return saved.preprocessing
    return Preprocessing.for_input_shape(input_shape)


def _zoo_model(model_name, preprocessing, num_classes, model_options):
    from edgecnn import zoo

    return zoo.create_model(model_name, input_shape=preprocessing.input_shape, num_classes=num_classes,
                            **(model_options or {}))


def _check_outputs(model, model_name, dataset):
    outputs_count = int(model.outputs[0].shape[-1])
    if outputs_count != dataset.num_classes:
        raise ConfigurationError(
            f"{model_name} has {outputs_count} outputs but {dataset.source} has {dataset.num_classes} classes"
        )


def _validation_count(count):
    return max(1, int(count * VALIDATION_FRACTION))


def _has_test_split(dataset_spec):
    return not isinstance(dataset_spec, Dataset)  # a Dataset given directly is all there is


def _interrupted_message(done, epochs, work, is_chief):
    if done and is_chief:
        return (f"interrupted after epoch {done} of {epochs}; run the same command again to resume from the "
                f"checkpoint in {work.path}")
    if done:
        return f"interrupted after epoch {done} of {epochs}; the chief keeps the checkpoint"
    return "interrupted before the first epoch ended; nothing was written"


def _lost_peer_message(error, cluster, done=None, epochs=None):
    text = str(error)
    cause = re.search(r"aborted by: ([^\n]+)", text)
    details = [line.strip() for line in text.splitlines()
               if line.strip() and "Graph execution error" not in line and not line.startswith("Detected at")]
    text = (cause.group(1) if cause else details[0] if details else type(error).__name__)[:160]
    match = re.search(r"/job:(\w+)/replica:\d+/task:(\d+)", str(error))
    task = cluster.task_named(match.group(1), int(match.group(2))) if match else None
    who = f"{task}" if task is not None and task != cluster.this else "a peer worker"
    if done is None:
        return f"lost contact with {who} ({text}); start every worker again with the same command"
    return (f"lost contact with {who} after epoch {done} of {epochs} ({text}); start every worker again with "
            f"the same command to resume after epoch {done}")
