"""Python twins of CMSIS-NN's *_get_buffer_size functions, for the scratch buffers the generated code's CMSIS-NN
calls get in the arena: the DSP build (Cortex-M4/M7/M33; plain C needs no more) and the MVE build (Cortex-M55).
The generated code checks CMSIS-NN's own answer against the reservation before each call."""

CH_IN_BLOCK_MVE = 124  # arm_nnsupportfunctions.h


def _align4(value):
    return value + (-value) % 4


def _convolve_s8_bytes(columns, mve):
    """arm_convolve_s8_get_buffer_size: 2 im2col columns of int16 (DSP, plain C), 4 lanes of 16 bytes (MVE)."""
    return 4 * ((columns + 15) // 16) * 16 if mve else 2 * _align4(columns) * 2


def _convolve_1_x_n_mve_bytes(pad_w, stride_w, kernel_w, input_w, output_w, channels, columns):
    """arm_convolve_1_x_n_s8_get_buffer_size_mve."""
    total_pad = (output_w - 1) * stride_w + kernel_w - input_w
    asym_pad = total_pad % 2
    right = max(1, (pad_w + asym_pad + stride_w - 1) // stride_w) if pad_w + asym_pad != 0 else 0
    left = max(1, (pad_w + stride_w - 1) // stride_w) if pad_w != 0 else 0
    middle = max(output_w - (right + left), 0)
    if right + middle + left != output_w:
        return _convolve_s8_bytes(columns, True)
    pad_left = pad_w * channels
    pad_right = right * channels if asym_pad else pad_left
    elements_left = kernel_w * channels
    return max(elements_left + pad_left, elements_left - channels + pad_right)


def convolve_buffer_bytes(geometry, mve):
    """arm_convolve_wrapper_s8_get_buffer_size_dsp / _mve for a conv of `geometry` (a dict, TFLite Micro's
    parameters). The 1x1 fast kernel's DSP buffer (4 * C) is counted although only armclang builds use it."""
    in_h, in_w, in_c = geometry["input"]
    kernel_h, kernel_w, filter_c = geometry["filter"]
    pad_h, pad_w = geometry["padding"]
    stride_h, stride_w = geometry["stride"]
    dilation_h, dilation_w = geometry["dilation"]
    columns = kernel_h * kernel_w * in_c
    one_by_one = (pad_w, pad_h, kernel_w, kernel_h, dilation_w, dilation_h) == (0, 0, 1, 1, 1, 1) and in_c == filter_c
    if one_by_one:
        fast = stride_w == 1 and stride_h == 1
        return 0 if mve or not fast else 2 * in_c * 2
    one_by_n = in_h == 1 and dilation_w == 1 and kernel_h == 1 and (stride_w * in_c) % 4 == 0 and in_c == filter_c
    if one_by_n and mve:
        return _convolve_1_x_n_mve_bytes(pad_w, stride_w, kernel_w, in_w, geometry["output"][1], in_c, columns)
    return _convolve_s8_bytes(columns, mve)


def depthwise_buffer_bytes(geometry, mve):
    """arm_depthwise_conv_wrapper_s8_get_buffer_size_dsp / _mve."""
    in_h, in_w, in_c = geometry["input"]
    kernel_h, kernel_w, out_c = geometry["filter"]
    pad_h, pad_w = geometry["padding"]
    dilated = geometry["dilation"] != (1, 1)
    size = 0
    if in_c == out_c and not dilated:
        if mve:
            size = 4 * CH_IN_BLOCK_MVE * kernel_w * kernel_h
        elif not (kernel_w == 3 and kernel_h == 3 and pad_h <= 1 and pad_w <= 1):
            size = in_c * kernel_w * kernel_h * 2
    if mve and in_c == 1 and out_c > 8:
        # arm_deptwise_conv_s8_one_in_ch_get_buffer_size_mve: as a conv with out_c filters of one channel.
        as_conv = dict(geometry, filter=(kernel_h, kernel_w, 1))
        size = max(size, convolve_buffer_bytes(as_conv, True) + out_c * kernel_h * kernel_w)
    return size
