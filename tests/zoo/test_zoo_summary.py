"""Parameter, MAC, size and receptive-field counts, checked against hand computation and published numbers."""

import pytest

import edgecnn.zoo as zoo

keras = pytest.importorskip("keras")


def sequential(input_shape, *layers):
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, x)


def test_a_3x3_conv_over_3_channels_with_3_filters_has_84_parameters():
    model = sequential((8, 8, 3), keras.layers.Conv2D(3, 3))
    summary = zoo.summarize(model)
    assert summary.parameters == 3 * 3 * 3 * 3 + 3 == 84
    assert summary.float32_bytes == 4 * 84
    # int8: 81 kernel bytes, 3 int32 biases, and a scale and zero point (12 bytes) per channel for the
    # kernel and for the bias.
    assert summary.int8_bytes == 81 + 3 * 4 + 2 * 12 * 3


def test_lenet5_has_the_classic_parameter_count():
    summary = zoo.summarize(zoo.create_model("lenet5"))
    c1, c3 = 5 * 5 * 1 * 6 + 6, 5 * 5 * 6 * 16 + 16
    c5, f6, output = 400 * 120 + 120, 120 * 84 + 84, 84 * 10 + 10
    assert summary.parameters == c1 + c3 + c5 + f6 + output == 61_706
    # c1: 28x28x6 outputs of 25 taps; c3: 10x10x16 outputs of 150 taps; then the dense layers.
    assert summary.macs == 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10
    assert summary.receptive_field == 16  # 5, +1 (pool), +4*2, +1*2


def test_tiny_vgg_matches_cnn_explainers_shapes():
    model = zoo.create_model("tiny_vgg")
    spatial = [layer for layer in model.layers if "conv" in layer.name or "pool" in layer.name]
    assert [tuple(layer.output.shape[1:]) for layer in spatial] == [
        (62, 62, 10), (60, 60, 10), (30, 30, 10), (28, 28, 10), (26, 26, 10), (13, 13, 10),
    ]
    summary = zoo.summarize(model)
    assert summary.parameters == 280 + 3 * 910 + 1690 * 10 + 10 == 19_920
    assert summary.receptive_field == 16


def test_macs_of_conv_depthwise_and_dense_on_a_tiny_model():
    model = sequential(
        (8, 8, 3),
        keras.layers.Conv2D(4, 3),  # 6x6x4 outputs, 3*3*3 = 27 taps each
        keras.layers.BatchNormalization(),  # not counted
        keras.layers.DepthwiseConv2D(3, padding="same"),  # 6x6x4 outputs, 9 taps each
        keras.layers.MaxPooling2D(2),  # 3x3x4, not counted
        keras.layers.Flatten(),
        keras.layers.Dense(5),  # 36 inputs x 5 units
        keras.layers.Softmax(),
    )
    assert zoo.summarize(model).macs == 6 * 6 * 4 * 27 + 6 * 6 * 4 * 9 + 36 * 5 == 5_364


def test_receptive_field_of_a_hand_computed_stack():
    model = sequential(
        (64, 64, 1),
        keras.layers.Conv2D(2, 3),  # rf 3, jump 1
        keras.layers.MaxPooling2D(2),  # rf 4, jump 2
        keras.layers.Conv2D(2, 3, padding="same"),  # rf 4 + 2*2 = 8
        keras.layers.Conv2D(2, 3, strides=2),  # rf 8 + 2*2 = 12, jump 4
        keras.layers.Conv2D(2, 3, dilation_rate=2),  # effective kernel 5: rf 12 + 4*4 = 28
        keras.layers.AveragePooling2D(3, strides=1),  # rf 28 + 2*4 = 36
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(2),
    )
    assert zoo.summarize(model).receptive_field == 36


def test_receptive_field_follows_the_longest_path_through_a_skip():
    inputs = keras.Input(shape=(32, 32, 1))
    long_path = keras.layers.Conv2D(2, 3, padding="same")(inputs)
    long_path = keras.layers.Conv2D(2, 3, padding="same")(long_path)  # rf 5
    short_path = keras.layers.Conv2D(2, 1)(inputs)  # rf 1
    x = keras.layers.Add()([short_path, long_path])
    x = keras.layers.Conv2D(2, 3, padding="same")(x)  # rf 7
    model = keras.Model(inputs, keras.layers.Flatten()(x))
    assert zoo.summarize(model).receptive_field == 7


def test_nested_models_and_shared_layers_are_counted_per_call():
    inner = zoo.create_model("tiny_vgg", input_shape=(16, 16, 3))
    inputs = keras.Input(shape=(16, 16, 3))
    outer = keras.Model(inputs, inner(keras.layers.Conv2D(3, 3, padding="same")(inputs)))
    inner_summary, outer_summary = zoo.summarize(inner), zoo.summarize(outer)
    assert outer_summary.macs == inner_summary.macs + 16 * 16 * 3 * 27
    assert outer_summary.receptive_field == inner_summary.receptive_field + 2 == 18

    shared = keras.layers.Conv2D(3, 3, padding="same")
    inputs = keras.Input(shape=(8, 8, 3))
    twice = zoo.summarize(keras.Model(inputs, shared(shared(inputs))))
    assert twice.macs == 2 * 8 * 8 * 3 * 27
    assert twice.int8_bytes == 81 + 3 * 4 + 2 * 12 * 3  # one set of weights
    assert twice.receptive_field == 5


def test_resnets_and_mobilenet_have_their_published_receptive_fields():
    # ResNet-18's 435 and MobileNetV2's 491 are the values usually quoted for the full networks.
    assert zoo.summarize(zoo.create_model("resnet18", input_shape=(32, 32, 3))).receptive_field == 435
    assert zoo.summarize(zoo.create_model("mobilenet_v2", input_shape=(32, 32, 3))).receptive_field == 491
    # resnet8: stem 3; stage 1: 5, 7; stage 2 (stride 2): 9, then 13 at jump 2; stage 3: 17, 25 at jump 4.
    assert zoo.summarize(zoo.create_model("resnet8")).receptive_field == 25


def test_resnet18_at_full_width_has_torchvisions_parameter_count():
    model = zoo.create_model("resnet18", input_shape=(32, 32, 3), num_classes=1000, width=1.0)
    trainable = sum(int(weight.numpy().size) for weight in model.trainable_weights)
    assert trainable == 11_689_512


def test_mobilenet_v2_matches_keras_applications():
    ours = zoo.create_model("mobilenet_v2", alpha=0.35)
    reference = keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, weights=None, classes=10)
    assert ours.count_params() == reference.count_params()
    assert zoo.summarize(ours).macs == zoo.summarize(reference).macs


def test_vgg16_at_full_width_without_batch_norm_matches_keras_applications_convs():
    ours = zoo.create_model("vgg16", width=1.0, batch_norm=False)
    reference = keras.applications.VGG16(input_shape=(32, 32, 3), include_top=False, weights=None)
    ours_convs = sum(layer.count_params() for layer in ours.layers if isinstance(layer, keras.layers.Conv2D))
    assert ours_convs == reference.count_params() == 14_714_688


def test_int8_size_estimate_bounds_the_converted_model(tmp_path):
    numpy = pytest.importorskip("numpy")
    from edgecnn.quantize.converter import quantize_keras_model

    model = zoo.create_model("lenet5")
    calibration = numpy.random.default_rng(0).random((8, 28, 28, 1), dtype=numpy.float32)
    tflite_size = len(quantize_keras_model(model, calibration))
    estimate = zoo.summarize(model).int8_bytes
    # The estimate counts weight buffers and their quantization parameters; the file adds its structure.
    assert estimate <= tflite_size <= estimate + 16 * 1024
    assert zoo.summarize(model).float32_bytes > 3.5 * estimate
