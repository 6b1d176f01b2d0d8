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
    placed = []
    for tensor in sorted(
        tensors, key=lambda item: (-aligned(item.size, alignment), item.first_op, item.index)
    ):
        size = aligned(tensor.size, alignment)
        overlapping = sorted(
            (
                other
                for other in placed
                if other.first_op <= tensor.last_op and tensor.first_op <= other.last_op
            ),
            key=lambda other: other.offset,
        )
        offset = 0
        for other in overlapping:
            if offset + size <= other.offset:
                break
            offset = max(offset, other.offset + aligned(other.size, alignment))
        tensor.offset = offset
        placed.append(tensor)
    arena = max((tensor.offset + aligned(tensor.size, alignment) for tensor in tensors), default=0)
    return MemoryPlan(peak_live_bytes=peak_live_bytes, greedy_arena_bytes=arena, tensors=tensors)
