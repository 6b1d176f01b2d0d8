"""Residual networks (He et al. 2015) built from basic blocks: two 3x3 convs and an identity skip.

Where a block changes the spatial size or channel count, the skip is a 1x1 strided conv with batch
normalization (a projection). Convs feeding batch normalization have no bias: it folds into them at
conversion.
"""

from edgecnn.zoo.common import check_positive, scaled
from edgecnn.zoo.registry import load_keras, register_model


@register_model("resnet8", default_input_shape=(32, 32, 3))
def resnet8(input_shape, num_classes=10, width=1.0):
    """CIFAR ResNet-8 (as in MLPerf Tiny): a 3x3 stem and three stages of one basic block (16, 32, 64 ch)."""
    return _cifar_resnet("resnet8", input_shape, num_classes, width, blocks_per_stage=1)


@register_model("resnet20", default_input_shape=(32, 32, 3))
def resnet20(input_shape, num_classes=10, width=1.0):
    """CIFAR ResNet-20: a 3x3 stem and three stages of three basic blocks (16, 32, 64 channels)."""
    return _cifar_resnet("resnet20", input_shape, num_classes, width, blocks_per_stage=3)


@register_model("resnet18", default_input_shape=(96, 96, 3))
def resnet18(input_shape, num_classes=10, width=0.25):
    """ImageNet ResNet-18: 7x7/2 stem, 3x3/2 max pool, four stages of two basic blocks (64-512 ch x width).

    The default width 0.25 (16 to 128 channels, about 0.7M parameters) keeps it edge- and CPU-test-sized;
    width 1.0 is the original 11M-parameter network.
    """
    keras = load_keras()
    layers = keras.layers
    check_positive(width, "width", "resnet18")
    inputs = keras.Input(shape=input_shape, name="image")
    stem_channels = scaled(64, width)
    x = layers.Conv2D(stem_channels, 7, strides=2, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    for stage, channels in enumerate((64, 128, 256, 512), start=1):
        for block in (1, 2):
            strides = 2 if stage > 1 and block == 1 else 1
            x = basic_block(layers, x, scaled(channels, width), strides, f"stage{stage}_block{block}")
    return _classifier(keras, inputs, x, num_classes, "resnet18")


def basic_block(layers, x, channels, strides, name):
    """conv3x3-BN-ReLU-conv3x3-BN, plus the input (projected if its shape changes), then ReLU."""
    shortcut = x
    if strides != 1 or x.shape[-1] != channels:
        shortcut = layers.Conv2D(channels, 1, strides=strides, use_bias=False, name=f"{name}_project")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_project_bn")(shortcut)
    y = layers.Conv2D(channels, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = layers.ReLU(name=f"{name}_relu1")(y)
    y = layers.Conv2D(channels, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.ReLU(name=f"{name}_relu2")(y)


def _cifar_resnet(name, input_shape, num_classes, width, blocks_per_stage):
    keras = load_keras()
    layers = keras.layers
    check_positive(width, "width", name)
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(scaled(16, width), 3, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    for stage, channels in enumerate((16, 32, 64), start=1):
        for block in range(1, blocks_per_stage + 1):
            strides = 2 if stage > 1 and block == 1 else 1
            x = basic_block(layers, x, scaled(channels, width), strides, f"stage{stage}_block{block}")
    return _classifier(keras, inputs, x, num_classes, name)


def _classifier(keras, inputs, x, num_classes, name):
    layers = keras.layers
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dense(num_classes, name="logits")(x)
    outputs = layers.Softmax(name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)
