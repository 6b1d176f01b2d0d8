"""Activation memory of a model graph: tensor lifetimes, the peak of live bytes, and a greedy arena plan.

Lifetimes follow TFLite Micro's AllocationInfoBuilder::MarkAllocationLifetimes and the greedy plan its
GreedyMemoryPlanner (largest buffer first, each at the lowest offset that does not overlap a buffer alive at
the same time, sizes aligned to 16 bytes), so verify, `export --target tflm`'s arena size and the C compiler's
planner all start from the same facts.
"""

import dataclasses

ALIGNMENT = 16  # MicroArenaBufferAlignment()


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


def graph_lifetimes(graph):
    """tensor index -> (first op index, last op index) for every activation tensor of a subgraph.

    Model inputs live from op 0, model outputs to the last op, every other tensor from the op that writes it
    to the last op that reads it. Constants and variables are not activations.
    """
    last_op = max(len(graph.operators) - 1, 0)
    lifetimes = {}

    def mark(index, step):
        if index < 0 or graph.tensors[index].is_constant or graph.tensors[index].is_variable:
            return
        first, last = lifetimes.get(index, (step, step))
        lifetimes[index] = (min(first, step), max(last, step))

    for index in graph.inputs:
        mark(index, 0)
    for position, operator in enumerate(graph.operators):
        for index in list(operator.inputs) + list(operator.outputs):
            mark(index, position)
    for index in graph.outputs:
        mark(index, last_op)
    return lifetimes


def plan_memory(graph, lifetimes=None, alignment=ALIGNMENT):
    """Plan the activation tensors of a batch-1 run of `graph` (an edgecnn.tflite SubGraph)."""
    lifetimes = graph_lifetimes(graph) if lifetimes is None else lifetimes
    tensors = [
        PlannedTensor(index, graph.tensors[index].name, graph.tensors[index].nbytes, first, last, 0)
        for index, (first, last) in sorted(lifetimes.items())
    ]
    peak_live_bytes = max(
        (
            sum(tensor.size for tensor in tensors if tensor.first_op <= step <= tensor.last_op)
            for step in range(max(len(graph.operators), 1))
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


def greedy_plan_bytes(buffers):
    """Size of GreedyMemoryPlanner's plan for (size, first, last) buffers."""
    offsets = greedy_plan(buffers)
    return max((offset + size for offset, (size, _, _) in zip(offsets, buffers)), default=0)
