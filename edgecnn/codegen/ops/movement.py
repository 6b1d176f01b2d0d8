"""Ops that only move int8 values (TRANSPOSE, the slices, PACK, UNPACK, SPLIT, GATHER, PAD, MIRROR_PAD, the
depth/space ops, RESIZE_NEAREST_NEIGHBOR): the interpreter's own kernel tells where each output byte comes from.

At export the kernel runs on probes: input j holds base-128 digits of each element's index, once as they are
and once 128 lower. An output byte that follows the shift came from input j, and its digits spell the source
index; a byte that follows no input is a fill (PAD's zero point or value). Any other behaviour means the op
is not pure movement, and export stops. The resulting map is then split into blocks, each a constant fill, a
strided copy, or a copy through small per-axis offset tables, and each block becomes a loop nest.
"""

import dataclasses

import numpy as np

from edgecnn.codegen.ops.common import contiguous_strides, element_count, indent
from edgecnn.errors import UnsupportedModelError
from edgecnn.reference.kernels_common import batched_shape

DIGIT_BITS = 7
FILL = -1


@dataclasses.dataclass
class SourceMap:
    """Where each element of one output comes from: input position (FILL for a constant) and flat index."""

    shape: tuple
    source: np.ndarray  # input position per output element, FILL for a fill
    index: np.ndarray  # source flat index, or the fill value


def _probe_arrays(layer, position, digit, shift):
    arrays = []
    for other in layer.activation_positions():
        tensor = layer.inputs[other]
        count = element_count(tensor.shape)
        if other == position:
            values = ((np.arange(count, dtype=np.int64) >> (DIGIT_BITS * digit)) & 127) + shift
        else:
            values = np.zeros(count, np.int64)
        arrays.append(values.astype(np.int8).reshape(batched_shape(tensor.shape, 1)))
    return arrays


def _run(layer, arrays):
    return [np.asarray(result).reshape(-1).astype(np.int64) for result in layer.run(arrays)]


def _not_movement(layer):
    return UnsupportedModelError(
        f"op {layer.index} ({layer.name}): the op does not only move values; cannot compile it as data movement"
    )


def source_maps(layer):
    """One SourceMap per output of a pure data-movement op, from probes of the interpreter's kernel."""
    baseline = _run(layer, _probe_arrays(layer, -1, 0, 0))
    source = [np.full(values.size, FILL, np.int64) for values in baseline]
    index = [values.copy() for values in baseline]  # the fill values, where no input reaches
    for position in layer.activation_positions():
        count = element_count(layer.inputs[position].shape)
        digits = max(1, -(-int(count - 1).bit_length() // DIGIT_BITS))
        found = [np.zeros(values.size, np.int64) for values in baseline]
        moved = None
        for digit in range(digits):
            high = _run(layer, _probe_arrays(layer, position, digit, 0))
            low = _run(layer, _probe_arrays(layer, position, digit, -128))
            follows = [first - second == 128 for first, second in zip(high, low)]
            if any(not np.all(mask | (first == second)) for mask, first, second in zip(follows, high, low)):
                raise _not_movement(layer)
            if moved is not None and any(not np.array_equal(a, b) for a, b in zip(moved, follows)):
                raise _not_movement(layer)
            moved = follows
            for number, first in enumerate(high):
                found[number] += first << (DIGIT_BITS * digit)
        for number in range(len(found)):
            if np.any(moved[number] & (source[number] != FILL)):
                raise _not_movement(layer)  # an element that follows two inputs
            source[number] = np.where(moved[number], position, source[number])
            index[number] = np.where(moved[number], found[number], index[number])
    maps = []
    for number, tensor in enumerate(layer.outputs):
        shape = tuple(int(size) for size in tensor.shape) or (1,)
        maps.append(SourceMap(shape, source[number].reshape(shape), index[number].reshape(shape)))
    return maps


@dataclasses.dataclass
class Block:
    """A box of the output: `start`/`sizes` per output axis, filled with `fill` or copied from `source`:
    source offset = base + sum over axes of (index * stride, or table[index] where a table is given)."""

    start: tuple
    sizes: tuple
    source: int
    fill: int = 0
    base: int = 0
    strides: tuple = ()
    tables: dict = dataclasses.field(default_factory=dict)


def _affine(values):
    """Per-axis strides when values[i] = values[0] + sum(i_k * s_k), else None."""
    origin = values[(0,) * values.ndim]
    strides = []
    for axis, size in enumerate(values.shape):
        if size == 1:
            strides.append(0)
            continue
        step = [0] * values.ndim
        step[axis] = 1
        strides.append(int(values[tuple(step)] - origin))
    grid = np.indices(values.shape).reshape(values.ndim, -1)
    predicted = origin + (np.asarray(strides, np.int64)[:, None] * grid).sum(axis=0)
    return strides if np.array_equal(predicted, values.reshape(-1)) else None


def _separable(values):
    """Per-axis offset tables when values[i] = values[0] + sum(t_k[i_k]), else None."""
    origin = values[(0,) * values.ndim]
    tables = []
    for axis in range(values.ndim):
        index = [0] * values.ndim
        index[axis] = slice(None)
        tables.append(values[tuple(index)] - origin)
    total = np.full(values.shape, origin, np.int64)
    for axis, table in enumerate(tables):
        shape = [1] * values.ndim
        shape[axis] = -1
        total = total + table.reshape(shape)
    return tables if np.array_equal(total, values) else None


def _leaf(which, index, start):
    sizes = tuple(which.shape)
    first = int(which.flat[0])
    if np.all(which == first):
        if first == FILL and np.all(index == index.flat[0]):
            return Block(start, sizes, FILL, fill=int(index.flat[0]))
        if first != FILL:
            strides = _affine(index)
            if strides is not None:
                return Block(start, sizes, first, base=int(index.flat[0]), strides=tuple(strides))
            tables = _separable(index)
            if tables is not None:
                affine = {}
                for axis, table in enumerate(tables):
                    steps = np.diff(table)
                    if table.size == 1 or np.all(steps == steps[0]):
                        affine[axis] = int(steps[0]) if table.size > 1 else 0
                strides = tuple(affine.get(axis, 0) for axis in range(len(tables)))
                kept = {axis: table for axis, table in enumerate(tables) if axis not in affine}
                return Block(start, sizes, first, base=int(index.flat[0]), strides=strides, tables=kept)
    return None


def _signature(which, index):
    data = which != FILL
    relative = np.where(data, index - (index[data].min() if data.any() else 0), index)
    base = int(index[data].min()) if data.any() else 0
    return (which.tobytes(), relative.tobytes()), base


def _groups(which, index, axis):
    """Runs of consecutive positions along `axis` whose slabs share one layout and advance by one step."""
    groups, current, step, previous_base = [], [0], None, None
    signature, previous_base = _signature(np.take(which, 0, axis), np.take(index, 0, axis))
    for position in range(1, which.shape[axis]):
        next_signature, base = _signature(np.take(which, position, axis), np.take(index, position, axis))
        delta = base - previous_base
        if next_signature == signature and (step is None or delta == step):
            step = delta
            current.append(position)
        else:
            groups.append(current)
            current, step = [position], None
        signature, previous_base = next_signature, base
    groups.append(current)
    return [(group[0], group[-1] + 1) for group in groups]


def decompose(which, index, start=None):
    """Blocks covering the output map (which, index), in row-major order of their first element."""
    start = start or (0,) * which.ndim
    leaf = _leaf(which, index, start)
    if leaf is not None:
        return [leaf]
    for axis in range(which.ndim):
        runs = _groups(which, index, axis)
        if len(runs) > 1:
            blocks = []
            for low, high in runs:
                region = [slice(None)] * which.ndim
                region[axis] = slice(low, high)
                offset = list(start)
                offset[axis] += low
                blocks += decompose(which[tuple(region)], index[tuple(region)], tuple(offset))
            return blocks
    raise UnsupportedModelError("cannot lay out the data movement of this op as blocks")


def _block_lines(block, output_shape, output, sources, emission, hint):
    """C for one block: nested loops (merged where both sides are contiguous), memset/memcpy innermost."""
    output_strides = contiguous_strides(output_shape)
    out_base = sum(begin * stride for begin, stride in zip(block.start, output_strides))
    axes = [axis for axis, size in enumerate(block.sizes) if size > 1]
    if block.source == FILL:
        source_strides = {axis: 0 for axis in axes}
    else:
        source_strides = {axis: block.strides[axis] for axis in axes}
    # Merge an axis into the one inside it where both the output and the source continue contiguously.
    merged = []  # (size, output stride, source stride or None for a table axis, table)
    for axis in axes:
        table = block.tables.get(axis)
        entry = [block.sizes[axis], output_strides[axis], None if table is not None else source_strides[axis], table]
        if merged and table is None and merged[-1][3] is None:
            size, out_stride, source_stride, _ = merged[-1]
            if out_stride == entry[1] * entry[0] and source_stride == entry[2] * entry[0]:
                merged[-1] = [size * entry[0], entry[1], entry[2], None]
                continue
        merged.append(entry)
    lines, counters = [], []
    inner = merged[-1] if merged and merged[-1][1] == 1 and merged[-1][2] in (1, 0) and merged[-1][3] is None else None
    loops = merged[:-1] if inner is not None else merged
    for depth, (size, _, _, _) in enumerate(loops):
        counter = f"i{depth}"
        counters.append(counter)
        lines.append("  " * depth + f"for (int {counter} = 0; {counter} < {size}; ++{counter}) {{")
    out_terms = [str(out_base)] if out_base else []
    source_terms = [str(block.base)] if block.source != FILL and block.base else []
    for counter, (_, out_stride, source_stride, table) in zip(counters, loops):
        out_terms.append(f"{counter} * {out_stride}" if out_stride != 1 else counter)
        if block.source == FILL:
            continue
        if table is not None:
            dtype = np.int16 if np.abs(table).max(initial=0) < 2**15 else np.int32
            name = emission.constant(table, dtype, f"{hint}_offsets")
            source_terms.append(f"{name}[{counter}]")
        elif source_stride:
            source_terms.append(f"{counter} * {source_stride}" if source_stride != 1 else counter)
    out_offset = " + ".join(out_terms) or "0"
    source_offset = " + ".join(source_terms) or "0"
    target = f"{output} + {out_offset}" if out_offset != "0" else output
    depth = len(loops)
    if block.source == FILL:
        count = inner[0] if inner is not None else 1
        if count > 1:
            body = [f"memset({target}, {block.fill}, {count});"]
        else:
            body = [f"{output}[{out_offset}] = {block.fill};"]
    else:
        source = sources[block.source]
        if inner is not None and inner[2] == 1 and inner[0] > 1:
            origin = f"{source} + {source_offset}" if source_offset != "0" else source
            body = [f"memcpy({target}, {origin}, {inner[0]});"]
        elif inner is not None and inner[0] > 1:
            # A broadcast innermost axis: one source byte repeated.
            body = [f"memset({target}, {source}[{source_offset}], {inner[0]});"]
        else:
            body = [f"{output}[{out_offset}] = {source}[{source_offset}];"]
    lines += indent(body, depth)
    for level in range(depth - 1, -1, -1):
        lines.append("  " * level + "}")
    return lines


def emit_movement(layer, emission):
    maps = source_maps(layer)
    sources = {position: emission.input(position) for position in layer.activation_positions()}
    hint = layer.name.lower()
    lines, counts = [], []
    for number, source_map in enumerate(maps):
        try:
            blocks = decompose(source_map.source, source_map.index)
        except UnsupportedModelError as error:
            raise UnsupportedModelError(f"op {layer.index} ({layer.name}): {error}") from None
        counts.append(len(blocks))
        for block in blocks:
            lines += _block_lines(block, source_map.shape, emission.output(number), sources, emission, hint)
    shapes = " + ".join("x".join(map(str, source_map.shape)) for source_map in maps)
    emission.describe(f"{layer.name} -> {shapes}: data movement in {sum(counts)} blocks (found at export)")
    return lines
