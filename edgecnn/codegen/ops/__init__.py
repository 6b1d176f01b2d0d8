"""The table of op emitters: one small spec per TFLite op the C target compiles.

Each spec names the function that writes the op's C body, and tells the memory planner how the op touches its
buffers: `overlap(layer)` gives, per activation input, how many bytes below that input the output may start
while the input is still being read (0: in place; omitted: the output needs its own bytes), and `alias` marks
ops whose output is the input's bytes unchanged (RESHAPE). `cmsis` (edgecnn.codegen.cmsis) is the call to
Arm's CMSIS-NN that replaces the body under -DEDGECNN_USE_CMSIS_NN, where CMSIS-NN computes the same.
"""

import dataclasses

from edgecnn.codegen import cmsis
from edgecnn.codegen.ops import conv, elementwise, layout, matmul, movement, pool, resize
from edgecnn.registry import Registry


@dataclasses.dataclass(frozen=True)
class OpEmitter:
    name: str
    emit: object = dataclasses.field(repr=False)  # (layer, emission) -> list of C lines
    overlap: object = dataclasses.field(default=None, repr=False)  # (layer) -> {input position: bytes}
    alias: bool = False
    cmsis: object = dataclasses.field(default=None, repr=False)  # (layer, emission) -> CmsisCall or None


def _table_op(name):
    return OpEmitter(name, elementwise.emit_table, elementwise.in_place_first)


MOVEMENT_OPS = (
    "TRANSPOSE", "SLICE", "STRIDED_SLICE", "PACK", "UNPACK", "SPLIT", "SPLIT_V", "GATHER", "DEPTH_TO_SPACE",
    "SPACE_TO_DEPTH", "PAD", "PADV2", "MIRROR_PAD", "RESIZE_NEAREST_NEIGHBOR",
)
TABLE_OPS = ("LOGISTIC", "TANH", "HARD_SWISH", "RELU", "RELU6", "LEAKY_RELU", "QUANTIZE")

EMITTERS = Registry(
    "op emitter",
    [
        OpEmitter("CONV_2D", conv.emit_conv_2d, conv.overlap_conv_2d, cmsis=cmsis.conv_2d),
        OpEmitter(
            "DEPTHWISE_CONV_2D",
            conv.emit_depthwise_conv_2d,
            conv.overlap_depthwise_conv_2d,
            cmsis=cmsis.depthwise_conv_2d,
        ),
        OpEmitter("FULLY_CONNECTED", matmul.emit_fully_connected, cmsis=cmsis.fully_connected),
        OpEmitter("TRANSPOSE_CONV", conv.emit_transpose_conv),
        OpEmitter("BATCH_MATMUL", matmul.emit_batch_matmul),
        OpEmitter("MAX_POOL_2D", pool.emit_max_pool_2d, pool.pool_overlap, cmsis=cmsis.max_pool_2d),
        OpEmitter("AVERAGE_POOL_2D", pool.emit_average_pool_2d, pool.pool_overlap, cmsis=cmsis.average_pool_2d),
        OpEmitter("MEAN", pool.emit_mean),
        OpEmitter("SUM", pool.emit_sum),
        OpEmitter("REDUCE_MAX", pool.emit_reduce_max),
        OpEmitter("ADD", elementwise.emit_add, elementwise.binary_in_place, cmsis=cmsis.add),
        OpEmitter("SUB", elementwise.emit_sub, elementwise.binary_in_place),
        OpEmitter("MUL", elementwise.emit_mul, elementwise.binary_in_place, cmsis=cmsis.mul),
        OpEmitter("MAXIMUM", elementwise.emit_maximum, elementwise.binary_in_place),
        OpEmitter("MINIMUM", elementwise.emit_minimum, elementwise.binary_in_place),
        OpEmitter("PRELU", elementwise.emit_prelu, elementwise.binary_in_place),
        OpEmitter("SOFTMAX", elementwise.emit_softmax, cmsis=cmsis.softmax),
        *(_table_op(name) for name in TABLE_OPS),
        *(OpEmitter(name, layout.emit_copy, alias=True) for name in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")),
        OpEmitter("CONCATENATION", layout.emit_concatenation),
        *(OpEmitter(name, movement.emit_movement) for name in MOVEMENT_OPS),
        OpEmitter("RESIZE_BILINEAR", resize.emit_resize_bilinear),
    ],
)
