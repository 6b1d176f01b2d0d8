"""Small plain CNNs: LeNet-5, a two-conv MNIST network, CNN Explainer's Tiny VGG and a scaled AlexNet.

Every builder imports Keras inside the function, ends with a Softmax layer, and uses only layers that convert
to builtin int8 TFLite ops.
"""

from edgecnn.errors import ConfigurationError
from edgecnn.zoo.common import check_choice, check_positive, check_rate, scaled
from edgecnn.zoo.registry import load_keras, register_model

LENET_ACTIVATIONS = ("relu", "sigmoid")
LENET_POOLINGS = ("max", "average")


@register_model("lenet5", default_input_shape=(28, 28, 1))
def lenet5(input_shape, num_classes=10, activation="relu", pooling="max"):
    """LeNet-5 (LeCun et al. 1998): 5x5 convs of 6 and 16 channels, 2x2/2 pooling, dense 120-84-classes.

    The original network read 32x32 images padded from 28x28 digits. Here the first conv uses SAME padding
    on the 28x28 input instead, which gives the same 28x28x6 -> 14x14 -> 10x10x16 -> 5x5x16 shapes (and the
    classic 61,706 parameters for 10 classes) without an explicit pad. The defaults are the modern choices
    that train fastest: `activation` "relu" (or "sigmoid", closer to the original squashing function) and
    `pooling` "max" (or "average", the original subsampling; on the 8,000 bundled training digits it ends
    about 0.7 points lower).
    """
    keras = load_keras()
    layers = keras.layers
    check_choice(activation, LENET_ACTIVATIONS, "activation", "lenet5")
    check_choice(pooling, LENET_POOLINGS, "pooling", "lenet5")
    pool = layers.MaxPooling2D if pooling == "max" else layers.AveragePooling2D
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(6, 5, padding="same", activation=activation, name="c1")(inputs)
    x = pool(2, strides=2, name="s2")(x)
    x = layers.Conv2D(16, 5, padding="valid", activation=activation, name="c3")(x)
    x = pool(2, strides=2, name="s4")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(120, activation=activation, name="c5")(x)
    x = layers.Dense(84, activation=activation, name="f6")(x)
    x = layers.Dense(num_classes, name="logits")(x)
    outputs = layers.Softmax(name="probabilities")(x)
    return keras.Model(inputs, outputs, name="lenet5")


@register_model("simple_cnn", default_input_shape=(28, 28, 1))
def simple_cnn(input_shape, num_classes=10):
    """Two 3x3 ReLU convs (32, 64 filters, SAME), each with 2x2 max pooling, then dense 128 and classes."""
    keras = load_keras()
    layers = keras.layers
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation="relu", name="dense")(x)
    x = layers.Dense(num_classes, name="logits")(x)
    outputs = layers.Softmax(name="probabilities")(x)
    return keras.Model(inputs, outputs, name="simple_cnn")


@register_model("tiny_vgg", default_input_shape=(64, 64, 3))
def tiny_vgg(input_shape, num_classes=10, filters=10):
    """CNN Explainer's Tiny VGG: two blocks of two 3x3 VALID ReLU convs and a 2x2 max pool, then dense.

    Layer names match the trained TF.js model, so load_cnn_explainer_tinyvgg() can load its weights by name.
    """
    keras = load_keras()
    layers = keras.layers
    if not isinstance(filters, int) or isinstance(filters, bool) or filters < 1:
        raise ConfigurationError(f"tiny_vgg filters must be a positive integer, got {filters!r}")
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for block in (1, 2):
        x = layers.Conv2D(filters, 3, padding="valid", activation="relu", name=f"conv_{block}_1")(x)
        x = layers.Conv2D(filters, 3, padding="valid", activation="relu", name=f"conv_{block}_2")(x)
        x = layers.MaxPooling2D(2, name=f"max_pool_{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(num_classes, name="output")(x)
    outputs = layers.Softmax(name="probabilities")(x)
    return keras.Model(inputs, outputs, name="tiny_vgg")


@register_model("alexnet", default_input_shape=(32, 32, 3))
def alexnet(input_shape, num_classes=10, width=0.5, dropout_rate=0.5):
    """AlexNet scaled for small inputs: 5 convs (5x5 then 3x3), 3 overlapping max pools, 3 dense, dropout.

    Channel counts are AlexNet's (64, 192, 384, 256, 256) and the hidden dense layers 1024 wide, all times
    `width`; the default 0.5 keeps it near 1.9M parameters at 32x32 so CPU tests stay quick.
    """
    keras = load_keras()
    layers = keras.layers
    check_positive(width, "width", "alexnet")
    check_rate(dropout_rate, "dropout_rate", "alexnet")
    channels = [scaled(count, width) for count in (64, 192, 384, 256, 256)]
    hidden_units = scaled(1024, width)
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(channels[0], 5, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    x = layers.Conv2D(channels[1], 3, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
    x = layers.Conv2D(channels[2], 3, padding="same", activation="relu", name="conv3")(x)
    x = layers.Conv2D(channels[3], 3, padding="same", activation="relu", name="conv4")(x)
    x = layers.Conv2D(channels[4], 3, padding="same", activation="relu", name="conv5")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool5")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout_rate, name="dropout6")(x)
    x = layers.Dense(hidden_units, activation="relu", name="fc6")(x)
    x = layers.Dropout(dropout_rate, name="dropout7")(x)
    x = layers.Dense(hidden_units, activation="relu", name="fc7")(x)
    x = layers.Dense(num_classes, name="logits")(x)
    outputs = layers.Softmax(name="probabilities")(x)
    return keras.Model(inputs, outputs, name="alexnet")

