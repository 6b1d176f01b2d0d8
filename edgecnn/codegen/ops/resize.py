"""RESIZE_BILINEAR: TFLite's ResizeBilinearInteger with the per-axis taps and weights computed at export.

kernels_layout.bilinear_taps gives, for every output row and column, the two input taps and the upper tap's
weight in 1/1024ths; the C sums v * wy * wx exactly in int32 and rounds the 20 fractional bits half away from
zero, as the kernel does (no requantization, no clamp).
"""

import numpy as np

from edgecnn.codegen.ops.common import nhwc
from edgecnn.reference import kernels_layout


def emit_resize_bilinear(layer, emission):
    in_h, in_w, channels = nhwc(layer.inputs[0])
    out_h, out_w, _ = nhwc(layer.outputs[0])
    align = layer.options.get("align_corners", False)
    half = layer.options.get("half_pixel_centers", False)
    one = 1 << kernels_layout.BILINEAR_FRACTION_BITS
    top, bottom, weight_y = kernels_layout.bilinear_taps(in_h, out_h, align, half)
    left, right, weight_x = kernels_layout.bilinear_taps(in_w, out_w, align, half)
    rows = emission.constant(np.stack([top * in_w * channels, bottom * in_w * channels, weight_y], 1), np.int32, "rows")
    columns = emission.constant(np.stack([left * channels, right * channels, weight_x], 1), np.int32, "columns")
    emission.describe(
        f"RESIZE_BILINEAR {in_h}x{in_w}x{channels} -> {out_h}x{out_w}x{channels}"
        + (", align_corners" if align else "")
        + (", half_pixel_centers" if half else "")
    )
    source, output = emission.input(0), emission.output(0)
    half_unit = 1 << (2 * kernels_layout.BILINEAR_FRACTION_BITS - 1)
    return [
        f"int8_t *out = {output};",
        f"for (int oy = 0; oy < {out_h}; ++oy) {{",
        f"  const int8_t *upper = {source} + {rows}[oy * 3];",
        f"  const int8_t *lower = {source} + {rows}[oy * 3 + 1];",
        f"  const int32_t wy = {rows}[oy * 3 + 2];",
        f"  for (int ox = 0; ox < {out_w}; ++ox) {{",
        f"    const int32_t x0 = {columns}[ox * 3];",
        f"    const int32_t x1 = {columns}[ox * 3 + 1];",
        f"    const int32_t wx = {columns}[ox * 3 + 2];",
        f"    for (int c = 0; c < {channels}; ++c) {{",
        f"      const int32_t left_value = upper[x0 + c] * ({one} - wy) + lower[x0 + c] * wy;",
        f"      const int32_t right_value = upper[x1 + c] * ({one} - wy) + lower[x1 + c] * wy;",
        f"      const int32_t total = left_value * ({one} - wx) + right_value * wx;",
        f"      const int32_t rounded = total > 0 ? total + {half_unit} : total - {half_unit};",
        f"      *out++ = (int8_t)(rounded / {1 << (2 * kernels_layout.BILINEAR_FRACTION_BITS)});",
        "    }",
        "  }",
        "}",
    ]
