"""The sizes of what TFLite Micro keeps in the tail of its arena, per ABI and kernel set.

MCU: a 32-bit build (4-byte pointers) as firmware links it: a plain MicroAllocator and GreedyMemoryPlanner.
Measured on TFLite Micro 90b983c for Cortex-M4 (arm-none-eabi-g++ 12.2), by logging every persistent allocation
of the allocator while single-op and zoo models were allocated, for the reference and CMSIS-NN kernels.
Arm's EABI stores an enum in one byte; other 32-bit compilers (Xtensa for the ESP32, RISC-V) use four, so an
options struct holding enums gets its four-byte-enum size here, the larger of the two.

HOST: the `tflite-micro` pip package (x86-64, TF_LITE_STATIC_MEMORY, USE_TFLM_COMPRESSION, a
RecordingMicroAllocator), read off the struct definitions with sizeof: the host check of the same simulation.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Abi:
    name: str
    pointer_bytes: int
    allocator_objects: tuple  # (size, alignment) of each object placed in the tail before the model is read
    subgraph_allocations: tuple
    eval_tensor: tuple  # TfLiteEvalTensor, one per tensor of the model
    node_and_registration: tuple  # one per op
    tflite_tensor: tuple  # the TfLiteTensor kept for each model input and output
    affine_quantization: tuple
    scratch_handle: tuple
    scratch_request: int  # internal::ScratchBufferRequest, kept at the head while ops are prepared
    allocation_info: int  # AllocationInfo, one per tensor and scratch buffer while the plan is made
    options: dict  # op -> (size, alignment) of its parsed builtin options
    op_data: dict  # kernel set -> op -> bytes its kernel's Init allocates
    unknown_options: tuple = (40, 4)  # an op without a measured size: the largest options struct
    unknown_op_data: int = 96  # and the largest op data
    per_op_margin: int = 0  # bytes per op the simulation is known to fall short by (none where it is exact)
    planner_bytes_per_buffer: int = 40  # GreedyMemoryPlanner::per_buffer_size(): requirements, 3 ints, a list entry
    # Ops whose Prepare holds temporary copies of its tensors while it takes them again: conv and depthwise call
    # CalculateOpData*, which allocates its own (kernels/conv_common.cc, and CMSIS-NN's conv.cc the same way).
    prepare_copies: dict = dataclasses.field(default_factory=dict)


# Builtin options as 32-bit compilers with four-byte enums lay them out (Arm's one-byte enums give at most
# this): tensorflow/lite/core/c/builtin_op_data.h.
MCU_OPTIONS = {
    "CONV_2D": (28, 4),  # TfLiteConvParams
    "DEPTHWISE_CONV_2D": (28, 4),  # TfLiteDepthwiseConvParams
    "TRANSPOSE_CONV": (20, 4),  # TfLiteTransposeConvParams
    "FULLY_CONNECTED": (16, 4),  # TfLiteFullyConnectedParams
    "AVERAGE_POOL_2D": (40, 4),  # TfLitePoolParams
    "MAX_POOL_2D": (40, 4),
    "MEAN": (1, 1),  # TfLiteReducerParams
    "SUM": (1, 1),
    "REDUCE_MAX": (1, 1),
    "SOFTMAX": (4, 4),  # TfLiteSoftmaxParams
    "RESHAPE": (36, 4),  # TfLiteReshapeParams
    "SQUEEZE": (36, 4),  # TfLiteSqueezeParams
    "ADD": (8, 4),  # TfLiteAddParams
    "SUB": (8, 4),  # TfLiteSubParams
    "MUL": (4, 4),  # TfLiteMulParams
    "CONCATENATION": (8, 4),  # TfLiteConcatenationParams
    "PACK": (8, 4),  # TfLitePackParams
    "UNPACK": (8, 4),  # TfLiteUnpackParams
    "SPLIT": (4, 4),  # TfLiteSplitParams
    "SPLIT_V": (4, 4),  # TfLiteSplitVParams
    "GATHER": (8, 4),  # TfLiteGatherParams
    "STRIDED_SLICE": (24, 4),  # TfLiteStridedSliceParams
    "LEAKY_RELU": (4, 4),  # TfLiteLeakyReluParams
    "MIRROR_PAD": (4, 4),  # TfLiteMirrorPaddingParams
    "RESIZE_BILINEAR": (2, 1),  # TfLiteResizeBilinearParams
    "RESIZE_NEAREST_NEIGHBOR": (2, 1),  # TfLiteResizeNearestNeighborParams
    "DEPTH_TO_SPACE": (4, 4),  # TfLiteDepthToSpaceParams
    "SPACE_TO_DEPTH": (4, 4),  # TfLiteSpaceToDepthParams
    "BATCH_MATMUL": (3, 1),  # TfLiteBatchMatMulParams
    # No options struct: ops whose parser allocates nothing.
    **{op: (0, 1) for op in ("PAD", "PADV2", "QUANTIZE", "DEQUANTIZE", "LOGISTIC", "TANH", "HARD_SWISH", "RELU",
                             "RELU6", "PRELU", "MAXIMUM", "MINIMUM", "SLICE", "TRANSPOSE", "EXPAND_DIMS")},
}

# What each kernel's Init allocates (its OpData), 32-bit. Ops missing from the CMSIS-NN table use the
# reference kernel there too.
MCU_REFERENCE_OP_DATA = {
    "CONV_2D": 56,  # OpDataConv
    "DEPTHWISE_CONV_2D": 56,  # OpDataConv
    "TRANSPOSE_CONV": 72,
    "FULLY_CONNECTED": 48,  # OpDataFullyConnected
    "AVERAGE_POOL_2D": 32,  # OpDataPooling
    "MAX_POOL_2D": 32,
    "MEAN": 44,  # OpDataReduce
    "SUM": 44,
    "REDUCE_MAX": 44,
    "SOFTMAX": 56,  # SoftmaxParams
    "ADD": 60,  # OpDataAdd
    "SUB": 52,  # OpDataSub
    "MUL": 36,  # OpDataMul
    "CONCATENATION": 24,
    "STRIDED_SLICE": 84,
    "PAD": 56,
    "PADV2": 56,
    "MIRROR_PAD": 20,
    "PRELU": 28,
    "BATCH_MATMUL": 16,  # OpDataBatchMatmul
    "QUANTIZE": 32,  # OpDataQuantizeReference
    "DEQUANTIZE": 32,  # DequantizeOpData
    "LOGISTIC": 16,  # OpDataLogistic
    "TANH": 16,
    "HARD_SWISH": 20,  # HardSwishParams
    "LEAKY_RELU": 24,  # LeakyReluOpData
    "RELU": 28,  # ReluOpData
    "RELU6": 8,  # Relu6OpData
    **{op: 0 for op in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS", "PACK", "UNPACK", "SPLIT", "SPLIT_V", "SLICE",
                        "TRANSPOSE", "MAXIMUM", "MINIMUM", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "GATHER",
                        "DEPTH_TO_SPACE", "SPACE_TO_DEPTH")},
}
MCU_CMSIS_NN_OP_DATA = {
    **MCU_REFERENCE_OP_DATA,
    "CONV_2D": 60,
    "DEPTHWISE_CONV_2D": 60,
    "FULLY_CONNECTED": 72,
    "SOFTMAX": 64,  # CMSISNNSoftmaxParams
    "AVERAGE_POOL_2D": 36,  # OpDataPooling and a scratch buffer index
    "MAX_POOL_2D": 36,
    "TRANSPOSE_CONV": 76,
    "BATCH_MATMUL": 36,  # OpDataBatchMatmul, the output shape and a scratch buffer index
}

MCU = Abi(
    name="32-bit",
    pointer_bytes=4,
    # SingleArenaBufferAllocator, GreedyMemoryPlanner, MicroAllocator, MicroBuiltinDataAllocator
    allocator_objects=((36, 4), (44, 4), (36, 4), (8, 4)),
    subgraph_allocations=(8, 4),
    eval_tensor=(12, 4),
    node_and_registration=(32, 4),  # TfLiteNode (28 with TF_LITE_STATIC_MEMORY) + registration pointer
    tflite_tensor=(32, 4),
    affine_quantization=(12, 4),
    scratch_handle=(4, 4),
    scratch_request=12,
    allocation_info=24,
    prepare_copies={"CONV_2D": 2, "DEPTHWISE_CONV_2D": 2},
    options=MCU_OPTIONS,
    op_data={"reference": MCU_REFERENCE_OP_DATA, "cmsis-nn": MCU_CMSIS_NN_OP_DATA},
)

_HOST_OP_STRUCTS = {
    "CONV_2D": ((28, 4), 80),  # TfLiteConvParams, OpDataConv
    "DEPTHWISE_CONV_2D": ((28, 4), 80),  # TfLiteDepthwiseConvParams, OpDataConv
    "FULLY_CONNECTED": ((16, 4), 72),  # TfLiteFullyConnectedParams, OpDataFullyConnected
    "AVERAGE_POOL_2D": ((40, 4), 32),  # TfLitePoolParams, OpDataPooling
    "MAX_POOL_2D": ((40, 4), 32),
    "MEAN": ((1, 1), 44),  # TfLiteReducerParams, OpDataReduce
    "SUM": ((1, 1), 44),
    "REDUCE_MAX": ((1, 1), 44),
    "SOFTMAX": ((4, 4), 80),  # TfLiteSoftmaxParams, SoftmaxParams
    "RESHAPE": ((36, 4), 0),  # TfLiteReshapeParams, no op data
    "ADD": ((8, 4), 60),  # TfLiteAddParams, OpDataAdd
    "SUB": ((8, 4), 52),
    "MUL": ((4, 4), 36),
    "CONCATENATION": ((8, 4), 40),  # TfLiteConcatenationParams, ConcatenationParams
    "PAD": ((1, 1), 0),
    "PADV2": ((1, 1), 0),
    "QUANTIZE": ((0, 1), 32),  # OpDataQuantizeReference
    "DEQUANTIZE": ((0, 1), 32),  # DequantizeOpData
    "LOGISTIC": ((0, 1), 16),  # OpDataLogistic
    "HARD_SWISH": ((0, 1), 20),  # HardSwishParams
    "RELU": ((0, 1), 28),  # ReluOpData
    "RELU6": ((0, 1), 8),  # Relu6OpData
    "LEAKY_RELU": ((4, 4), 24),  # TfLiteLeakyReluParams, LeakyReluOpData
    "STRIDED_SLICE": ((24, 4), 84),  # TfLiteStridedSliceParams, StridedSliceParams
    "RESIZE_NEAREST_NEIGHBOR": ((2, 1), 0),
    "TRANSPOSE_CONV": ((20, 4), 96),
}
_HOST_OP_DATA = {op: op_data for op, (_, op_data) in _HOST_OP_STRUCTS.items()}

HOST = Abi(
    name="64-bit (pip tflite-micro)",
    pointer_bytes=8,
    # RecordingSingleArenaBufferAllocator, GreedyMemoryPlanner, RecordingMicroAllocator, MicroBuiltinDataAllocator
    allocator_objects=((104, 8), (72, 8), (272, 8), (16, 8)),
    subgraph_allocations=(24, 8),
    eval_tensor=(24, 8),
    node_and_registration=(64, 8),  # TfLiteNode (56 with TF_LITE_STATIC_MEMORY) + registration pointer
    tflite_tensor=(64, 8),
    affine_quantization=(24, 8),
    scratch_handle=(8, 8),
    scratch_request=16,
    allocation_info=32,
    options={op: options for op, (options, _) in _HOST_OP_STRUCTS.items()},
    op_data={"reference": _HOST_OP_DATA, "cmsis-nn": _HOST_OP_DATA},
    # The pip build's tail came out 16-64 bytes above the simulation on the zoo models; the source of that
    # small per-op remainder is not pinned down, so each op is allowed one more alignment unit.
    per_op_margin=16,
)
