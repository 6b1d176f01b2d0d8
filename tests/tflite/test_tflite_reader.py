"""The flatbuffer reader agrees with LiteRT and the generated schema, and rejects malformed files cleanly."""

import numpy
import pytest

from edgecnn import tflite
from edgecnn.errors import ModelFileError


@pytest.fixture(scope="module")
def litert_interpreter(small_int8_model_path):
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    interpreter = litert.Interpreter(
        model_path=str(small_int8_model_path), experimental_preserve_all_tensors=True
    )
    interpreter.allocate_tensors()
    return interpreter


def test_every_tensor_matches_litert(small_int8_model_path, litert_interpreter):
    model = tflite.read_model(small_int8_model_path)
    tensors = model.subgraphs[0].tensors
    details = litert_interpreter.get_tensor_details()
    assert len(details) == len(tensors)
    constants = 0
    for detail in details:
        tensor = tensors[detail["index"]]
        assert tensor.name == detail["name"]
        assert tensor.shape == tuple(detail["shape"])
        assert tensor.shape_signature == tuple(detail["shape_signature"])
        assert tensor.dtype == detail["dtype"]
        parameters = detail["quantization_parameters"]
        numpy.testing.assert_array_equal(tensor.quantization.scales, parameters["scales"])
        numpy.testing.assert_array_equal(tensor.quantization.zero_points, parameters["zero_points"])
        assert tensor.quantization.quantized_dimension == parameters["quantized_dimension"]
        if tensor.is_constant:
            constants += 1
            numpy.testing.assert_array_equal(tensor.data, litert_interpreter.get_tensor(detail["index"]))
            assert tensor.data.dtype == detail["dtype"]
    assert constants >= 8
    input_details = litert_interpreter.get_input_details()
    assert model.subgraphs[0].inputs == [detail["index"] for detail in input_details]
    assert model.subgraphs[0].outputs == [
        detail["index"] for detail in litert_interpreter.get_output_details()
    ]


def test_operators_and_options_match_generated_schema(small_int8_model_bytes):
    schema = pytest.importorskip("tensorflow.lite.python.schema_py_generated")
    reference = schema.ModelT.InitFromPackedBuf(small_int8_model_bytes, 0)
    model = tflite.read_model(small_int8_model_bytes)
    assert model.version == reference.version
    operator_names = {
        value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")
    }
    expected_codes = [
        (operator_names[max(code.builtinCode, code.deprecatedBuiltinCode)], code.version)
        for code in reference.operatorCodes
    ]
    assert [(code.name, code.version) for code in model.operator_codes] == expected_codes
    seen_options = set()
    for operator, expected in zip(
        model.subgraphs[0].operators, reference.subgraphs[0].operators, strict=True
    ):
        assert operator.inputs == list(expected.inputs)
        assert operator.outputs == list(expected.outputs)
        assert operator.opcode_index == expected.opcodeIndex
        if expected.builtinOptions is None:
            continue
        for name, value in operator.options.items():
            camel = "".join(
                part if index == 0 else part.capitalize() for index, part in enumerate(name.split("_"))
            )
            expected_value = getattr(expected.builtinOptions, camel)
            if name == "padding":
                expected_value = {schema.Padding.SAME: "SAME", schema.Padding.VALID: "VALID"}[expected_value]
            elif name == "fused_activation_function":
                expected_value = {
                    value: key
                    for key, value in vars(schema.ActivationFunctionType).items()
                    if not key.startswith("_")
                }[expected_value]
            elif name == "quantized_bias_type":
                expected_value = {
                    value: key for key, value in vars(schema.TensorType).items() if not key.startswith("_")
                }[expected_value]
            assert value == pytest.approx(expected_value), (operator.name, name)
            seen_options.add(name)
    assert {
        "padding",
        "stride_w",
        "dilation_h_factor",
        "depth_multiplier",
        "beta",
        "axis",
        "filter_width",
        "fused_activation_function",
        "keep_num_dims",
    } <= seen_options
    names = tflite.op_names(model)
    for required in (
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "MAX_POOL_2D",
        "AVERAGE_POOL_2D",
        "ADD",
        "CONCATENATION",
        "PAD",
        "MEAN",
        "TRANSPOSE_CONV",
        "FULLY_CONNECTED",
        "SOFTMAX",
    ):
        assert required in names
    assert len(names) == len(set(names))
    assert len(tflite.op_names(model, distinct=False)) == len(model.subgraphs[0].operators)
    assert names[0] == "CONV_2D"


def test_metadata_entries_are_read(small_int8_model_bytes):
    flatbuffer_utils = pytest.importorskip("tensorflow.lite.tools.flatbuffer_utils")
    schema = pytest.importorskip("tensorflow.lite.python.schema_py_generated")
    model_object = flatbuffer_utils.convert_bytearray_to_object(bytearray(small_int8_model_bytes))
    payload = b'{"format": 1, "labels": ["cat", "dog"]}'
    buffer = schema.BufferT()
    buffer.data = numpy.frombuffer(payload, dtype=numpy.uint8)
    model_object.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = "edgecnn"
    entry.buffer = len(model_object.buffers) - 1
    model_object.metadata.append(entry)
    model_object.description = "with metadata"
    written = bytes(flatbuffer_utils.convert_object_to_bytearray(model_object))
    model = tflite.read_model(written)
    assert model.metadata["edgecnn"] == payload
    assert "min_runtime_version" in model.metadata
    assert model.description == "with metadata"
    original = tflite.read_model(small_int8_model_bytes)
    assert "edgecnn" not in original.metadata
    for before, after in zip(original.subgraphs[0].tensors, model.subgraphs[0].tensors, strict=True):
        assert before.name == after.name
        if before.is_constant:
            numpy.testing.assert_array_equal(before.data, after.data)


def assert_clean_failure(data, expected_text=None):
    with pytest.raises(ModelFileError) as caught:
        tflite.read_model(data)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("<model bytes>")
    if expected_text:
        assert expected_text in message


def test_wrong_identifier_truncation_and_non_files(small_int8_model_bytes, tmp_path):
    assert_clean_failure(b"", "only 0 bytes")
    assert_clean_failure(small_int8_model_bytes[:4] + b"TFL2" + small_int8_model_bytes[8:], "file identifier")
    assert_clean_failure(numpy.random.default_rng(1).bytes(5000), "file identifier")
    for length in list(range(8, 200, 7)) + list(range(200, len(small_int8_model_bytes), 997)):
        assert_clean_failure(small_int8_model_bytes[:length])
    with pytest.raises(ModelFileError, match="not found"):
        tflite.read_model(tmp_path / "missing.tflite")
    with pytest.raises(ModelFileError, match="not a file"):
        tflite.read_model(tmp_path)
    with pytest.raises(ModelFileError, match="expected a .tflite path"):
        tflite.read_model(12)
    text_file = tmp_path / "notes.tflite"
    text_file.write_text("hello, this is not a model")
    with pytest.raises(ModelFileError, match=str(text_file)):
        tflite.read_model(text_file)


def test_absurd_offsets_are_rejected(small_int8_model_bytes):
    data = bytearray(small_int8_model_bytes)
    data[0:4] = (len(data) + 100).to_bytes(4, "little")
    assert_clean_failure(bytes(data), "outside")
    data = bytearray(small_int8_model_bytes)
    root = int.from_bytes(data[0:4], "little")
    data[root : root + 4] = (-(2**31) + 1).to_bytes(4, "little", signed=True)
    assert_clean_failure(bytes(data), "vtable")
    # A root offset pointing at itself: the vtable offset 0 makes the table its own vtable.
    assert_clean_failure(b"\x00\x00\x00\x00TFL3" + bytes(64))


def test_random_mutations_raise_only_model_file_error(small_int8_model_bytes):
    generator = numpy.random.default_rng(20240601)
    original = numpy.frombuffer(small_int8_model_bytes, dtype=numpy.uint8)
    # Mutate the flatbuffer structure (tables and vectors live away from the big weight buffers).
    accepted = rejected = 0
    for _ in range(1500):
        mutated = original.copy()
        count = int(generator.integers(1, 6))
        positions = generator.integers(0, len(mutated), size=count)
        if generator.random() < 0.7:
            positions = generator.integers(0, min(len(mutated), 2048), size=count) % len(mutated)
            positions = numpy.concatenate([positions, len(mutated) - 1 - positions])
        mutated[positions] = generator.integers(0, 256, size=len(positions))
        try:
            tflite.read_model(mutated.tobytes())
            accepted += 1
        except ModelFileError as error:
            assert "\n" not in str(error)
            rejected += 1
    assert rejected > 100 and accepted > 0
