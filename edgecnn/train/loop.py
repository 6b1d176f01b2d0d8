"""The training loop: one step per global batch on every replica of a tf.distribute strategy.

A custom loop rather than Keras's `fit`: Keras 3's fit cannot reduce its metrics under
MultiWorkerMirroredStrategy (keras-team/keras#20585), and one loop for every strategy means one process, several
GPUs and several machines compute the same thing. The loss of a share is its weighted sum over the global
batch's size, so the gradients the optimizer sums across replicas are those of the whole batch.
"""

import time

import numpy as np

from edgecnn import progress as progress_bar
from edgecnn.train import batches


class Steps:
    """The compiled train and evaluate steps of one model and optimizer under one strategy."""

    def __init__(self, strategy, model, optimizer, from_logits):
        import keras
        import tensorflow as tf

        self.strategy = strategy
        self.model = model
        self.optimizer = optimizer
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, reduction=None)
        replicas = strategy.num_replicas_in_sync

        def sums(outputs, labels, weights, losses):
            correct = tf.cast(tf.argmax(outputs, axis=-1) == labels, tf.float32) * weights
            return tf.stack([tf.reduce_sum(losses), tf.reduce_sum(correct), tf.reduce_sum(weights)])

        def train_share(inputs, labels, weights, rows):
            with tf.GradientTape() as tape:
                outputs = model(inputs, training=True)
                losses = loss(labels, outputs) * weights
                total = tf.reduce_sum(losses) / tf.cast(rows, tf.float32)
                if model.losses:  # weight penalties: once per step in all, so a share of it per replica
                    total += tf.add_n(model.losses) / replicas
            gradients = tape.gradient(total, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            return sums(outputs, labels, weights, losses)

        def evaluate_share(inputs, labels, weights, rows):
            outputs = model(inputs, training=False)
            return sums(outputs, labels, weights, loss(labels, outputs) * weights)

        @tf.function
        def train_step(iterator):
            totals = strategy.run(train_share, args=next(iterator))
            return strategy.reduce(tf.distribute.ReduceOp.SUM, totals, axis=None)

        @tf.function
        def evaluate_step(iterator):
            totals = strategy.run(evaluate_share, args=next(iterator))
            return strategy.reduce(tf.distribute.ReduceOp.SUM, totals, axis=None)

        self.train_step = train_step
        self.evaluate_step = evaluate_step


class Feed:
    """Images and labels of one split with the plan that batches them, distributed over the strategy."""

    def __init__(self, strategy, plan, load_inputs, labels, input_shape):
        self.strategy = strategy
        self.plan = plan
        self.load_inputs = load_inputs
        self.labels = labels
        self.input_shape = tuple(input_shape)

    def distributed(self, first_epoch, epochs):
        import tensorflow as tf

        def dataset_for(input_context):
            return batches.make_dataset(self.plan, self.load_inputs, self.labels, self.input_shape, first_epoch,
                                        epochs, input_context)

        options = tf.distribute.InputOptions(experimental_fetch_to_device=True)
        return self.strategy.distribute_datasets_from_function(dataset_for, options)


def evaluate(steps, feed):
    """(loss, accuracy) of the model on every image of `feed`; (nan, nan) when it has none."""
    if feed is None or feed.plan.count == 0:
        return float("nan"), float("nan")
    iterator = iter(feed.distributed(0, 1))
    totals = np.zeros(3)
    for _ in range(feed.plan.steps_per_epoch):
        totals += steps.evaluate_step(iterator).numpy()
    return totals[0] / totals[2], totals[1] / totals[2]


def run_epochs(steps, train_feed, validation_feed, first_epoch, epochs, history, on_epoch_end, log=None):
    """Train epochs first_epoch..epochs-1, appending to `history` and calling on_epoch_end(epoch) after each."""
    iterator = iter(train_feed.distributed(first_epoch, epochs))
    step_count = train_feed.plan.steps_per_epoch
    for epoch in range(first_epoch, epochs):
        started, started_cpu = time.perf_counter(), time.process_time()
        totals = np.zeros(3)
        with progress_bar.Progress(step_count, f"epoch {epoch + 1}/{epochs}", unit="steps") as bar:
            for _ in range(step_count):
                totals += steps.train_step(iterator).numpy()
                bar.advance()
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
        validation_loss, validation_accuracy = evaluate(steps, validation_feed)
        record = {
            "loss": totals[0] / totals[2],
            "accuracy": totals[1] / totals[2],
            "val_loss": validation_loss,
            "val_accuracy": validation_accuracy,
            "epoch_seconds": seconds,
            "epoch_cpu_seconds": cpu_seconds,  # of every thread of this process: steady on a busy machine
        }
        for key, value in record.items():
            history.setdefault(key, []).append(float(value))
        on_epoch_end(epoch)
        if log is not None:
            log(
                f"epoch {epoch + 1}/{epochs}: loss {record['loss']:.4f} - accuracy {record['accuracy']:.4f} - "
                f"val_loss {validation_loss:.4f} - val_accuracy {validation_accuracy:.4f} "
                f"({seconds:.1f} s, {train_feed.plan.count / seconds:.0f} images/s)"
            )
    return history
