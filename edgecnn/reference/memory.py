"""Activation memory of a model: tensor lifetimes, the peak of live bytes, and a greedy arena plan.

The greedy plan follows TFLite Micro's GreedyMemoryPlanner (largest buffer first, each at the lowest offset
that does not overlap a buffer alive at the same time, sizes aligned to 16 bytes), so edgecnn export can size
kTensorArenaSize's activation part from it.
"""

import dataclasses

ALIGNMENT = 16


@dataclasses.dataclass
class PlannedTensor:
    index: int
    name: str
    size: int
    first_op: int
    last_op: int
    offset: int


@dataclasses.dataclass
class MemoryPlan:
    peak_live_bytes: int
    greedy_arena_bytes: int
    tensors: list


def aligned(size, alignment=ALIGNMENT):
    return (size + alignment - 1) // alignment * alignment


def plan_memory(interpreter, alignment=ALIGNMENT):
    """Plan the activation tensors of a batch-1 run of `interpreter` (an edgecnn.reference Interpreter)."""
    details = interpreter.tensor_details
    tensors = [
        PlannedTensor(index, details[index].name, details[index].nbytes, first, last, 0)
        for index, (first, last) in sorted(interpreter.lifetimes().items())
    ]
    operator_count = max(len(interpreter.operators), 1)
    peak_live_bytes = max(
        (
            sum(tensor.size for tensor in tensors if tensor.first_op <= step <= tensor.last_op)
            for step in range(operator_count)
        ),
        default=0,
    )
    offsets = greedy_plan([(aligned(tensor.size, alignment), tensor.first_op, tensor.last_op) for tensor in tensors])
    for tensor, offset in zip(tensors, offsets):
        tensor.offset = offset
    arena = max((tensor.offset + aligned(tensor.size, alignment) for tensor in tensors), default=0)
    return MemoryPlan(peak_live_bytes=peak_live_bytes, greedy_arena_bytes=arena, tensors=tensors)


def greedy_plan(buffers):
    """Offsets GreedyMemoryPlanner gives (size, first_op, last_op) buffers: largest first, lowest fitting gap.

    Equal sizes are placed last-added first: TFLite Micro fills its sort array from the end, and its bubble sort
    keeps that order for ties. Following this exactly makes the plan's size equal TFLite Micro's.
    """
    order = sorted(range(len(buffers)), key=lambda position: (-buffers[position][0], -position))
    offsets = [0] * len(buffers)
    placed = []  # (offset, size, first, last)
    for position in order:
        size, first, last = buffers[position]
        overlapping = sorted(
            (offset, other_size)
            for offset, other_size, other_first, other_last in placed
            if other_first <= last and first <= other_last
        )
        candidate = 0
        for offset, other_size in overlapping:
            if offset - candidate >= size:
                break
            candidate = max(candidate, offset + other_size)
        offsets[position] = candidate
        placed.append((candidate, size, first, last))
    return offsets
