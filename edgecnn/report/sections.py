"""The report's optional sections (per-layer error, calibration sweep, deployment) as tables of strings.

Each section is (title, introduction, [(header, rows)], notes, chart); Markdown, HTML and the CLI print the same
tables, so the figures read the same everywhere.
"""

import html
import math
import re

from edgecnn.report import charts

NOT_MEASURED = "not measured"


def _percent(value):
    return "-" if value is None else f"{100 * value:.2f}%"


def _kib(count):
    return "-" if count is None else f"{count / 1024:,.1f} KiB"


def _sqnr(value):
    if value is None:
        return "-"
    return "identical" if math.isinf(value) else f"{value:.1f}"


def _tensor(name, width=48):
    """A TFLite tensor name's first part (the converter joins every fused op's name with ";"), shortened."""
    if not name:
        return "-"
    first = name.split(";")[0]
    return first if len(first) <= width else "..." + first[-(width - 3):]


def layer_error_section(section):
    if "skipped" in section:
        return "Quantization error per layer", f"Not computed: {section['skipped']}", [], [], None
    rows = [
        (row["layer"] + (" (lowest)" if row["layer"] == section["worst"] else ""), _tensor(row["tensor"]),
         row["matched_by"], _sqnr(row["sqnr_db"]), "-" if row["cosine"] is None else f"{row['cosine']:.5f}")
        for row in section["rows"]
    ]
    introduction = (
        f"Each int8 tensor (dequantized) against the float Keras layer it stands for, over all {section['images']} "
        "images: SQNR in dB (higher is closer) and cosine similarity. Error accumulates: a layer's figure includes "
        "every layer before it, so a drop between neighbours is where precision is lost."
    )
    table = (("layer", "int8 tensor", "matched by", "SQNR dB", "cosine"), rows)
    chart = charts.layer_error_png(section["rows"], section["worst"]) if section["rows"] else None
    return "Quantization error per layer", introduction, [table], section["notes"], chart


def calibration_section(sweep):
    rows = [
        (str(row["requested"]) + ("" if row["samples"] == row["requested"] else f" ({row['samples']} available)"),
         _percent(row["top1"]), _percent(row["agreement"]))
        for row in sweep["rows"]
    ]
    rows.append(("given model", _percent(sweep["given_model"]["top1"]), _percent(sweep["given_model"]["agreement"])))
    introduction = (
        f"The float model re-quantized with N images of `{sweep['dataset']}` (its training split, as "
        "`edgecnn quantize --samples N` takes them) and evaluated on the same images; float top-1 is "
        f"{_percent(sweep['float_top1'])}."
    )
    table = (("calibration images", "int8 top-1", "agreement with float"), rows)
    chart = charts.calibration_png(sweep) if sweep["rows"] else None
    return "Calibration size", introduction, [table], sweep["notes"], chart


def _target_row(row):
    if not row["measured"]:
        return (row["target"], row["source"], *(["-"] * 5), f"{NOT_MEASURED}: {row['reason']}")
    if row["latency_ms_p50"] is not None:
        latency = f"{row['latency_ms_p50']:.3f}" + ("" if row["latency_ms_p95"] is None else
                                                    f" / {row['latency_ms_p95']:.3f}")
        detail = f"{row['model']}, {row['backend']} on {row['device']}, threads {row['threads']}"
        return (row["target"], row["source"], "-", "-", "-", "-", latency, detail)
    return (row["target"], row["source"], _kib(row["flash_bytes"]), _kib(row["ram_bytes"]),
            f"{_kib(row['arena_used_bytes'])} / {_kib(row['tensor_arena_size'])}",
            f"{row['instructions_per_inference']:,}", "-", f"kernels: {row['kernels'] or '-'}")


def deployment_section(section):
    targets = (("target", "measured by", "flash", "RAM", "arena used / allocated", "instructions per inference",
                "latency p50 / p95 ms", "detail"), [_target_row(row) for row in section["targets"]])
    tables = [targets]
    if section["boards"]:
        boards = [(board["board"], board["core"], _kib(board["ram_bytes"]), _kib(board["flash_bytes"]),
                   board["fits"], board["detail"] + (f"; {board['notes']}" if board["notes"] else ""))
                  for board in section["boards"]]
        tables.append((("board", "core", "RAM", "flash", "fits", "detail"), boards))
    introduction = (
        "Measured, never estimated: Cortex-M figures by `edgecnn emulate` (TFLite Micro built for the CPU and run "
        "under qemu), Raspberry Pi and Coral figures from `edgecnn bench --json` files. A board fits when the "
        f"firmware's flash and RAM (which holds the tensor arena) measured on its core are within the board's. "
        f"The model file is {_kib(section['model_bytes'])}."
    )
    return "Deployment", introduction, tables, [], None


def sections(report):
    """The optional sections present in `report`, in page order."""
    found = []
    if "layer_error" in report:
        found.append(layer_error_section(report["layer_error"]))
    if "calibration_sweep" in report:
        found.append(calibration_section(report["calibration_sweep"]))
    if "deployment" in report:
        found.append(deployment_section(report["deployment"]))
    return found


def markdown_lines(report):
    lines = []
    for title, introduction, tables, notes, _ in sections(report):
        lines += ["", f"## {title}", "", introduction]
        for header, rows in tables:
            lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        lines += [""] + [f"- {note}" for note in notes] if notes else []
    return lines


def html_text(report, png_data_uri):
    escape = html.escape
    parts = []
    for title, introduction, tables, notes, chart in sections(report):
        # `code` in the introductions is Markdown; in HTML it becomes <code>.
        text = re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(introduction))
        parts.append(f"<h2>{escape(title)}</h2><p>{text}</p>")
        if chart is not None:
            parts.append(f'<img src="{png_data_uri(chart)}" alt="{escape(title)} chart">')
        for header, rows in tables:
            head = "".join(f"<th>{escape(cell)}</th>" for cell in header)
            body = "".join(
                "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
            )
            parts.append(f'<table class="wide"><tr>{head}</tr>{body}</table>')
        parts += [f'<p class="note">{escape(note)}</p>' for note in notes]
    return "".join(parts)
