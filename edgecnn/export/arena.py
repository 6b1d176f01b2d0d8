"""How large a tensor arena TFLite Micro needs for a model, computed from the model's contents.

The arena has two ends (tensorflow/lite/micro/micro_allocator.cc):
- the head holds the tensors that ops produce and the scratch buffers kernels request, placed by
  GreedyMemoryPlanner from each buffer's lifetime in the op sequence, every buffer rounded up to 16 bytes;
- the tail holds what lives as long as the interpreter: the allocator objects, a TfLiteEvalTensor per tensor,
  one NodeAndRegistration per op, each op's parsed builtin options, the op data kernels allocate in Init and
  Prepare (for conv, depthwise and fully connected: per-channel output multipliers and shifts), the scratch
  buffer handles, and the TfLiteTensor copies the interpreter keeps for the model's inputs and outputs.

The firmware figure is for a 32-bit microcontroller (arena_sizes.MCU), with each kernel set: the reference
kernels and CMSIS-NN (whose scratch buffers differ between the DSP cores and the Cortex-M55); kTensorArenaSize
is the larger, so one exported project runs with either. arena_sizes.HOST replays the 64-bit `tflite-micro`
pip package, which checks the same simulation on the host.
"""

import dataclasses

from edgecnn.errors import UnsupportedModelError
from edgecnn.export import arena_kernels, arena_sizes
from edgecnn.tflite import memory

ALIGNMENT = memory.ALIGNMENT
KERNEL_SETS = (arena_kernels.REFERENCE, arena_kernels.CMSIS_NN)
MAX_SCRATCH_BUFFERS_PER_OP = 12  # kMaxScratchBuffersPerOp: the head keeps room for that many more requests


@dataclasses.dataclass
class ArenaEstimate:
    """The arena TFLite Micro needs, split the way RecordingMicroAllocator reports it."""

    head_bytes: int
    tail_bytes: int
    approximate_ops: list

    @property
    def total_bytes(self):
        return self.head_bytes + self.tail_bytes

    def recommended_bytes(self):
        """The total rounded up to 16 bytes, plus 16 for aligning an arena that does not start aligned."""
        return memory.aligned(self.total_bytes, ALIGNMENT) + ALIGNMENT


@dataclasses.dataclass
class TflmArena:
    """kTensorArenaSize and what it covers: the 32-bit estimate of each kernel set.

    CMSIS-NN's scratch buffers differ between the cores with the DSP extension (Cortex-M4, M7, M33) and the
    Cortex-M55's Helium (MVE), which for a depthwise convolution asks for a buffer of 124 channels whatever the
    model's; `mve_bytes` is the figure for code compiled with MVE (__ARM_FEATURE_MVE), which model_settings.h
    selects at compile time.
    """

    reference: ArenaEstimate
    cmsis_nn: ArenaEstimate  # DSP cores
    cmsis_nn_mve: ArenaEstimate

    @property
    def recommended_bytes(self):
        return max(self.reference.recommended_bytes(), self.cmsis_nn.recommended_bytes())

    @property
    def mve_bytes(self):
        return max(self.recommended_bytes, self.cmsis_nn_mve.recommended_bytes())

    def bytes_for(self, mve):
        return self.mve_bytes if mve else self.recommended_bytes

    def summary(self):
        text = f"reference {self.reference.recommended_bytes()}, cmsis-nn {self.cmsis_nn.recommended_bytes()}"
        if self.mve_bytes != self.recommended_bytes:
            text += f"; Cortex-M55 with CMSIS-NN (MVE) {self.mve_bytes}"
        return text


def tflm_arena(model):
    """The arena figures `export --target tflm` writes: per kernel set on a 32-bit target, and their maximum."""
    return TflmArena(
        reference=estimate_arena(model, arena_kernels.REFERENCE),
        cmsis_nn=estimate_arena(model, arena_kernels.CMSIS_NN, architecture="dsp"),
        cmsis_nn_mve=estimate_arena(model, arena_kernels.CMSIS_NN, architecture="mve"),
    )


def estimate_arena(model, kernels=arena_kernels.REFERENCE, abi=arena_sizes.MCU, architecture="dsp"):
    """Estimate the arena of an edgecnn.tflite Model for a kernel set, ABI and (CMSIS-NN) core architecture,
    from the lifetimes TFLite Micro plans with."""
    graph = model.main
    if len(model.subgraphs) != 1:
        raise UnsupportedModelError(
            f"{model.source}: arena estimate handles one subgraph, found {len(model.subgraphs)}"
        )
    scratch = [
        (operator.index, size)
        for operator in graph.operators
        for size in arena_kernels.scratch_buffers(graph, operator, kernels, architecture)
    ]
    lifetimes = memory.graph_lifetimes(graph)
    head = _plan_head(graph, lifetimes, scratch)
    allocations, approximate = tail_allocations(graph, abi, kernels, architecture, len(scratch))
    margin = abi.per_op_margin * len(graph.operators)
    tail = _tail_bytes(allocations) + margin
    # While the model is prepared and planned the head holds bookkeeping instead of tensors; for a small model
    # that moment, not the final plan, needs the most arena.
    peak = _preparation_peak(graph, abi, kernels, architecture, lifetimes, len(scratch)) + margin
    return ArenaEstimate(max(head, peak - tail), tail, approximate)


def _preparation_peak(graph, abi, kernels, architecture, lifetimes, scratch_count):
    """The most arena in use while ops are prepared (temporary TfLiteTensors of the op's inputs and outputs
    beside the scratch requests at the head) or while the plan is made (AllocationInfo and the planner's lists)."""
    allocations, _ = tail_allocations(graph, abi, kernels, architecture, scratch_count, include_prepared=False)
    tail = _tail_bytes(allocations)
    requests = 0
    peak = 0
    for operator in graph.operators:
        for size in arena_kernels.persistent_buffers(graph, operator, kernels, architecture):
            allocations.append((size, ALIGNMENT))
        tail = _tail_bytes(allocations)
        head = abi.scratch_request * (requests + MAX_SCRATCH_BUFFERS_PER_OP)
        copies = abi.prepare_copies.get(operator.name, 1)
        for index in (*operator.inputs, *operator.outputs):
            if index >= 0:
                head += copies * _temporary_tensor_bytes(abi, graph.tensors[index])
        peak = max(peak, memory.aligned(head, ALIGNMENT) + tail)
        requests += len(arena_kernels.scratch_buffers(graph, operator, kernels, architecture))
    allocations.append(_array(abi.scratch_handle, scratch_count))
    planned = sum(1 for index in lifetimes if graph.tensors[index].nbytes > 0) + scratch_count
    head = (abi.scratch_request * (scratch_count + MAX_SCRATCH_BUFFERS_PER_OP) + abi.pointer_bytes
            + abi.allocation_info * (len(graph.tensors) + scratch_count) + abi.planner_bytes_per_buffer * planned)
    return max(peak, memory.aligned(head, ALIGNMENT) + ALIGNMENT + _tail_bytes(allocations))


def _temporary_tensor_bytes(abi, tensor):
    size = abi.tflite_tensor[0]
    if tensor.quantization.is_quantized:
        size += abi.affine_quantization[0] + 4 + 4 * len(tensor.quantization.zero_points)
    return size


def _plan_head(graph, lifetimes, scratch):
    buffers = []
    for index, (first, last) in sorted(lifetimes.items()):
        size = graph.tensors[index].nbytes
        if size > 0:
            buffers.append((memory.aligned(size, ALIGNMENT), first, last))
    buffers.extend((memory.aligned(size, ALIGNMENT), op_index, op_index) for op_index, size in scratch if size > 0)
    return memory.greedy_plan_bytes(buffers)


def tail_allocations(graph, abi, kernels, architecture, scratch_count, include_prepared=True):
    """The tail's allocations in the order TFLite Micro makes them, as (bytes, alignment), and the ops whose
    sizes are not known (counted with the largest). Without `include_prepared`: only those made before the
    first op is prepared."""
    allocations = list(abi.allocator_objects)
    allocations.append(abi.subgraph_allocations)
    allocations.append(_array(abi.eval_tensor, len(graph.tensors)))
    allocations.append(_array(abi.node_and_registration, len(graph.operators)))
    op_data = abi.op_data[kernels]
    approximate = []
    for operator in graph.operators:
        if (operator.name not in abi.options or operator.name not in op_data) and operator.name not in approximate:
            approximate.append(operator.name)
        allocations.append(abi.options.get(operator.name, abi.unknown_options))
    for operator in graph.operators:
        allocations.append((op_data.get(operator.name, abi.unknown_op_data), ALIGNMENT))
    if not include_prepared:
        return [allocation for allocation in allocations if allocation[0] > 0], approximate
    for operator in graph.operators:
        for size in arena_kernels.persistent_buffers(graph, operator, kernels, architecture):
            allocations.append((size, ALIGNMENT))
    allocations.append(_array(abi.scratch_handle, scratch_count))
    for indices in (graph.inputs, graph.outputs):
        allocations.append((abi.pointer_bytes * len(indices), ALIGNMENT))
        for index in indices:
            allocations.append(abi.tflite_tensor)
            quantization = graph.tensors[index].quantization
            if quantization.is_quantized:
                allocations.append(abi.affine_quantization)
                allocations.append((4 + 4 * len(quantization.zero_points), 4))
    return [allocation for allocation in allocations if allocation[0] > 0], approximate


def _array(element, count):
    size, alignment = element
    return size * count, alignment


def _tail_bytes(allocations):
    """The tail grows down from the arena's end: each allocation moves down by its size, then to alignment."""
    offset = 0
    for size, alignment in allocations:
        offset = memory.aligned(offset + size, alignment)
    return offset


def _element_count(shape):
    count = 1
    for dimension in shape:
        count *= int(dimension)
    return count
