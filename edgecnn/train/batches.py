"""Which images make each training batch, and the tf.data pipelines that feed them to every replica.

The plan is plain NumPy and depends only on the seed: epoch e's order is a permutation seeded by (seed, e), cut
into global batches of `batch_size`, and each image's augmentation (shift, rotation) is drawn from the same
seed by its place in that epoch. Replicas (devices, workers) each take an even share of every global batch, so
one process, several GPUs and several machines all see the same images with the same augmentation, and a
resumed run continues the exact sequence of the run it resumes. A share is never empty: a replica short of
images in an epoch's last batch gets a copy of one with weight 0, which changes neither loss nor gradients.
"""

import dataclasses

import numpy as np

SHIFT_FRACTION = 0.1  # shifts of up to 10% of the height and width
ROTATION_FRACTION = 0.05  # rotations of up to 5% of a full turn (18 degrees)
PARAMETERS = 3  # per image: rotation angle, shift down, shift right


@dataclasses.dataclass(frozen=True)
class BatchPlan:
    """Global batches of `count` images over epochs, split into `replicas` shares."""

    count: int
    batch_size: int
    seed: int
    shuffle: bool = True
    augment: bool = False
    replicas: int = 1

    @property
    def steps_per_epoch(self):
        return -(-self.count // self.batch_size)

    def order(self, epoch):
        """Image indices of epoch `epoch` in the order they are used."""
        if not self.shuffle:
            return np.arange(self.count)
        return np.random.default_rng([self.seed, epoch]).permutation(self.count)

    def augmentation(self, epoch):
        """(count, 3) uniform numbers in [-1, 1] for the images of epoch `epoch`, by their place in its order."""
        return np.random.default_rng([self.seed, epoch, 1]).uniform(-1, 1, (self.count, PARAMETERS)).astype(
            np.float32
        )

    def shares(self, epoch, replica_ids):
        """For each step of the epoch, per replica in `replica_ids`: (indices, weights, parameters, global rows)."""
        order = self.order(epoch)
        parameters = self.augmentation(epoch) if self.augment else None
        for step in range(self.steps_per_epoch):
            start = step * self.batch_size
            rows = min(self.batch_size, self.count - start)
            share = -(-rows // self.replicas)
            for replica in replica_ids:
                low = min(start + replica * share, start + rows)
                high = min(low + share, start + rows)
                places = np.arange(low, high)
                weights = np.ones(len(places), np.float32)
                if not len(places):  # padded with the batch's first image, which then counts for nothing
                    places, weights = np.array([start]), np.zeros(1, np.float32)
                chosen = parameters[places] if parameters is not None else np.zeros((len(places), PARAMETERS),
                                                                                    np.float32)
                yield order[places], weights, chosen, np.int32(rows)


def replica_ids(input_context, num_replicas):
    """The replicas one input pipeline feeds: pipeline p of P feeds replicas p*R .. p*R+R-1."""
    if input_context is None:
        return list(range(num_replicas))
    per_pipeline = num_replicas // input_context.num_input_pipelines
    first = input_context.input_pipeline_id * per_pipeline
    return list(range(first, first + per_pipeline))


def make_dataset(plan, load_inputs, labels, input_shape, first_epoch, epochs, input_context=None):
    """A tf.data pipeline of (inputs, labels, weights, global rows) shares for epochs first_epoch..epochs-1.

    `load_inputs(indices)` gives the float32 model inputs of those images (NumPy): the same preprocessing
    every other stage uses. Loading runs in parallel (tf.data AUTOTUNE) and keeps the plan's order.
    """
    import tensorflow as tf

    ids = replica_ids(input_context, plan.replicas)
    labels = np.asarray(labels, np.int64)

    def generate():
        for epoch in range(first_epoch, epochs):
            yield from plan.shares(epoch, ids)

    signature = (
        tf.TensorSpec([None], tf.int64),
        tf.TensorSpec([None], tf.float32),
        tf.TensorSpec([None, PARAMETERS], tf.float32),
        tf.TensorSpec([], tf.int32),
    )
    shares = tf.data.Dataset.from_generator(generate, output_signature=signature)

    def load(indices, weights, parameters, rows):
        inputs = tf.numpy_function(lambda chosen: load_inputs(chosen), [indices], tf.float32, stateful=False)
        inputs = tf.ensure_shape(inputs, [None, *input_shape])
        if plan.augment:
            inputs = augment(inputs, parameters)
        targets = tf.numpy_function(lambda chosen: labels[chosen], [indices], tf.int64, stateful=False)
        return inputs, tf.ensure_shape(targets, [None]), weights, rows

    loaded = shares.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    return loaded.prefetch(tf.data.AUTOTUNE).with_options(options)


def augment(images, parameters):
    """Rotate each image by up to 18 degrees about its centre and shift it by up to 10%, as one bilinear warp.

    `parameters` (N, 3) in [-1, 1] scale the rotation, the downward and the rightward shift; pixels that come
    from outside the image are 0, as Keras's RandomRotation and RandomTranslation fill them.
    """
    import tensorflow as tf

    shape = tf.shape(images)
    height, width = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
    angle = parameters[:, 0] * np.float32(ROTATION_FRACTION * 2 * np.pi)
    shift_y = parameters[:, 1] * np.float32(SHIFT_FRACTION) * height
    shift_x = parameters[:, 2] * np.float32(SHIFT_FRACTION) * width
    cos, sin = tf.cos(angle), tf.sin(angle)
    # Each output pixel (x, y) samples the input at R (x, y) + offset - shift (R about the image centre).
    offset_x = ((width - 1) - (cos * (width - 1) - sin * (height - 1))) / 2
    offset_y = ((height - 1) - (sin * (width - 1) + cos * (height - 1))) / 2
    zeros = tf.zeros_like(angle)
    transforms = tf.stack([cos, -sin, offset_x - shift_x, sin, cos, offset_y - shift_y, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=shape[1:3], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="CONSTANT",
    )
