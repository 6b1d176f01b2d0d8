"""Single-op Keras models with random hyperparameters: one table of cases, each a hypothesis strategy of
parameters and the builder that turns them into a model. The NumPy interpreter's property tests
(test_interpreter_properties.py) and the C compiler's (tests/codegen) draw from the same table.
"""

import dataclasses

import numpy as np
import reference_models
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

SEEDS = st.integers(0, 2**16)


def hypothesis_settings(max_examples):
    """The same examples on every run (derandomized, no database) and no deadline: each converts a model."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
            HealthCheck.function_scoped_fixture,
        ],
    )


def _keras():
    import keras

    return keras


def conv_2d(size, channels, filters, kernel, stride, dilation, padding, activation):
    keras = _keras()
    if dilation > 1:
        stride = 1  # Keras rejects strides > 1 together with dilation
    if padding == "valid" and (kernel - 1) * dilation + 1 > size:
        kernel = 1
    inputs = keras.Input((size, size + 1, channels))
    outputs = keras.layers.Conv2D(
        filters, kernel, strides=stride, dilation_rate=dilation, padding=padding, activation=activation
    )(inputs)
    return keras.Model(inputs, outputs)


def depthwise_conv_2d(size, channels, multiplier, kernel, stride, dilation, padding):
    keras = _keras()
    if dilation > 1:
        stride = 1
    if padding == "valid" and (kernel - 1) * dilation + 1 > size:
        kernel = 1
    inputs = keras.Input((size, size, channels))
    outputs = keras.layers.DepthwiseConv2D(
        kernel, strides=stride, depth_multiplier=multiplier, dilation_rate=dilation, padding=padding
    )(inputs)
    return keras.Model(inputs, outputs)


def transpose_conv(size, channels, filters, kernel, stride, padding):
    keras = _keras()
    inputs = keras.Input((size, size, channels))
    outputs = keras.layers.Conv2DTranspose(filters, kernel, strides=stride, padding=padding)(inputs)
    return keras.Model(inputs, outputs)


def pooling_and_mean(size, channels, pool, stride, padding, kind):
    keras = _keras()
    pool = min(pool, size)
    inputs = keras.Input((size, size, channels))
    if kind == "global":
        pooled = keras.layers.GlobalAveragePooling2D()(inputs)
    else:
        layer = keras.layers.MaxPooling2D if kind == "max" else keras.layers.AveragePooling2D
        pooled = layer(pool, strides=stride, padding=padding)(inputs)
    return keras.Model(inputs, pooled)


def fully_connected_and_activations(depth, units, rows, activation):
    keras = _keras()
    # edgecnn's quantizer takes image models: (rows, rows, depth) flattened into the dense layer.
    inputs = keras.Input((rows, rows, depth))
    outputs = keras.layers.Dense(units, activation=activation)(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, outputs)


def elementwise(size, channels, operation, seed):
    keras = _keras()
    inputs = keras.Input((size, size, channels))
    first = keras.layers.Conv2D(channels, 1)(inputs)
    second = keras.layers.Conv2D(channels, 3, padding="same")(inputs)
    if operation == "hard_swish":
        outputs = keras.layers.Activation("hard_swish")(first)
    elif operation == "leaky_relu":
        outputs = keras.layers.LeakyReLU(negative_slope=0.1 + (seed % 7) / 10)(first)
    else:
        layer = {
            "add": keras.layers.Add,
            "subtract": keras.layers.Subtract,
            "multiply": keras.layers.Multiply,
            "concatenate": keras.layers.Concatenate,
        }[operation]
        outputs = layer()([first, second])
    return keras.Model(inputs, outputs)


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    parameters: object  # hypothesis strategy of the builder's keyword arguments (without seed)
    build: object  # (**parameters, [seed]) -> keras.Model
    takes_seed: bool = False
    op: str = None  # the op the model must contain, when one is expected

    def model(self, parameters, seed):
        return self.build(**parameters, seed=seed) if self.takes_seed else self.build(**parameters)


CASES = (
    Case(
        "conv_2d",
        st.fixed_dictionaries(
            {
                "size": st.integers(5, 14),
                "channels": st.integers(1, 6),
                "filters": st.integers(1, 8),
                "kernel": st.integers(1, 4),
                "stride": st.integers(1, 3),
                "dilation": st.integers(1, 2),
                "padding": st.sampled_from(["same", "valid"]),
                "activation": st.sampled_from([None, "relu", "relu6"]),
            }
        ),
        conv_2d,
        op="CONV_2D",
    ),
    Case(
        "depthwise_conv_2d",
        st.fixed_dictionaries(
            {
                "size": st.integers(5, 14),
                "channels": st.integers(1, 6),
                "multiplier": st.integers(1, 3),
                "kernel": st.integers(1, 4),
                "stride": st.integers(1, 3),
                "dilation": st.integers(1, 2),
                "padding": st.sampled_from(["same", "valid"]),
            }
        ),
        depthwise_conv_2d,
        op="DEPTHWISE_CONV_2D",
    ),
    Case(
        "transpose_conv",
        st.fixed_dictionaries(
            {
                "size": st.integers(2, 8),
                "channels": st.integers(1, 6),
                "filters": st.integers(1, 6),
                "kernel": st.integers(1, 4),
                "stride": st.integers(1, 3),
                "padding": st.sampled_from(["same", "valid"]),
            }
        ),
        transpose_conv,
    ),
    Case(
        "pooling_and_mean",
        st.fixed_dictionaries(
            {
                "size": st.integers(3, 12),
                "channels": st.integers(1, 5),
                "pool": st.integers(1, 4),
                "stride": st.integers(1, 3),
                "padding": st.sampled_from(["same", "valid"]),
                "kind": st.sampled_from(["max", "average", "global"]),
            }
        ),
        pooling_and_mean,
    ),
    Case(
        "fully_connected_and_activations",
        st.fixed_dictionaries(
            {
                "depth": st.integers(1, 40),
                "units": st.integers(1, 20),
                "rows": st.integers(1, 3),
                "activation": st.sampled_from([None, "relu", "softmax", "sigmoid", "tanh"]),
            }
        ),
        fully_connected_and_activations,
    ),
    Case(
        "elementwise",
        st.fixed_dictionaries(
            {
                "size": st.integers(2, 8),
                "channels": st.integers(1, 6),
                "operation": st.sampled_from(
                    ["add", "subtract", "multiply", "concatenate", "hard_swish", "leaky_relu"]
                ),
            }
        ),
        elementwise,
        takes_seed=True,
    ),
)


def convert(keras_model, seed, count=12):
    """The model converted to full int8 with calibration drawn from `seed`, and `count` random int8 inputs."""
    shape = tuple(keras_model.inputs[0].shape[1:])
    generator = np.random.default_rng(seed)
    calibration = generator.normal(0, generator.uniform(0.2, 3.0), size=(8, *shape)).astype(np.float32)
    model_bytes = reference_models.convert(keras_model, calibration)
    from edgecnn.reference import Interpreter

    info = Interpreter(model_bytes).input_details[0]
    inputs = generator.integers(-128, 128, size=(count, *info.shape[1:])).astype(np.int8)
    return model_bytes, inputs
