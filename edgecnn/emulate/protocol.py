"""What a firmware built for emulation prints, and how edgecnn reads it: one contract for every engine.

A harness (native/harness.cc for TFLite Micro, native/c_harness.c for edgecnn's generated C) reads its samples from
the file named by its last argument, through semihosting (a sample is every input tensor's bytes, in input
order, samples back to back), and prints on stdout, one item a line:

    edgecnn-harness protocol=1 engine=NAME
    arena_size=N                       bytes the program set aside for tensors (optional)
    arena_used_bytes=N                 bytes of it the model really used (optional)
    registered_ops=N                   ops the program's op resolver holds (optional)
    input I type=INT8 bytes=B          per model input, in order
    output I type=INT8 bytes=B         per model output, in order
    sample=S ticks=T                   with -c: processor-clock ticks across the inference (EdgecnnTicksNow)
    sample=S output=I hex=0a0bff...    the raw bytes of output I after sample S
    done samples=N                     the last line of a complete run
    error: TEXT                        instead, when it stops early (with a non-zero exit status)

Anything else on stdout is ignored; the runtime's own log goes to stderr.
"""

import dataclasses
import re

import numpy as np

PROTOCOL_VERSION = 1
EXIT_CODES = {
    2: "the input file could not be read",
    3: "the model's schema version is not the one this TFLite Micro reads",
    4: "the tensor arena is too small",
    5: "the model failed while running",
    6: "registering the model's ops failed",
    99: "the CPU faulted",
}
TENSOR_TYPES = {
    "INT8": np.int8,
    "UINT8": np.uint8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "FLOAT32": np.float32,
    "BOOL": np.bool_,
}
_HEADER = re.compile(r"^edgecnn-harness protocol=(\d+) engine=(\S+)$")
_FIGURE = re.compile(r"^(arena_size|arena_used_bytes|registered_ops)=(\d+)$")
_TENSOR = re.compile(r"^(input|output) (\d+) type=(\w+) bytes=(\d+)$")
_TICKS = re.compile(r"^sample=(\d+) ticks=(\d+)$")
_OUTPUT = re.compile(r"^sample=(\d+) output=(\d+) hex=([0-9a-f]*)$")
_DONE = re.compile(r"^done samples=(\d+)$")


@dataclasses.dataclass
class TensorLine:
    type_name: str
    bytes: int

    @property
    def dtype(self):
        return np.dtype(TENSOR_TYPES.get(self.type_name, np.uint8))


@dataclasses.dataclass
class HarnessOutput:
    """Everything one run of a harness printed, parsed."""

    engine: str = None
    protocol: int = None
    arena_size: int = None
    arena_used_bytes: int = None
    registered_ops: int = None
    inputs: list = dataclasses.field(default_factory=list)
    outputs: list = dataclasses.field(default_factory=list)
    ticks: dict = dataclasses.field(default_factory=dict)  # sample -> ticks
    values: dict = dataclasses.field(default_factory=dict)  # (sample, output) -> bytes
    done: int = None  # the sample count of the final line; None when the run stopped early
    error: str = None

    def output_array(self, output, sample_count):
        """Output `output` of every sample as a (sample_count, elements) array of its type."""
        line = self.outputs[output]
        rows = [np.frombuffer(self.values[(sample, output)], line.dtype) for sample in range(sample_count)]
        return np.stack(rows) if rows else np.zeros((0, line.bytes // line.dtype.itemsize), line.dtype)


def parse(text):
    """Parse a harness's stdout (complete or cut short)."""
    result = HarnessOutput()
    for line in text.splitlines():
        line = line.strip()
        if match := _OUTPUT.match(line):
            result.values[(int(match[1]), int(match[2]))] = bytes.fromhex(match[3])
        elif match := _TICKS.match(line):
            result.ticks[int(match[1])] = int(match[2])
        elif match := _TENSOR.match(line):
            target = result.inputs if match[1] == "input" else result.outputs
            target.append(TensorLine(match[3], int(match[4])))
        elif match := _FIGURE.match(line):
            setattr(result, match[1], int(match[2]))
        elif match := _HEADER.match(line):
            result.protocol, result.engine = int(match[1]), match[2]
        elif match := _DONE.match(line):
            result.done = int(match[1])
        elif line.startswith("error: ") and result.error is None:
            result.error = line[len("error: "):]
    return result
