"""MobileNetV2 (Sandler et al. 2018), written out so it builds without keras.applications or downloads.

Inverted residual blocks: a 1x1 expansion with ReLU6, a 3x3 depthwise conv with ReLU6, a linear 1x1
projection, and an identity skip when stride is 1 and the channel count is unchanged.
"""

from edgecnn.zoo.common import check_positive, check_rate, scaled
from edgecnn.zoo.registry import load_keras, register_model

# (expansion factor, output channels, repeats, first stride), from the paper's Table 2.
BOTTLENECKS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


@register_model("mobilenet_v2", default_input_shape=(96, 96, 3))
def mobilenet_v2(input_shape, num_classes=10, alpha=0.35, dropout_rate=0.0):
    """MobileNetV2 with width multiplier `alpha` (default 0.35, the smallest published, ~0.4M parameters).

    Channel counts are rounded to multiples of 8 as in the paper; the last 1x1 conv keeps 1280 channels for
    alpha <= 1. Stride-2 convs use SAME padding instead of Keras' explicit zero padding (same int8 ops).
    """
    keras = load_keras()
    layers = keras.layers
    check_positive(alpha, "alpha", "mobilenet_v2")
    check_rate(dropout_rate, "dropout_rate", "mobilenet_v2")
    inputs = keras.Input(shape=input_shape, name="image")
    stem_channels = scaled(32, alpha, 8)
    x = layers.Conv2D(stem_channels, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu6")(x)
    block = 0
    for expansion, channels, repeats, first_stride in BOTTLENECKS:
        for repeat in range(repeats):
            strides = first_stride if repeat == 0 else 1
            x = inverted_residual(layers, x, expansion, scaled(channels, alpha, 8), strides, f"block{block}")
            block += 1
    last_channels = scaled(1280, alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_channels, 1, use_bias=False, name="head_conv")(x)
    x = layers.BatchNormalization(name="head_bn")(x)
    x = layers.ReLU(6.0, name="head_relu6")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    if dropout_rate:
        x = layers.Dropout(dropout_rate, name="dropout")(x)
    x = layers.Dense(num_classes, name="logits")(x)
    outputs = layers.Softmax(name="probabilities")(x)
    return keras.Model(inputs, outputs, name="mobilenet_v2")


def inverted_residual(layers, x, expansion, channels, strides, name):
    """expand 1x1 (ReLU6) -> depthwise 3x3 (ReLU6) -> project 1x1 (linear) [+ input]."""
    input_channels = x.shape[-1]
    y = x
    if expansion != 1:
        y = layers.Conv2D(input_channels * expansion, 1, use_bias=False, name=f"{name}_expand")(y)
        y = layers.BatchNormalization(name=f"{name}_expand_bn")(y)
        y = layers.ReLU(6.0, name=f"{name}_expand_relu6")(y)
    y = layers.DepthwiseConv2D(3, strides, padding="same", use_bias=False, name=f"{name}_depthwise")(y)
    y = layers.BatchNormalization(name=f"{name}_depthwise_bn")(y)
    y = layers.ReLU(6.0, name=f"{name}_depthwise_relu6")(y)
    y = layers.Conv2D(channels, 1, use_bias=False, name=f"{name}_project")(y)
    y = layers.BatchNormalization(name=f"{name}_project_bn")(y)
    if strides == 1 and input_channels == channels:
        y = layers.Add(name=f"{name}_add")([x, y])
    return y
