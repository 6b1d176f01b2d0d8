"""Data movement and resizing on batched int8 arrays: TRANSPOSE, the slices, SQUEEZE, EXPAND_DIMS, PACK,
UNPACK, SPLIT, SPLIT_V, GATHER, CONCATENATION, DEPTH_TO_SPACE, SPACE_TO_DEPTH, PAD, PADV2, MIRROR_PAD and the
two RESIZE ops.

Every kernel works on Call.per_image views, (N, *model shape), so an op over the model's batch axis (a
TRANSPOSE of an NCHW input, a PACK or CONCATENATION on axis 0) is one more axis, never a special case. None of
these ops requantizes: TFLite and TFLite Micro copy the raw int8 values (RESIZE_BILINEAR interpolates them), and
the converter gives inputs and outputs one scale and zero point. Both runtimes agree on all of them.
"""

import numpy as np

from edgecnn.reference.kernels_common import output_range, scale_and_zero_point

INT32_LOWEST = -(2**31)


def _axis(axis, rank):
    """A model axis (negative counts from the end) as the axis of the per-image view."""
    return int(axis) % rank + 1


def _integers(array):
    return [int(value) for value in np.asarray(array).reshape(-1)]


def transpose(call):
    values = call.per_image(0)
    permutation = [_axis(axis, values.ndim - 1) for axis in _integers(call.arrays[1])]
    return [call.batched_output(values.transpose(0, *permutation))]


def slice_(call):
    values = call.per_image(0)
    index = [slice(None)]
    for begin, size in zip(_integers(call.arrays[1]), _integers(call.arrays[2])):
        index.append(slice(begin, None if size < 0 else begin + size))
    return [call.batched_output(values[tuple(index)])]


def strided_slice_plan(input_shape, begin, end, strides, options):
    """TFLite's BuildStridedSliceParams, StartForAxis and EndForAxis (strided_slice.cc, strided_slice.h):
    (the input shape with new axes inserted, one Python slice per axis of it). Shrunk axes keep length 1;
    the caller reshapes to the output shape, which drops them.
    """
    ellipsis_mask, new_axis_mask = options.get("ellipsis_mask", 0), options.get("new_axis_mask", 0)
    begin_mask, end_mask = options.get("begin_mask", 0), options.get("end_mask", 0)
    shrink_axis_mask, offset = options.get("shrink_axis_mask", 0), options.get("offset", False)
    count = len(begin)
    added = sum(1 for i in range(count) if not (ellipsis_mask >> i) & 1 and (new_axis_mask >> i) & 1)
    dims = len(input_shape) + added
    effective_ellipsis, effective_new_axis = set(), set()
    ellipsis_start, expanded = dims, 0
    i = 0
    while i < dims:
        if (ellipsis_mask >> i) & 1:
            ellipsis_start = i
            ellipsis_end = max(i + 1, min(i + 1 + added + len(input_shape) - count, dims))
            expanded = ellipsis_end - ellipsis_start - 1
            effective_ellipsis.update(range(i, ellipsis_end))
            i = ellipsis_end
            continue
        if (new_axis_mask >> (i - expanded)) & 1:
            effective_new_axis.add(i)
        i += 1
    shape, slices = [], []
    added_ellipsis = added_axes = 0
    for i in range(dims):
        if i in effective_ellipsis:
            added_ellipsis = max(0, i - ellipsis_start)
            size = input_shape[i - added_axes]
            shape.append(size)
            slices.append(slice(0, size, 1))
            continue
        if i in effective_new_axis:
            shape.append(1)
            slices.append(slice(0, 1, 1))
            added_axes += 1
            continue
        size = input_shape[i - added_axes]
        shape.append(size)
        if i >= count + expanded:
            slices.append(slice(0, size, 1))
            continue
        original = i - added_ellipsis
        stride = strides[original]
        start = begin[original] + size if begin[original] < 0 else begin[original]
        start = min(max(start, 0), size) if stride > 0 else min(max(start, -1), size - 1)
        if (begin_mask >> original) & 1:
            start = 0 if stride > 0 else size - 1
        if (shrink_axis_mask >> original) & 1:
            stop = start if start >= size else start + 1
        else:
            stop = end[original] + (start if offset else 0)
            stop = stop + size if stop < 0 else stop
            stop = min(max(stop, 0), size) if stride > 0 else min(max(stop, -1), size - 1)
            if (end_mask >> original) & 1:
                stop = size if stride > 0 else -1
        # A stop of -1 with a negative stride means "past index 0", which a Python slice spells None.
        slices.append(slice(start, None if stop < 0 else stop, stride))
    return tuple(shape), slices


def strided_slice(call):
    values = call.per_image(0)
    strides = _integers(call.arrays[3]) if len(call.arrays) > 3 else [1] * len(call.arrays[1])
    shape, slices = strided_slice_plan(
        call.inputs[0].shape, _integers(call.arrays[1]), _integers(call.arrays[2]), strides, call.options
    )
    values = values.reshape(values.shape[0], *shape)
    return [call.batched_output(values[(slice(None), *slices)])]


def reshape(call):
    """RESHAPE, SQUEEZE and EXPAND_DIMS: the same bytes under the output's shape (a view, no copy)."""
    return [np.asarray(call.arrays[0]).reshape(call.output_shape())]


def _per_image_inputs(call, positions):
    """Inputs as full (N, *shape) arrays, constants repeated for every image (for stacking)."""
    batch = call.batch_size
    return [np.broadcast_to(call.per_image(i), (batch, *call.inputs[i].shape)) for i in positions]


def pack(call):
    arrays = _per_image_inputs(call, range(len(call.arrays)))
    axis = _axis(call.options.get("axis", 0), len(call.inputs[0].shape) + 1)
    return [call.batched_output(np.stack(arrays, axis=axis))]


def unpack(call):
    values = call.per_image(0)
    axis = _axis(call.options.get("axis", 0), values.ndim - 1)
    return [
        call.batched_output(np.take(values, position, axis=axis), position)
        for position in range(len(call.outputs))
    ]


def _split_at(call, values, axis, boundaries):
    pieces = np.split(values, boundaries, axis=axis)
    return [call.batched_output(piece, position) for position, piece in enumerate(pieces)]


def split(call):
    values = call.per_image(1)
    axis = _axis(_integers(call.arrays[0])[0], values.ndim - 1)
    return _split_at(call, values, axis, len(call.outputs))


def split_v(call):
    values = call.per_image(0)
    axis = _axis(_integers(call.arrays[2])[0], values.ndim - 1)
    sizes = _integers(call.arrays[1])
    if -1 in sizes:
        sizes[sizes.index(-1)] = values.shape[axis] - (sum(sizes) + 1)
    return _split_at(call, values, axis, np.cumsum(sizes)[:-1])


def gather(call):
    values = call.per_image(0)
    axis = _axis(call.options.get("axis", 0), values.ndim - 1)
    indices = np.asarray(call.arrays[1]).astype(np.intp)
    return [call.batched_output(np.take(values, indices, axis=axis))]


def concatenation(call):
    arrays = _per_image_inputs(call, range(len(call.arrays)))
    axis = _axis(call.options["axis"], len(call.outputs[0].shape))
    low, high = output_range(call)
    joined = np.concatenate(arrays, axis=axis)
    if low > -128 or high < 127:
        np.clip(joined, low, high, out=joined)
    return [call.batched_output(joined.astype(call.outputs[0].dtype, copy=False))]


def _images(call, position=0):
    """Input `position` (a 4-D NHWC model tensor) as (N * model batch, H, W, C)."""
    return call.per_image(position).reshape(-1, *call.inputs[position].shape[1:])


def depth_to_space(call):
    values = _images(call)
    block = call.options["block_size"]
    batch, height, width, depth = values.shape
    # TensorFlow's DCR order: output channel c of block offset (i, j) is input channel (i * block + j) * C + c.
    blocks = values.reshape(batch, height, width, block, block, depth // (block * block))
    moved = blocks.transpose(0, 1, 3, 2, 4, 5)
    return [call.batched_output(moved.reshape(batch, height * block, width * block, -1))]


def space_to_depth(call):
    values = _images(call)
    block = call.options["block_size"]
    batch, height, width, depth = values.shape
    blocks = values.reshape(batch, height // block, block, width // block, block, depth)
    moved = blocks.transpose(0, 1, 3, 2, 4, 5)
    return [call.batched_output(moved.reshape(batch, height // block, width // block, -1))]


def _paddings(call):
    return [(0, 0)] + [(int(before), int(after)) for before, after in np.asarray(call.arrays[1]).reshape(-1, 2)]


def pad(call):
    """PAD and PADV2: the fill is the constant value input (raw int8), else the output's zero point."""
    if len(call.arrays) > 2 and call.arrays[2] is not None:
        fill = int(np.asarray(call.arrays[2]).reshape(-1)[0])
    else:
        fill = scale_and_zero_point(call.outputs[0])[1]
    return [call.batched_output(np.pad(call.per_image(0), _paddings(call), constant_values=fill))]


MIRROR_MODES = {"REFLECT": "reflect", "SYMMETRIC": "symmetric"}


def mirror_pad(call):
    """REFLECT mirrors without the edge (padding < size), SYMMETRIC with it (padding <= size), as NumPy does."""
    mode = MIRROR_MODES[call.options.get("mode", "REFLECT")]
    return [call.batched_output(np.pad(call.per_image(0), _paddings(call), mode=mode))]


def _output_size(call):
    _, height, width, _ = call.outputs[0].shape
    return height, width


def nearest_neighbor_indices(input_size, output_size, align_corners, half_pixel_centers):
    """TFLite GetNearestNeighbor for every output index, in float32 as in the C code."""
    if align_corners and output_size > 1:
        scale = np.float32(input_size - 1) / np.float32(output_size - 1)
    else:
        scale = np.float32(input_size) / np.float32(output_size)
    offset = np.float32(0.5 if half_pixel_centers else 0.0)
    position = (np.arange(output_size, dtype=np.float32) + offset) * scale
    if align_corners:
        # TfLiteRound: half away from zero, on a float32 value (exact in float64).
        wide = position.astype(np.float64)
        indices = np.copysign(np.floor(np.abs(wide) + 0.5), wide)
    else:
        indices = np.floor(position)
    indices = np.minimum(indices.astype(np.int64), input_size - 1)
    if half_pixel_centers:
        indices = np.maximum(indices, 0)
    return indices


def resize_nearest_neighbor(call):
    values = _images(call)
    out_h, out_w = _output_size(call)
    align, half = call.options.get("align_corners", False), call.options.get("half_pixel_centers", False)
    rows = nearest_neighbor_indices(values.shape[1], out_h, align, half)
    columns = nearest_neighbor_indices(values.shape[2], out_w, align, half)
    return [call.batched_output(values[:, rows][:, :, columns])]


BILINEAR_FRACTION_BITS = 10


def bilinear_taps(input_size, output_size, align_corners, half_pixel_centers):
    """ResizeBilinearInteger's ComputeInterpolationValuesInteger for every output index: (lower, upper,
    weight of upper) in 1/1024ths; the lower tap's weight is 1024 - weight (it may exceed 1024 at the edges
    with half-pixel centers, where the two taps are the same pixel)."""
    one = 1 << BILINEAR_FRACTION_BITS
    if align_corners and output_size > 1:
        scale = (one * (input_size - 1) + (output_size - 1) // 2) // (output_size - 1)
    else:
        scale = (one * input_size + output_size // 2) // output_size
    positions = np.arange(output_size, dtype=np.int64) * scale
    if half_pixel_centers:
        positions += scale // 2 - (1 << (BILINEAR_FRACTION_BITS - 1))
    # C division truncates toward zero: positions may be negative with half-pixel centers.
    lower = np.maximum(np.trunc(positions / one).astype(np.int64), 0)
    upper = np.minimum(np.trunc((positions + one - 1) / one).astype(np.int64), input_size - 1)
    return lower, upper, positions - one * lower


def resize_bilinear(call):
    """TFLite's ResizeBilinearInteger (the int8 path of both BUILTIN_REF and TFLite Micro): 10 fractional bits
    per axis, the 20-bit sum rounded half away from zero, no requantization. Separable: the exact integer
    sum of v * wy * wx is the same whichever axis is weighted first."""
    values = _images(call)
    out_h, out_w = _output_size(call)
    align, half = call.options.get("align_corners", False), call.options.get("half_pixel_centers", False)
    one = 1 << BILINEAR_FRACTION_BITS
    top, bottom, weight_y = bilinear_taps(values.shape[1], out_h, align, half)
    left, right, weight_x = bilinear_taps(values.shape[2], out_w, align, half)
    wide = values.astype(np.int64)
    weight_y = weight_y.reshape(1, -1, 1, 1)
    rows = wide[:, top] * (one - weight_y) + wide[:, bottom] * weight_y
    weight_x = weight_x.reshape(1, 1, -1, 1)
    total = rows[:, :, left] * (one - weight_x) + rows[:, :, right] * weight_x
    half_unit = 1 << (2 * BILINEAR_FRACTION_BITS - 1)
    rounded = np.where(total > 0, total + half_unit, total - half_unit)
    # C division of int64 by 2^20 truncates toward zero; the cast to int8 does not clamp (no value needs it).
    quotient = np.where(rounded >= 0, rounded >> 20, -((-rounded) >> 20))
    return [call.batched_output(quotient.astype(np.int8))]
