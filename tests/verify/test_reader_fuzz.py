"""The reader never crashes on any byte string: only EdgecnnError (or success) comes out of it.

Hypothesis mutates real converted models (bit flips, overwritten 32-bit words, truncation, splices,
inserted and deleted spans) and feeds each result to the NumPy interpreter's constructor, which reads it
with edgecnn.tflite.read_model and then checks every op.
Derandomized, so a failure reproduces; the failing mutation is in Hypothesis's report.
"""

import pathlib
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgecnn.errors import EdgecnnError, ModelFileError

FUZZ_CASES = 10_000

# Values that matter inside a flatbuffer: zero, small offsets, sign and size boundaries.
INTERESTING_WORDS = (
    0,
    1,
    2,
    3,
    4,
    8,
    0x7F,
    0x80,
    0xFF,
    0x100,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x7FFFFFFF,
    0x80000000,
    0xFFFFFFFF,
    0xFFFFFFFE,
)


MUTATIONS = ("flip", "word", "byte", "truncate", "splice", "insert", "delete")


class RecipeReader:
    """Reads numbers off a byte string, like libFuzzer's FuzzedDataProvider: zeros once it runs out."""

    def __init__(self, recipe):
        self.recipe = recipe
        self.position = 0

    def remaining(self):
        return len(self.recipe) - self.position

    def number(self, size):
        chunk = self.recipe[self.position : self.position + size]
        self.position += size
        return int.from_bytes(chunk.ljust(size, b"\0"), "little")

    def below(self, limit):
        return self.number(4) % limit if limit > 0 else 0


def mutate(recipe, seeds):
    """Apply the mutations a recipe byte string describes to one of the seed models.

    One Hypothesis draw of bytes per case keeps 10,000 cases fast, and Hypothesis still shrinks a failure to
    the fewest, smallest mutations.
    """
    reader = RecipeReader(recipe)
    candidate = bytearray(seeds[reader.below(len(seeds))])
    while reader.remaining() > 0 and candidate:
        kind = MUTATIONS[reader.below(len(MUTATIONS))]
        offset = reader.below(len(candidate))
        if kind == "flip":
            candidate[offset] ^= 1 << reader.below(8)
        elif kind == "byte":
            candidate[offset] = reader.number(1)
        elif kind == "word":
            offset -= offset % 4
            choice = reader.below(3)
            word = (
                INTERESTING_WORDS[reader.below(len(INTERESTING_WORDS))],
                reader.number(4),
                len(candidate),
            )[choice]
            candidate[offset : offset + 4] = struct.pack("<I", word)[: len(candidate) - offset]
        elif kind == "truncate":
            del candidate[offset:]
        elif kind == "splice":
            donor = seeds[reader.below(len(seeds))]
            start = reader.below(len(donor))
            candidate[offset : offset + 1 + reader.below(64)] = donor[start : start + 1 + reader.below(64)]
        elif kind == "insert":
            candidate[offset:offset] = recipe[reader.position : reader.position + 1 + reader.below(16)]
        else:
            del candidate[offset : offset + 1 + reader.below(64)]
    return bytes(candidate)


class SeedModels(list):
    """The seed model bytes, with a short repr so Hypothesis's failure report stays readable."""

    def __repr__(self):
        return f"<{len(self)} converted models, {', '.join(str(len(seed)) for seed in self)} bytes>"


@pytest.fixture(scope="module")
def seed_models(verify_models):
    return SeedModels([verify_models["digits_int8"].read_bytes(), verify_models["lenet5_int8"].read_bytes()])


def load_everything(candidate):
    """What `edgecnn verify` does with a file before any runtime sees it.

    The Interpreter parses the bytes with edgecnn.tflite.read_model, then checks every op and tensor; the
    flavor changes no load-time check, so one construction covers both.
    """
    from edgecnn.reference import Interpreter

    Interpreter(candidate, flavor="tflite")


def test_seed_models_load(seed_models):
    for seed in seed_models:
        load_everything(seed)


@settings(
    max_examples=FUZZ_CASES,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(recipe=st.binary(min_size=1, max_size=64))
def test_mutated_models_raise_only_edgecnn_errors(seed_models, recipe):
    candidate = mutate(recipe, seed_models)
    try:
        load_everything(candidate)
    except EdgecnnError as error:
        assert str(error).strip(), "EdgecnnError without a message"
        assert "\n" not in str(error), f"multi-line error message: {error!s}"


@pytest.mark.parametrize(
    "candidate",
    [b"", b"\x00", b"TFL3", b"\x00" * 8 + b"TFL3" + b"\x00" * 16, b"\xff" * 64, b"not a model at all\n" * 10],
)
def test_degenerate_byte_strings_raise_model_file_error(candidate):
    with pytest.raises(ModelFileError):
        load_everything(candidate)


FINDINGS = sorted((pathlib.Path(__file__).parent / "fuzz_findings").glob("*.tflite"))


@pytest.mark.parametrize("finding", FINDINGS, ids=[path.stem for path in FINDINGS])
def test_fuzz_findings_raise_edgecnn_errors(finding):
    with pytest.raises(EdgecnnError):
        load_everything(finding.read_bytes())
