"""explain.json and a self-contained explain.html: styles, script and data inline, nothing fetched.

The page carries the int8 activations, weights and biases as base64 bytes (and the float activations as
float16 when the Keras model was given); its script draws the channel thumbnails on canvases and redoes the
integer arithmetic of any clicked element, so every pixel's working is in the page at a size close to the
model's own.
"""

import base64
import html
import importlib.resources
import io
import math

import numpy as np

from edgecnn import json_text
from edgecnn.explain.graph import WHOLE_INPUT
from edgecnn.reference import arithmetic

PAGE_SCRIPT = "page.js"
PAGE_STYLE = "page.css"


def _base64(array, dtype):
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()).decode(
        "ascii"
    )


def _layer_dict(explanation, layer):
    tensor = explanation.tensors[layer.output]
    values = layer.to_dict()
    values["output_tensor"] = tensor.to_dict()
    values["statistics"] = explanation.statistics[layer.output]
    if layer.activation != "NONE" and tensor.dtype == "int8":
        values["clamp"] = list(arithmetic.activation_range(layer.activation, tensor.scale, tensor.zero_point))
    match = explanation.keras.get(layer.output)
    values["keras"] = None if match is None else {
        "layer": match.layer, "matched_by": match.matched_by, "sqnr_db": match.sqnr_db, "cosine": match.cosine,
    }
    values["worst"] = layer.output == explanation.worst_tensor
    return values


def summary(explanation):
    """What explain.json holds: every figure of the page except the raw tensors."""
    memory = explanation.plan
    inputs = [explanation.tensors[index].to_dict() for index in explanation.interpreter.subgraph.inputs]
    for entry in inputs:
        entry["statistics"] = explanation.statistics[entry["index"]]
    return json_text.safe({
        "model": explanation.model_path,
        "model_name": explanation.model_name,
        "interpreter_flavor": explanation.flavor,
        "image": {
            "path": explanation.image.path,
            "original_size": list(explanation.image.original_size),
            "resized": explanation.image.resized,
            "model_size": [explanation.preprocessing.height, explanation.preprocessing.width],
            "channels": explanation.preprocessing.channels,
        },
        "preprocessing": explanation.preprocessing.to_dict(),
        "preprocessing_from_model": explanation.metadata_from_model,
        "labels": explanation.labels,
        "inputs": inputs,
        "layers": [_layer_dict(explanation, layer) for layer in explanation.layers],
        "memory": {
            "peak_live_bytes": memory.peak_live_bytes,
            "greedy_arena_bytes": memory.greedy_arena_bytes,
            "tensors": [
                {"index": tensor.index, "name": tensor.name, "bytes": tensor.size, "offset": tensor.offset,
                 "first_op": tensor.first_op, "last_op": tensor.last_op}
                for tensor in memory.tensors
            ],
        },
        "top": explanation.top,
        "keras_model": explanation.keras_path,
        "keras_notes": explanation.keras_notes,
        "worst_tensor": explanation.worst_tensor,
        "example": explanation.example,
    })


def page_data(explanation):
    """summary() plus the arrays the page's script needs: activations, weights, biases, float activations."""
    data = summary(explanation)
    interpreter, run = explanation.interpreter, explanation.run
    data["tensors"] = {}
    for index, tensor in explanation.tensors.items():
        values = run.tensors[index][0]
        data["tensors"][str(index)] = {
            "shape": list(tensor.shape), "dtype": tensor.dtype, "scale": tensor.scale,
            "zero_point": tensor.zero_point, "name": tensor.name, "data": _base64(values, values.dtype),
        }
    for layer, entry in zip(explanation.layers, data["layers"]):
        if layer.weights is not None:
            info = interpreter.tensor_details[layer.weights["tensor_index"]]
            weights = interpreter.subgraph.tensors[info.index].data
            entry["weight_data"] = _base64(weights, np.int8)
            entry["weight_scales"] = [float(scale) for scale in np.asarray(info.scales).reshape(-1)]
            entry["weight_zero_points"] = [int(value) for value in np.asarray(info.zero_points).reshape(-1)]
            if layer.bias is not None:
                entry["bias_values"] = [int(value) for value in interpreter.subgraph.tensors[layer.bias].data]
        match = explanation.keras.get(layer.output)
        if match is not None:
            entry["keras"]["data"] = _base64(match.values, np.float16)
    return data


def image_png(pixels, size=160):
    """The model-size input image as a PNG, enlarged with nearest-neighbour so pixels stay visible."""
    from PIL import Image

    picture = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    scale = max(1, size // max(picture.size))
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _number(value, digits=4):
    if value is None:
        return "-"
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.{digits}g}"
    return f"{value:,}"


def _values(values):
    text = ", ".join(f"{value:g}" for value in values)
    return text if len(values) == 1 else f"({text})"


def _shape(shape):
    return "x".join(str(value) for value in shape)


def _receptive_field(field):
    if field is None:
        return "-"
    if field == WHOLE_INPUT:
        return WHOLE_INPUT
    height, width = field
    return f"{height}" if height == width else f"{height}x{width}"


def _facts(explanation, layer):
    """(label, value) rows of one layer's facts table."""
    tensor = explanation.tensors[layer.output]
    statistics = explanation.statistics[layer.output]
    rows = [
        ("input", ", ".join(_shape(shape[1:]) for shape in layer.input_shapes) or "-"),
        ("output", _shape(layer.output_shape[1:])),
    ]
    if layer.kernel is not None:
        rows.append(("kernel / stride", f"{layer.kernel[0]}x{layer.kernel[1]} / {layer.stride[0]}x{layer.stride[1]}"))
    if layer.padding is not None:
        pads = "" if layer.pads is None else " (top {}, bottom {}, left {}, right {})".format(*layer.pads)
        rows.append(("padding", f"{layer.padding}{pads}"))
    if layer.dilation is not None and layer.dilation != (1, 1):
        rows.append(("dilation", f"{layer.dilation[0]}x{layer.dilation[1]}"))
    if layer.activation != "NONE":
        rows.append(("fused activation", layer.activation))
    rows += [
        ("parameters", _number(layer.parameters) if layer.parameters else "-"),
        ("MACs", _number(layer.macs) if layer.macs else "-"),
        ("receptive field", _receptive_field(layer.receptive_field)),
    ]
    for index in layer.inputs[:2]:
        source = explanation.tensors[index]
        rows.append(("input scale, zero point", f"{source.scale:.6g}, {source.zero_point}"))
    if layer.weights is not None:
        weights = layer.weights
        scale = (f"{weights['scale_min']:.4g}..{weights['scale_max']:.4g} over {weights['channels']} channels"
                 if weights["channels"] > 1 else f"{weights['scale_min']:.6g}")
        rows.append(("weight scale", scale))
    rows.append(("output scale, zero point", f"{tensor.scale:.6g}, {tensor.zero_point}"))
    if tensor.arena_offset is not None:
        rows.append(("arena", f"offset {tensor.arena_offset:,}, {tensor.arena_bytes:,} B, live ops "
                              f"{tensor.first_op}..{tensor.last_op}"))
    saturated = statistics["saturated_fraction"]
    rows.append(("int8 range used", f"{statistics['min']}..{statistics['max']}"
                 + ("" if saturated is None else f", {100 * saturated:.2f}% clipped")))
    match = explanation.keras.get(layer.output)
    if match is not None:
        rows.append(("vs float (Keras)", f"SQNR {_number(match.sqnr_db, 3)} dB, cosine {_number(match.cosine, 5)}"))
    return rows


def _layer_section(explanation, layer):
    escape = html.escape
    facts = "".join(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>"
                    for label, value in _facts(explanation, layer))
    worst = layer.output == explanation.worst_tensor
    badge = '<span class="badge worst">lowest SQNR</span>' if worst else ""
    keras = explanation.keras.get(layer.output)
    matched = ""
    if keras is not None:
        matched = f' <span class="matched">paired with the Keras layer by {escape(keras.matched_by)}</span>'
    return (
        f'<section class="layer{" worst" if worst else ""}" id="op-{layer.op_index}" data-op="{layer.op_index}">'
        f'<h3><span class="op">op {layer.op_index} &middot; {escape(layer.op)}</span> {escape(layer.name)}'
        f"{matched} {badge}</h3>"
        f'<div class="layer-body"><table class="facts">{facts}</table>'
        f'<div class="maps" data-layer="{layer.op_index}"></div></div></section>'
    )


def _input_section(explanation):
    escape = html.escape
    index = explanation.interpreter.subgraph.inputs[0]
    tensor = explanation.tensors[index]
    statistics = explanation.statistics[index]
    image, preprocessing = explanation.image, explanation.preprocessing
    size = f"{image.original_size[1]}x{image.original_size[0]}"
    resized = (f"resized from {size} (bilinear) to {explanation.preprocessing.width}x"
               f"{explanation.preprocessing.height}") if image.resized else f"{size}, the model's size"
    source = ("the model's metadata" if explanation.metadata_from_model
              else "defaults (the model has no edgecnn metadata)")
    rows = [
        ("file", image.path), ("pixels", resized),
        ("preprocessing", f"(pixel x {preprocessing.scale:.6g} - {_values(preprocessing.mean)}) / "
                          f"{_values(preprocessing.std)}, from {source}"),
        ("tensor", f"{_shape(tensor.shape[1:])} {tensor.dtype}, scale {tensor.scale:.6g}, zero point "
                   f"{tensor.zero_point}"),
        ("values", f"{statistics['min']}..{statistics['max']}"),
    ]
    if tensor.arena_offset is not None:
        rows.append(("arena", f"offset {tensor.arena_offset:,}, {tensor.arena_bytes:,} B"))
    facts = "".join(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>" for label, value in rows)
    return (
        f'<section class="layer" id="input" data-op="input"><h3><span class="op">input</span> '
        f"{escape(tensor.name)}</h3><div class=\"layer-body\"><div><img class=\"picture\" "
        f'src="{image_png(image.pixels)}" alt="the input image at the model\'s size"><table class="facts">{facts}'
        f'</table></div><div class="maps" data-layer="input"></div></div></section>'
    )


def _top_table(explanation):
    escape = html.escape
    with_float = explanation.keras_path is not None
    head = "<tr><th>class</th><th>int8</th>" + ("<th>float</th>" if with_float else "") + "</tr>"
    rows = "".join(
        f"<tr><td>{escape(entry['label'])}</td><td>{entry['int8']:.4f}"
        + ("" if entry["int8_raw"] is None else f" <small>(q {entry['int8_raw']})</small>") + "</td>"
        + (f"<td>{entry['float']:.4f}</td>" if with_float else "") + "</tr>"
        for entry in explanation.top
    )
    return f'<table class="top">{head}{rows}</table>'


def sqnr_chart_svg(rows, worst=None, width=420, bar_height=16):
    """A horizontal bar chart of SQNR per layer as inline SVG: [(layer, sqnr_db or None)]."""
    finite = [value for _, value in rows if value is not None and math.isfinite(value)]
    top = max(finite + [1.0])
    label_width, chart_width = 130, width - 130 - 60
    height = bar_height * len(rows) + 24
    parts = [f'<svg class="chart" width="{width}" height="{height}" '
             f'role="img" aria-label="SQNR per layer">']
    for position, (name, value) in enumerate(rows):
        y = 4 + position * bar_height
        shown = top if value is not None and math.isinf(value) else (value or 0.0)
        length = max(0.0, shown) / top * chart_width
        colour = "#c0392b" if name == worst else "#4a7ab5"
        text = "-" if value is None else ("inf" if math.isinf(value) else f"{value:.1f} dB")
        parts.append(f'<text x="{label_width - 6}" y="{y + bar_height - 4}" text-anchor="end">'
                     f"{html.escape(name)}</text>")
        parts.append(f'<rect x="{label_width}" y="{y + 2}" width="{length:.1f}" height="{bar_height - 4}" '
                     f'fill="{colour}"/>')
        parts.append(f'<text x="{label_width + length + 4:.1f}" y="{y + bar_height - 4}">{text}</text>')
    parts.append(f'<text x="{label_width}" y="{height - 4}" class="axis">SQNR, dB (higher: closer to float)'
                 "</text></svg>")
    return "".join(parts)


def _asset(name):
    return (importlib.resources.files("edgecnn.explain") / name).read_text(encoding="utf-8")


def _summary_panel(explanation):
    escape = html.escape
    memory = explanation.plan
    size = sum(tensor.nbytes for tensor in explanation.interpreter.tensor_details if tensor.is_constant)
    prediction = explanation.top[0]
    parts = [
        f"<p class=\"prediction\">Prediction: <b>{escape(prediction['label'])}</b> "
        f"({prediction['int8']:.3f} int8)</p>",
        _top_table(explanation),
        f"<p>Activation arena (TFLite Micro's greedy plan): <b>{memory.greedy_arena_bytes:,} B</b>; peak of live "
        f"tensors {memory.peak_live_bytes:,} B; constant tensors (weights, biases) {size:,} B.</p>",
        '<canvas id="arena-map" width="420" height="150"></canvas>',
        '<p class="legend">The arena: each tensor a box from the op that writes it to the last op that reads it '
        "(across) at its offset (down); orange: the selected layer's output.</p>",
    ]
    if explanation.keras:
        rows = [(match.layer, match.sqnr_db) for match in explanation.keras.values()]
        worst = explanation.keras.get(explanation.worst_tensor)
        parts.append("<h3>Where int8 loses precision</h3>")
        parts.append(sqnr_chart_svg(rows, worst.layer if worst else None))
        if worst is not None:
            parts.append(f"<p>Lowest SQNR: <b>{escape(worst.layer)}</b>, {_number(worst.sqnr_db, 3)} dB "
                         f"(cosine {_number(worst.cosine, 5)}). Errors add up layer by layer: each layer's "
                         "figure includes those before it.</p>")
        for note in explanation.keras_notes:
            parts.append(f'<p class="note">{escape(note)}</p>')
    return "".join(parts)


def html_page(explanation):
    """The page as one HTML document that needs nothing but itself."""
    escape = html.escape
    data = json_text.dumps(page_data(explanation), indent=None, separators=(",", ":")).replace("</", "<\\/")
    layers = "".join(_layer_section(explanation, layer) for layer in explanation.layers)
    flavor = {"micro": "TFLite Micro", "tflite": "TFLite's reference kernels"}[explanation.flavor]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgecnn explain: {escape(explanation.model_name)}</title>
<style>{_asset(PAGE_STYLE)}</style></head><body>
<header><h1>{escape(explanation.model_name)} in int8</h1>
<p><code>{escape(explanation.model_path)}</code> on <code>{escape(explanation.image.path)}</code>. Every value is
what edgecnn's NumPy int8 interpreter computes, bit-exact with {flavor}. Click any pixel of any activation to see
how it was computed.</p></header>
<main>
<div id="column">
<section id="summary">{_summary_panel(explanation)}</section>
{_input_section(explanation)}
{layers}
</div>
<aside id="inspector"><h2>Worked example</h2><div id="working"><noscript>The worked example needs JavaScript;
explain.json holds the same numbers.</noscript></div></aside>
</main>
<script type="application/json" id="explain-data">{data}</script>
<script>{_asset(PAGE_SCRIPT)}</script>
</body></html>
"""
