"""The activation memory plan: one static arena, offsets decided at export.

Facts come from edgecnn.tflite.memory (tensor lifetimes, as TFLite Micro computes them); on top of them:
- RESHAPE outputs are their input's bytes (one buffer for both);
- the model's output is written straight into the caller's `output` buffer, so it takes no arena;
- an op's output may overlap an input that dies at that op, as far as its emitter allows: element-wise ops in
  place, row-by-row window ops (conv, depthwise, pooling) over the input rows they have already consumed;
- offsets come from a placement search (several orders, then swaps), each buffer at the lowest offset that
  fits; the best plan wins, and TFLite Micro's greedy plan is one of the candidates it must beat or equal.
"""

import dataclasses
import random

from edgecnn.tflite import memory

ALIGNMENT = 4  # int8 tensors at 4-byte boundaries: word loads for CMSIS-NN, nothing wasted on 16
SEARCH_ROUNDS = 300
SEARCH_SEED = 11


def aligned(size):
    return memory.aligned(size, ALIGNMENT)


@dataclasses.dataclass
class Buffer:
    """Bytes shared by a tensor and its RESHAPE aliases, live from `first` to `last` (op indices)."""

    number: int
    tensors: list
    size: int
    first: int
    last: int
    location: str  # "arena" or "output" (the caller's output buffer)
    offset: int = 0  # in the arena, or in the caller's output buffer

    @property
    def end(self):
        return self.offset + aligned(self.size)

    def live_with(self, other):
        return self.first <= other.last and other.first <= self.last


@dataclasses.dataclass
class MemoryPlan:
    buffers: list
    buffer_of: dict  # tensor index -> Buffer
    allowances: dict  # (input buffer number, output buffer number) -> bytes the output starts below at least
    copies: set  # op indices of RESHAPEs that copy (their input and output cannot share bytes)
    arena_bytes: int
    output_bytes: int
    peak_live_bytes: int  # every activation tensor, the input and output included: no plan without overlaps does better
    greedy_arena_bytes: int  # TFLite Micro's GreedyMemoryPlanner for the same tensors (16-byte aligned)
    scratch: dict = dataclasses.field(default_factory=dict)  # op index -> Buffer of the op's scratch bytes
    fusions: list = dataclasses.field(default_factory=list)  # edgecnn.codegen.fusion.Fusion, in this build
    ring_copies: int = 1

    def overlapping(self, layer):
        """Whether any output of `layer` shares bytes with one of its activation inputs."""
        outputs = [self.buffer_of[tensor.index] for tensor in layer.outputs if tensor.index in self.buffer_of]
        inputs = [
            self.buffer_of[layer.inputs[position].index]
            for position in layer.activation_positions()
            if layer.inputs[position].index in self.buffer_of
        ]
        for output in outputs:
            for source in inputs:
                if output.location == source.location and output.offset < source.end and source.offset < output.end:
                    return True
        return False


def plan(graph, emitters, scratch=None, no_overlap=(), fusions=(), ring_copies=1, rounds=SEARCH_ROUNDS):
    """Plan the arena for `graph` (edgecnn.codegen.graph.Graph) with the emitters' aliasing and overlap rules;
    `scratch` ({op index: bytes}) adds buffers that ops use while they run (CMSIS-NN's), `no_overlap` names ops
    whose output needs bytes of its own (their kernel's loop order is not the portable one), and `fusions`
    (edgecnn.codegen.fusion.Fusion) replace a producer's output by a ring of rows the consumer uses, stored
    `ring_copies` times; a fused pair's scratch buffer is its ring followed by `scratch` for the consumer."""
    subgraph = graph.subgraph
    lifetimes = memory.graph_lifetimes(subgraph)
    scratch = dict(scratch or {})
    fused_ops = set()
    for fusion in fusions:
        # The pair runs as one call at the consumer: the producer's input is read until then, and its output
        # exists only as the ring.
        del lifetimes[fusion.tensor]
        for position in fusion.producer.activation_positions():
            index = fusion.producer.inputs[position].index
            first, last = lifetimes[index]
            lifetimes[index] = (first, max(last, fusion.consumer.index))
        extra = scratch.get(fusion.consumer.index, 0)
        scratch[fusion.consumer.index] = aligned(fusion.ring_bytes(ring_copies)) + extra
        fused_ops |= {fusion.producer.index, fusion.consumer.index}
    groups, copies = _alias_groups(graph, emitters, lifetimes)
    buffers, buffer_of = [], {}
    for members in groups:
        first = min(lifetimes[index][0] for index in members)
        last = max(lifetimes[index][1] for index in members)
        size = max(subgraph.tensors[index].nbytes for index in members)
        location = "output" if members & set(graph.output_indices) else "arena"
        buffer = Buffer(len(buffers), sorted(members), size, first, last, location)
        buffers.append(buffer)
        for index in members:
            buffer_of[index] = buffer
    output_offset = 0
    for index in graph.output_indices:
        buffer_of[index].offset = output_offset
        output_offset += subgraph.tensors[index].nbytes
    allowances = _allowances(graph, emitters, buffer_of, set(no_overlap) | fused_ops)
    for fusion in fusions:
        source = buffer_of[fusion.producer.inputs[fusion.producer.activation_positions()[0]].index]
        target = buffer_of[fusion.consumer.outputs[0].index]
        if source.last == fusion.consumer.index and source.location == target.location == "arena":
            allowances[(source.number, target.number)] = aligned(fusion.overlap_distance())
    scratch_buffers = {}
    for op_index, size in sorted(scratch.items()):
        scratch_buffers[op_index] = Buffer(len(buffers), [], size, op_index, op_index, "arena")
        buffers.append(scratch_buffers[op_index])
    arena = [buffer for buffer in buffers if buffer.location == "arena"]
    arena_bytes = _search(arena, allowances, rounds)
    reference = memory.plan_memory(subgraph)
    return MemoryPlan(
        buffers=buffers,
        buffer_of=buffer_of,
        allowances=allowances,
        copies=copies,
        arena_bytes=arena_bytes,
        output_bytes=output_offset,
        peak_live_bytes=reference.peak_live_bytes,
        greedy_arena_bytes=reference.greedy_arena_bytes,
        scratch=scratch_buffers,
        fusions=list(fusions),
        ring_copies=ring_copies,
    )


def _alias_groups(graph, emitters, lifetimes):
    """Tensor groups sharing bytes (RESHAPE chains), and the RESHAPEs that must copy instead."""
    parent = {index: index for index in lifetimes}

    def root(index):
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    def members(index):
        top = root(index)
        return {other for other in parent if root(other) == top}

    copies = set()
    for layer in graph.layers:
        if not emitters.get(layer.name).alias or layer.inputs[0].is_constant:
            continue
        source, target = layer.inputs[0].index, layer.outputs[0].index
        joined = members(source) | members(target)
        # The model input lives in the arena and each model output at its place in the caller's buffer: a
        # group holds at most one of them.
        if len(joined & {graph.input_index, *graph.output_indices}) > 1:
            copies.add(layer.index)
            continue
        parent[root(target)] = root(source)
    groups = {}
    for index in parent:
        groups.setdefault(root(index), set()).add(index)
    return list(groups.values()), copies


def _allowances(graph, emitters, buffer_of, no_overlap):
    """(input buffer, output buffer) -> bytes: overlaps the emitters allow where the input dies at the op."""
    allowances = {}
    for layer in graph.layers:
        spec = emitters.get(layer.name)
        if spec.overlap is None or spec.alias or len(layer.outputs) != 1 or layer.index in no_overlap:
            continue
        target = buffer_of[layer.outputs[0].index]
        if target.location != "arena":
            continue
        allowed = spec.overlap(layer)
        readers = {}
        for position in layer.activation_positions():
            readers.setdefault(buffer_of[layer.inputs[position].index].number, []).append(position)
        for number, positions in readers.items():
            source = next(buffer for buffer in buffer_of.values() if buffer.number == number)
            if source.last != layer.index or source is target or source.location != "arena":
                continue
            if not all(position in allowed for position in positions):
                continue
            allowances[(number, target.number)] = aligned(max(allowed[position] for position in positions))
    return allowances


def _fits(buffer, offset, placed, allowances):
    end = offset + aligned(buffer.size)
    for other in placed:
        if not buffer.live_with(other):
            continue
        if offset >= other.end or end <= other.offset:
            continue
        below = allowances.get((other.number, buffer.number))
        if below is not None and offset <= other.offset - below:
            continue  # the output starts far enough below the input it overwrites
        above = allowances.get((buffer.number, other.number))
        if above is not None and other.offset <= offset - above:
            continue  # this input is overwritten by an output placed far enough below it
        return False
    return True


def _place(order, allowances):
    """Put each buffer, in `order`, at the lowest offset that fits; returns the arena size."""
    placed = []
    for buffer in order:
        candidates = {0}
        for other in placed:
            if buffer.live_with(other):
                candidates.add(other.end)
                below = allowances.get((other.number, buffer.number))
                if below is not None and other.offset - below >= 0:
                    candidates.add(other.offset - below)
                above = allowances.get((buffer.number, other.number))
                if above is not None:
                    candidates.add(other.offset + above)
        buffer.offset = next(
            offset for offset in sorted(candidates) if _fits(buffer, offset, placed, allowances)
        )
        placed.append(buffer)
    return max((buffer.end for buffer in placed), default=0)


def _search(buffers, allowances, rounds=SEARCH_ROUNDS):
    """The smallest arena over a few orders and random swaps of the best one; leaves its offsets set."""
    if not buffers:
        return 0
    orders = [
        sorted(buffers, key=lambda buffer: (-buffer.size, buffer.first)),
        sorted(buffers, key=lambda buffer: (buffer.first, -buffer.size)),
        sorted(buffers, key=lambda buffer: (-buffer.size * (buffer.last - buffer.first + 1), buffer.first)),
        sorted(buffers, key=lambda buffer: (-buffer.last, -buffer.size)),
    ]
    best_order, best_size = None, None
    for order in orders:
        size = _place(order, allowances)
        if best_size is None or size < best_size:
            best_order, best_size = list(order), size
    generator = random.Random(SEARCH_SEED)
    for _ in range(rounds if len(buffers) > 2 else 0):
        first, second = generator.sample(range(len(best_order)), 2)
        order = list(best_order)
        order[first], order[second] = order[second], order[first]
        size = _place(order, allowances)
        if size <= best_size:
            best_order, best_size = order, size
    _place(best_order, allowances)
    return best_size
