"""A bounds-checked reader for the FlatBuffers binary layout, enough for the TFLite schema.

Every read checks its offset and length against the buffer first, so a malformed file raises
FlatbufferError (turned into ModelFileError by the caller) instead of IndexError or struct.error.
Offsets to child objects are unsigned and point forward, and the TFLite schema is a finite tree,
so no read can recurse without bound.
"""

import struct

import numpy

SCALAR_FORMATS = {
    "bool": "<?",
    "int8": "<b",
    "uint8": "<B",
    "int16": "<h",
    "uint16": "<H",
    "int32": "<i",
    "uint32": "<I",
    "int64": "<q",
    "uint64": "<Q",
    "float32": "<f",
    "float64": "<d",
}

SCALAR_SIZES = {kind: struct.calcsize(code) for kind, code in SCALAR_FORMATS.items()}


class FlatbufferError(ValueError):
    """The bytes do not form a valid flatbuffer at the place being read."""


class Buffer:
    """The raw bytes of a flatbuffer with checked scalar reads."""

    def __init__(self, data):
        self.data = memoryview(data).cast("B")
        self.size = len(self.data)

    def check(self, position, length, what):
        if position < 0 or length < 0 or position + length > self.size:
            raise FlatbufferError(
                f"{what} at offset {position} (+{length} bytes) lies outside the {self.size}-byte file"
            )

    def scalar(self, kind, position, what="value"):
        size = SCALAR_SIZES[kind]
        self.check(position, size, what)
        return struct.unpack_from(SCALAR_FORMATS[kind], self.data, position)[0]

    def follow(self, position, what):
        """Return the absolute position that the uoffset stored at `position` points to."""
        target = position + self.scalar("uint32", position, what)
        self.check(target, 4, what)
        return target

    def root_table(self):
        return Table(self, self.follow(0, "root table offset"), "root table")


class Table:
    """One flatbuffer table: fields are addressed by their index in the schema."""

    def __init__(self, buffer, position, name):
        self.buffer = buffer
        self.position = position
        self.name = name
        vtable = position - buffer.scalar("int32", position, f"{name} vtable offset")
        vtable_size = buffer.scalar("uint16", vtable, f"{name} vtable")
        if vtable_size < 4 or vtable_size % 2:
            raise FlatbufferError(f"{name} has an invalid vtable size {vtable_size}")
        buffer.check(vtable, vtable_size, f"{name} vtable")
        self.table_size = buffer.scalar("uint16", vtable + 2, f"{name} vtable")
        self.vtable = vtable
        self.field_count = (vtable_size - 4) // 2

    def field_position(self, index):
        """Absolute position of field `index`, or None when the field is absent (default value)."""
        if index >= self.field_count:
            return None
        offset = self.buffer.scalar("uint16", self.vtable + 4 + 2 * index, f"{self.name} vtable")
        if offset == 0:
            return None
        if offset >= self.table_size:
            raise FlatbufferError(f"{self.name} field {index} offset {offset} exceeds the table size")
        return self.position + offset

    def scalar(self, index, kind, default=0):
        position = self.field_position(index)
        if position is None:
            return default
        return self.buffer.scalar(kind, position, f"{self.name} field {index}")

    def table(self, index, name):
        position = self.field_position(index)
        if position is None:
            return None
        return Table(self.buffer, self.buffer.follow(position, f"{name} offset"), name)

    def _vector(self, index, element_size, name):
        """Return (start, length) of the vector in field `index`, or None when absent."""
        position = self.field_position(index)
        if position is None:
            return None
        start = self.buffer.follow(position, f"{name} offset")
        length = self.buffer.scalar("uint32", start, f"{name} length")
        self.buffer.check(start + 4, length * element_size, f"{name} ({length} elements)")
        return start + 4, length

    def string(self, index, name, default=""):
        found = self._vector(index, 1, name)
        if found is None:
            return default
        start, length = found
        return bytes(self.buffer.data[start : start + length]).decode("utf-8", errors="replace")

    def bytes_view(self, index, name):
        found = self._vector(index, 1, name)
        if found is None:
            return None
        start, length = found
        return self.buffer.data[start : start + length]

    def scalar_vector(self, index, kind, name):
        """A vector of scalars as a NumPy array (empty when absent)."""
        dtype = numpy.dtype(SCALAR_FORMATS[kind][1:]).newbyteorder("<")
        found = self._vector(index, dtype.itemsize, name)
        if found is None:
            return numpy.zeros(0, dtype=dtype.newbyteorder("="))
        start, length = found
        values = numpy.frombuffer(self.buffer.data, dtype=dtype, count=length, offset=start)
        return values.astype(dtype.newbyteorder("="))

    def table_vector(self, index, name):
        """A vector of tables as a list of Table."""
        found = self._vector(index, 4, name)
        if found is None:
            return []
        start, length = found
        return [
            Table(
                self.buffer, self.buffer.follow(start + 4 * item, f"{name}[{item}] offset"), f"{name}[{item}]"
            )
            for item in range(length)
        ]
