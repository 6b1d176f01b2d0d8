"""The parts of the TFLite flatbuffer schema (tensorflow/lite/schema/schema.fbs) that edgecnn reads.

Field indices follow the order of fields in schema.fbs; enums are listed by value.
"""

# BuiltinOperator, indexed by value.
BUILTIN_OPERATORS = """
    ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE
    EMBEDDING_LOOKUP FLOOR FULLY_CONNECTED HASHTABLE_LOOKUP L2_NORMALIZATION L2_POOL_2D
    LOCAL_RESPONSE_NORMALIZATION LOGISTIC LSH_PROJECTION LSTM MAX_POOL_2D MUL RELU RELU_N1_TO_1 RELU6
    RESHAPE RESIZE_BILINEAR RNN SOFTMAX SPACE_TO_DEPTH SVDF TANH CONCAT_EMBEDDINGS SKIP_GRAM CALL CUSTOM
    EMBEDDING_LOOKUP_SPARSE PAD UNIDIRECTIONAL_SEQUENCE_RNN GATHER BATCH_TO_SPACE_ND SPACE_TO_BATCH_ND
    TRANSPOSE MEAN SUB DIV SQUEEZE UNIDIRECTIONAL_SEQUENCE_LSTM STRIDED_SLICE BIDIRECTIONAL_SEQUENCE_RNN
    EXP TOPK_V2 SPLIT LOG_SOFTMAX DELEGATE BIDIRECTIONAL_SEQUENCE_LSTM CAST PRELU MAXIMUM ARG_MAX
    MINIMUM LESS NEG PADV2 GREATER GREATER_EQUAL LESS_EQUAL SELECT SLICE SIN TRANSPOSE_CONV
    SPARSE_TO_DENSE TILE EXPAND_DIMS EQUAL NOT_EQUAL LOG SUM SQRT RSQRT SHAPE POW ARG_MIN FAKE_QUANT
    REDUCE_PROD REDUCE_MAX PACK LOGICAL_OR ONE_HOT LOGICAL_AND LOGICAL_NOT UNPACK REDUCE_MIN FLOOR_DIV
    REDUCE_ANY SQUARE ZEROS_LIKE FILL FLOOR_MOD RANGE RESIZE_NEAREST_NEIGHBOR LEAKY_RELU
    SQUARED_DIFFERENCE MIRROR_PAD ABS SPLIT_V UNIQUE CEIL REVERSE_V2 ADD_N GATHER_ND COS WHERE RANK ELU
    REVERSE_SEQUENCE MATRIX_DIAG QUANTIZE MATRIX_SET_DIAG ROUND HARD_SWISH IF WHILE
    NON_MAX_SUPPRESSION_V4 NON_MAX_SUPPRESSION_V5 SCATTER_ND SELECT_V2 DENSIFY SEGMENT_SUM BATCH_MATMUL
    PLACEHOLDER_FOR_GREATER_OP_CODES CUMSUM CALL_ONCE BROADCAST_TO RFFT2D CONV_3D IMAG REAL COMPLEX_ABS
    HASHTABLE HASHTABLE_FIND HASHTABLE_IMPORT HASHTABLE_SIZE REDUCE_ALL CONV_3D_TRANSPOSE VAR_HANDLE
    READ_VARIABLE ASSIGN_VARIABLE BROADCAST_ARGS RANDOM_STANDARD_NORMAL BUCKETIZE RANDOM_UNIFORM
    MULTINOMIAL GELU DYNAMIC_UPDATE_SLICE RELU_0_TO_1 UNSORTED_SEGMENT_PROD UNSORTED_SEGMENT_MAX
    UNSORTED_SEGMENT_SUM ATAN2 UNSORTED_SEGMENT_MIN SIGN BITCAST BITWISE_XOR RIGHT_SHIFT
    STABLEHLO_LOGISTIC STABLEHLO_ADD STABLEHLO_DIVIDE STABLEHLO_MULTIPLY STABLEHLO_MAXIMUM
    STABLEHLO_RESHAPE STABLEHLO_CLAMP STABLEHLO_CONCATENATE STABLEHLO_BROADCAST_IN_DIM
    STABLEHLO_CONVOLUTION STABLEHLO_SLICE STABLEHLO_CUSTOM_CALL STABLEHLO_REDUCE STABLEHLO_ABS
    STABLEHLO_AND STABLEHLO_COSINE STABLEHLO_EXPONENTIAL STABLEHLO_FLOOR STABLEHLO_LOG STABLEHLO_MINIMUM
    STABLEHLO_NEGATE STABLEHLO_OR STABLEHLO_POWER STABLEHLO_REMAINDER STABLEHLO_RSQRT STABLEHLO_SELECT
    STABLEHLO_SUBTRACT STABLEHLO_TANH STABLEHLO_SCATTER STABLEHLO_COMPARE STABLEHLO_CONVERT
    STABLEHLO_DYNAMIC_SLICE STABLEHLO_DYNAMIC_UPDATE_SLICE STABLEHLO_PAD STABLEHLO_IOTA
    STABLEHLO_DOT_GENERAL STABLEHLO_REDUCE_WINDOW STABLEHLO_SORT STABLEHLO_WHILE STABLEHLO_GATHER
    STABLEHLO_TRANSPOSE DILATE STABLEHLO_RNG_BIT_GENERATOR REDUCE_WINDOW STABLEHLO_COMPOSITE
    STABLEHLO_SHIFT_LEFT STABLEHLO_CBRT STABLEHLO_CASE
""".split()

# BuiltinOptions union members, indexed by their type id.
BUILTIN_OPTIONS = """
    NONE Conv2DOptions DepthwiseConv2DOptions ConcatEmbeddingsOptions LSHProjectionOptions Pool2DOptions
    SVDFOptions RNNOptions FullyConnectedOptions SoftmaxOptions ConcatenationOptions AddOptions
    L2NormOptions LocalResponseNormalizationOptions LSTMOptions ResizeBilinearOptions CallOptions
    ReshapeOptions SkipGramOptions SpaceToDepthOptions EmbeddingLookupSparseOptions MulOptions
    PadOptions GatherOptions BatchToSpaceNDOptions SpaceToBatchNDOptions TransposeOptions ReducerOptions
    SubOptions DivOptions SqueezeOptions SequenceRNNOptions StridedSliceOptions ExpOptions TopKV2Options
    SplitOptions LogSoftmaxOptions CastOptions DequantizeOptions MaximumMinimumOptions ArgMaxOptions
    LessOptions NegOptions PadV2Options GreaterOptions GreaterEqualOptions LessEqualOptions
    SelectOptions SliceOptions TransposeConvOptions SparseToDenseOptions TileOptions ExpandDimsOptions
    EqualOptions NotEqualOptions ShapeOptions PowOptions ArgMinOptions FakeQuantOptions PackOptions
    LogicalOrOptions OneHotOptions LogicalAndOptions LogicalNotOptions UnpackOptions FloorDivOptions
    SquareOptions ZerosLikeOptions FillOptions BidirectionalSequenceLSTMOptions
    BidirectionalSequenceRNNOptions UnidirectionalSequenceLSTMOptions FloorModOptions RangeOptions
    ResizeNearestNeighborOptions LeakyReluOptions SquaredDifferenceOptions MirrorPadOptions AbsOptions
    SplitVOptions UniqueOptions ReverseV2Options AddNOptions GatherNdOptions CosOptions WhereOptions
    RankOptions ReverseSequenceOptions MatrixDiagOptions QuantizeOptions MatrixSetDiagOptions
    HardSwishOptions IfOptions WhileOptions DepthToSpaceOptions NonMaxSuppressionV4Options
    NonMaxSuppressionV5Options ScatterNdOptions SelectV2Options DensifyOptions SegmentSumOptions
    BatchMatMulOptions CumsumOptions CallOnceOptions BroadcastToOptions Rfft2dOptions Conv3DOptions
    HashtableOptions HashtableFindOptions HashtableImportOptions HashtableSizeOptions VarHandleOptions
    ReadVariableOptions AssignVariableOptions RandomOptions BucketizeOptions GeluOptions
    DynamicUpdateSliceOptions UnsortedSegmentProdOptions UnsortedSegmentMaxOptions
    UnsortedSegmentMinOptions UnsortedSegmentSumOptions ATan2Options SignOptions BitcastOptions
    BitwiseXorOptions RightShiftOptions
""".split()

# TensorType value -> (TFLite name, NumPy dtype string or None when NumPy has no equivalent).
TENSOR_TYPES = {
    0: ("FLOAT32", "<f4"),
    1: ("FLOAT16", "<f2"),
    2: ("INT32", "<i4"),
    3: ("UINT8", "u1"),
    4: ("INT64", "<i8"),
    5: ("STRING", None),
    6: ("BOOL", "?"),
    7: ("INT16", "<i2"),
    8: ("COMPLEX64", "<c8"),
    9: ("INT8", "i1"),
    10: ("FLOAT64", "<f8"),
    11: ("COMPLEX128", "<c16"),
    12: ("UINT64", "<u8"),
    13: ("RESOURCE", None),
    14: ("VARIANT", None),
    15: ("UINT32", "<u4"),
    16: ("UINT16", "<u2"),
    17: ("INT4", None),
    18: ("BFLOAT16", None),
    19: ("INT2", None),
    20: ("UINT4", None),
    21: ("FLOAT8_E4M3FN", None),
    22: ("FLOAT8_E5M2", None),
}

PADDING = {0: "SAME", 1: "VALID"}
ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}
MIRROR_PAD_MODES = {0: "REFLECT", 1: "SYMMETRIC"}

# Field kinds: a scalar kind of flatbuffer.SCALAR_FORMATS, "padding"/"activation"/"tensor_type"/"mirror_mode"
# (int8 or uint8 enums decoded to names), or "[int32]" for a vector.
PADDING_FIELD = ("padding", "padding", 0)
STRIDE_FIELDS = (("stride_w", "int32", 0), ("stride_h", "int32", 0))
ACTIVATION_FIELD = ("fused_activation_function", "activation", 0)

# Options table name -> its fields in schema order (name, kind, default).
OPTIONS_FIELDS = {
    "Conv2DOptions": (
        PADDING_FIELD,
        *STRIDE_FIELDS,
        ACTIVATION_FIELD,
        ("dilation_w_factor", "int32", 1),
        ("dilation_h_factor", "int32", 1),
        ("quantized_bias_type", "tensor_type", 0),
    ),
    "DepthwiseConv2DOptions": (
        PADDING_FIELD,
        *STRIDE_FIELDS,
        ("depth_multiplier", "int32", 0),
        ACTIVATION_FIELD,
        ("dilation_w_factor", "int32", 1),
        ("dilation_h_factor", "int32", 1),
    ),
    "Pool2DOptions": (
        PADDING_FIELD,
        *STRIDE_FIELDS,
        ("filter_width", "int32", 0),
        ("filter_height", "int32", 0),
        ACTIVATION_FIELD,
    ),
    "FullyConnectedOptions": (
        ACTIVATION_FIELD,
        ("weights_format", "int8", 0),
        ("keep_num_dims", "bool", False),
        ("asymmetric_quantize_inputs", "bool", False),
        ("quantized_bias_type", "tensor_type", 0),
    ),
    "TransposeConvOptions": (
        PADDING_FIELD,
        *STRIDE_FIELDS,
        ACTIVATION_FIELD,
        ("quantized_bias_type", "tensor_type", 0),
    ),
    "SoftmaxOptions": (("beta", "float32", 0.0),),
    "ConcatenationOptions": (("axis", "int32", 0), ACTIVATION_FIELD),
    "AddOptions": (ACTIVATION_FIELD, ("pot_scale_int16", "bool", True)),
    "SubOptions": (ACTIVATION_FIELD, ("pot_scale_int16", "bool", True)),
    "MulOptions": (ACTIVATION_FIELD,),
    "DivOptions": (ACTIVATION_FIELD,),
    "ReshapeOptions": (("new_shape", "[int32]", ()),),
    "ReducerOptions": (("keep_dims", "bool", False),),
    "LeakyReluOptions": (("alpha", "float32", 0.0),),
    "SqueezeOptions": (("squeeze_dims", "[int32]", ()),),
    "StridedSliceOptions": (
        ("begin_mask", "int32", 0),
        ("end_mask", "int32", 0),
        ("ellipsis_mask", "int32", 0),
        ("new_axis_mask", "int32", 0),
        ("shrink_axis_mask", "int32", 0),
        ("offset", "bool", False),
    ),
    "PackOptions": (("values_count", "int32", 0), ("axis", "int32", 0)),
    "UnpackOptions": (("num", "int32", 0), ("axis", "int32", 0)),
    "GatherOptions": (("axis", "int32", 0), ("batch_dims", "int32", 0)),
    "SplitOptions": (("num_splits", "int32", 0),),
    "SplitVOptions": (("num_splits", "int32", 0),),
    "ResizeBilinearOptions": (
        ("new_height", "int32", 0),
        ("new_width", "int32", 0),
        ("align_corners", "bool", False),
        ("half_pixel_centers", "bool", False),
    ),
    "ResizeNearestNeighborOptions": (("align_corners", "bool", False), ("half_pixel_centers", "bool", False)),
    "SpaceToDepthOptions": (("block_size", "int32", 0),),
    "DepthToSpaceOptions": (("block_size", "int32", 0),),
    "MirrorPadOptions": (("mode", "mirror_mode", 0),),
    "ArgMaxOptions": (("output_type", "tensor_type", 0),),
    "ArgMinOptions": (("output_type", "tensor_type", 0),),
    "ShapeOptions": (("out_type", "tensor_type", 0),),
    "CastOptions": (("in_data_type", "tensor_type", 0), ("out_data_type", "tensor_type", 0)),
    "BatchMatMulOptions": (
        ("adj_x", "bool", False),
        ("adj_y", "bool", False),
        ("asymmetric_quantize_inputs", "bool", False),
    ),
    "GeluOptions": (("approximate", "bool", False),),
    "L2NormOptions": (ACTIVATION_FIELD,),
}
