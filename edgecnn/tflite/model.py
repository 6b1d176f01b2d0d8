"""Read a .tflite file into plain Python objects, with NumPy only (works on a device install).

Any malformed input raises ModelFileError naming the file and what is wrong.
"""

import dataclasses
import os
import pathlib
from typing import Optional

import numpy

from edgecnn.errors import ModelFileError
from edgecnn.tflite import flatbuffer, schema

FILE_IDENTIFIER = b"TFL3"


@dataclasses.dataclass
class Quantization:
    """Affine quantization: real = scale * (q - zero_point), per channel along quantized_dimension."""

    scales: numpy.ndarray
    zero_points: numpy.ndarray
    quantized_dimension: int = 0

    @property
    def is_quantized(self):
        return self.scales.size > 0

    @property
    def is_per_channel(self):
        return self.scales.size > 1


@dataclasses.dataclass
class Tensor:
    index: int
    name: str
    shape: tuple
    shape_signature: tuple
    type_name: str
    dtype: Optional[numpy.dtype]
    buffer: int
    data: Optional[numpy.ndarray]
    quantization: Quantization
    is_variable: bool = False

    @property
    def is_constant(self):
        return self.data is not None

    @property
    def nbytes(self):
        count = self.dtype.itemsize if self.dtype is not None else 1
        for dimension in self.shape:
            count *= dimension
        return count


@dataclasses.dataclass
class OperatorCode:
    name: str
    builtin_code: int
    custom_code: str
    version: int


@dataclasses.dataclass
class Operator:
    index: int
    name: str
    opcode_index: int
    inputs: list
    outputs: list
    options_type: str
    options: dict
    custom_options: Optional[bytes] = None


@dataclasses.dataclass
class SubGraph:
    name: str
    tensors: list
    inputs: list
    outputs: list
    operators: list


@dataclasses.dataclass
class Model:
    source: str
    version: int
    description: str
    operator_codes: list
    subgraphs: list
    buffers: list
    metadata: dict

    @property
    def main(self):
        return self.subgraphs[0]


def read_model(path_or_bytes):
    """Parse a TFLite model from a path or its bytes; raise ModelFileError when it is not a valid model."""
    source, data = _load(path_or_bytes)
    if len(data) < 8:
        raise ModelFileError(f"{source}: not a TFLite model (only {len(data)} bytes)")
    if bytes(data[4:8]) != FILE_IDENTIFIER:
        raise ModelFileError(
            f"{source}: not a TFLite model "
            f"(file identifier {bytes(data[4:8])!r}, expected {FILE_IDENTIFIER!r})"
        )
    try:
        return _parse_model(source, flatbuffer.Buffer(data))
    except flatbuffer.FlatbufferError as error:
        raise ModelFileError(f"{source}: corrupt TFLite model: {error}") from None
    except (OverflowError, ValueError, MemoryError) as error:
        raise ModelFileError(f"{source}: corrupt TFLite model: {type(error).__name__}: {error}") from None


def op_names(model, distinct=True):
    """Op names of the main subgraph in execution order (each name once when `distinct`)."""
    names = [operator.name for operator in model.subgraphs[0].operators] if model.subgraphs else []
    return list(dict.fromkeys(names)) if distinct else names


def _load(path_or_bytes):
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return "<model bytes>", bytes(path_or_bytes)
    if not isinstance(path_or_bytes, (str, os.PathLike)):
        raise ModelFileError(f"expected a .tflite path or bytes, got {type(path_or_bytes).__name__}")
    path = pathlib.Path(path_or_bytes)
    if not path.exists():
        raise ModelFileError(f"{path}: model file not found")
    if not path.is_file():
        raise ModelFileError(f"{path}: not a file")
    try:
        return str(path), path.read_bytes()
    except OSError as error:
        raise ModelFileError(f"{path}: cannot read model file ({error.strerror or error})") from None


def _parse_model(source, buffer):
    root = buffer.root_table()
    version = root.scalar(0, "uint32")
    operator_codes = [_parse_operator_code(table) for table in root.table_vector(1, "operator_codes")]
    buffers = [_parse_buffer(buffer, table) for table in root.table_vector(4, "buffers")]
    metadata = {}
    for table in root.table_vector(6, "metadata"):
        name = table.string(0, "metadata name")
        buffer_index = table.scalar(1, "uint32")
        if buffer_index >= len(buffers):
            raise ModelFileError(
                f"{source}: metadata {name!r} refers to buffer {buffer_index} of {len(buffers)}"
            )
        metadata[name] = bytes(buffers[buffer_index])
    subgraphs = [
        _parse_subgraph(source, table, operator_codes, buffers) for table in root.table_vector(2, "subgraphs")
    ]
    if not subgraphs:
        raise ModelFileError(f"{source}: TFLite model has no subgraph")
    return Model(
        source=source,
        version=version,
        description=root.string(3, "description"),
        operator_codes=operator_codes,
        subgraphs=subgraphs,
        buffers=buffers,
        metadata=metadata,
    )


def _parse_operator_code(table):
    deprecated_code = table.scalar(0, "int8")
    builtin_code = max(deprecated_code, table.scalar(3, "int32"))
    if 0 <= builtin_code < len(schema.BUILTIN_OPERATORS):
        name = schema.BUILTIN_OPERATORS[builtin_code]
    else:
        name = f"UNKNOWN_BUILTIN_{builtin_code}"
    custom_code = table.string(1, "custom_code")
    if name == "CUSTOM" and custom_code:
        name = f"CUSTOM:{custom_code}"
    return OperatorCode(
        name=name, builtin_code=builtin_code, custom_code=custom_code, version=table.scalar(2, "int32", 1)
    )


def _parse_buffer(buffer, table):
    """Constant data lives inside the flatbuffer, or (models over 2 GB) at an offset after it."""
    data = table.bytes_view(0, "buffer data")
    if data is not None and len(data):
        return data
    offset, size = table.scalar(1, "uint64"), table.scalar(2, "uint64")
    if offset > 1:
        buffer.check(offset, size, "external buffer data")
        return buffer.data[offset : offset + size]
    return memoryview(b"")


def _parse_subgraph(source, table, operator_codes, buffers):
    tensor_tables = table.table_vector(0, "tensors")
    tensors = [_parse_tensor(source, index, tensor, buffers) for index, tensor in enumerate(tensor_tables)]
    name = table.string(4, "subgraph name")

    def tensor_indices(values, what):
        values = [int(value) for value in values]
        for value in values:
            if not -1 <= value < len(tensors):
                raise ModelFileError(f"{source}: {what} refers to tensor {value} of {len(tensors)}")
        return values

    operators = []
    for index, operator_table in enumerate(table.table_vector(3, "operators")):
        opcode_index = operator_table.scalar(0, "uint32")
        if opcode_index >= len(operator_codes):
            raise ModelFileError(
                f"{source}: operator {index} uses opcode {opcode_index} of {len(operator_codes)}"
            )
        options_type_id = operator_table.scalar(3, "uint8")
        options_type = (
            schema.BUILTIN_OPTIONS[options_type_id]
            if options_type_id < len(schema.BUILTIN_OPTIONS)
            else "NONE"
        )
        options_table = operator_table.table(4, f"operator {index} options") if options_type_id else None
        custom = operator_table.bytes_view(5, "custom_options")
        operators.append(
            Operator(
                index=index,
                name=operator_codes[opcode_index].name,
                opcode_index=opcode_index,
                inputs=tensor_indices(
                    operator_table.scalar_vector(1, "int32", "operator inputs"), f"operator {index} input"
                ),
                outputs=tensor_indices(
                    operator_table.scalar_vector(2, "int32", "operator outputs"), f"operator {index} output"
                ),
                options_type=options_type,
                options=_parse_options(options_type, options_table),
                custom_options=bytes(custom) if custom is not None else None,
            )
        )
    return SubGraph(
        name=name,
        tensors=tensors,
        inputs=tensor_indices(table.scalar_vector(1, "int32", "subgraph inputs"), "subgraph input"),
        outputs=tensor_indices(table.scalar_vector(2, "int32", "subgraph outputs"), "subgraph output"),
        operators=operators,
    )


def _parse_tensor(source, index, table, buffers):
    shape = tuple(int(value) for value in table.scalar_vector(0, "int32", "tensor shape"))
    type_id = table.scalar(1, "int8")
    type_name, dtype_code = schema.TENSOR_TYPES.get(type_id, (f"UNKNOWN_TYPE_{type_id}", None))
    dtype = numpy.dtype(dtype_code).newbyteorder("=") if dtype_code else None
    name = table.string(3, "tensor name")
    buffer_index = table.scalar(2, "uint32")
    if buffer_index >= max(len(buffers), 1):
        raise ModelFileError(
            f"{source}: tensor {index} ({name}) refers to buffer {buffer_index} of {len(buffers)}"
        )
    if any(dimension < 0 for dimension in shape):
        raise ModelFileError(f"{source}: tensor {index} ({name}) has a negative dimension in shape {shape}")
    data = None
    raw = buffers[buffer_index] if buffers else b""
    if len(raw):
        data = _tensor_data(source, index, name, shape, dtype, raw)
    quantization_table = table.table(4, f"tensor {index} quantization")
    if quantization_table is None:
        quantization = Quantization(numpy.zeros(0, numpy.float32), numpy.zeros(0, numpy.int64), 0)
    else:
        quantization = Quantization(
            scales=quantization_table.scalar_vector(2, "float32", "quantization scales"),
            zero_points=quantization_table.scalar_vector(3, "int64", "quantization zero points"),
            quantized_dimension=quantization_table.scalar(6, "int32"),
        )
    signature = table.scalar_vector(7, "int32", "tensor shape_signature")
    return Tensor(
        index=index,
        name=name,
        shape=shape,
        shape_signature=tuple(int(value) for value in signature) if signature.size else shape,
        type_name=type_name,
        dtype=dtype,
        buffer=buffer_index,
        data=data,
        quantization=quantization,
        is_variable=bool(table.scalar(5, "bool")),
    )


def _tensor_data(source, index, name, shape, dtype, raw):
    if dtype is None:
        return numpy.frombuffer(raw, dtype=numpy.uint8)
    count = 1
    for dimension in shape:
        count *= dimension
    if count * dtype.itemsize != len(raw):
        raise ModelFileError(
            f"{source}: tensor {index} ({name}) of shape {shape} {dtype} needs "
            f"{count * dtype.itemsize} bytes, its buffer holds {len(raw)}"
        )
    little_endian = dtype.newbyteorder("<")
    return numpy.frombuffer(raw, dtype=little_endian).astype(dtype, copy=False).reshape(shape)


def _parse_options(options_type, table):
    """Builtin options as a dict of field name -> value, enums decoded to their schema names."""
    options = {}
    for field_index, (name, kind, default) in enumerate(schema.OPTIONS_FIELDS.get(options_type, ())):
        present = table is not None and table.field_position(field_index) is not None
        if kind == "[int32]":
            vector = (
                table.scalar_vector(field_index, "int32", f"{options_type}.{name}") if present else default
            )
            options[name] = [int(value) for value in vector]
            continue
        scalar_kind = "int8" if kind in ENUM_NAMES else kind
        value = table.scalar(field_index, scalar_kind, default) if present else default
        if kind in ENUM_NAMES:
            value = ENUM_NAMES[kind].get(value, value)
        options[name] = value
    return options


ENUM_NAMES = {
    "padding": schema.PADDING,
    "activation": schema.ACTIVATIONS,
    "mirror_mode": schema.MIRROR_PAD_MODES,
    "tensor_type": {value: names[0] for value, names in schema.TENSOR_TYPES.items()},
}
