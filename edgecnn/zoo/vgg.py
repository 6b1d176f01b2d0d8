"""VGG-11 and VGG-16 (Simonyan & Zisserman 2014) with a width multiplier for small inputs.

Stacks of 3x3 SAME convs, each stage closed by a 2x2 max pool, then two hidden dense layers (1024 x width
units each) and the classes.
Five pools divide the input by 32, so inputs must be at least 32x32.
"""

from edgecnn.zoo.common import check_positive, check_rate, scaled
from edgecnn.zoo.registry import load_keras, register_model

# Convolution channels per stage; every stage ends with a 2x2 max pool.
VGG_STAGES = {
    "vgg11": ((64,), (128,), (256, 256), (512, 512), (512, 512)),
    "vgg16": ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512)),
}


@register_model("vgg11", default_input_shape=(32, 32, 3))
def vgg11(input_shape, num_classes=10, width=0.25, batch_norm=True, dropout_rate=0.5):
    """VGG-11: 8 convs (3x3) in 5 stages and 3 dense layers; width 0.25 (16 to 128 channels) by default."""
    return _vgg("vgg11", input_shape, num_classes, width, batch_norm, dropout_rate)


@register_model("vgg16", default_input_shape=(32, 32, 3))
def vgg16(input_shape, num_classes=10, width=0.25, batch_norm=True, dropout_rate=0.5):
    """VGG-16: 13 convs (3x3) in 5 stages and 3 dense layers; width 0.25 (16 to 128 channels) by default."""
    return _vgg("vgg16", input_shape, num_classes, width, batch_norm, dropout_rate)


def _vgg(name, input_shape, num_classes, width, batch_norm, dropout_rate):
    """Batch normalization (on by default) makes the deep stacks trainable from scratch; it folds into the
    convs at conversion, so the int8 model is the same plain conv stack."""
    keras = load_keras()
    layers = keras.layers
    check_positive(width, "width", name)
    check_rate(dropout_rate, "dropout_rate", name)
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for stage, stage_channels in enumerate(VGG_STAGES[name], start=1):
        for index, channels in enumerate(stage_channels, start=1):
            prefix = f"block{stage}_conv{index}"
            convolution = layers.Conv2D(scaled(channels, width), 3, padding="same", use_bias=not batch_norm,
                                        name=prefix)
            x = convolution(x)
            if batch_norm:
                x = layers.BatchNormalization(name=f"{prefix}_bn")(x)
            x = layers.ReLU(name=f"{prefix}_relu")(x)
        x = layers.MaxPooling2D(2, name=f"block{stage}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    hidden_units = scaled(1024, width)
    for index in (1, 2):
        x = layers.Dense(hidden_units, activation="relu", name=f"fc{index}")(x)
        x = layers.Dropout(dropout_rate, name=f"dropout{index}")(x)
    x = layers.Dense(num_classes, name="logits")(x)
    outputs = layers.Softmax(name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)
