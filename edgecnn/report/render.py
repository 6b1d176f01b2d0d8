"""report.md and a self-contained report.html (plots and thumbnails embedded as PNG data URIs)."""

import base64
import html
import io

import numpy as np

from edgecnn import extras

MAX_FLIPS_SHOWN = 48
CONFUSION_PURPOSE = "the report's confusion matrices"


def png_data_uri(png_bytes):
    return "data:image/png;base64," + base64.b64encode(png_bytes).decode("ascii")


def thumbnail_png(image, size=56):
    """A small PNG of one uint8 image, enlarged with nearest-neighbour so digits stay crisp."""
    from PIL import Image

    pixels = image[:, :, 0] if image.shape[-1] == 1 else image
    picture = Image.fromarray(pixels)
    scale = max(1, size // max(picture.size))
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def confusion_png(confusion, class_names, title):
    """A confusion matrix heat map, counts written in the cells."""
    matplotlib = extras.require("matplotlib", CONFUSION_PURPOSE)
    matplotlib.use("Agg")
    from matplotlib import pyplot

    counts = np.asarray(confusion)
    size = max(3.5, 0.45 * len(class_names) + 1.5)
    figure, axis = pyplot.subplots(figsize=(size, size))
    axis.imshow(counts, cmap="Blues")
    axis.set_xticks(range(len(class_names)), class_names, rotation=90)
    axis.set_yticks(range(len(class_names)), class_names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title)
    if len(class_names) <= 20:
        threshold = counts.max() / 2 if counts.size else 0
        for (row, column), value in np.ndenumerate(counts):
            axis.text(column, row, str(value), ha="center", va="center", fontsize=7,
                      color="white" if value > threshold else "black")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    pyplot.close(figure)
    return buffer.getvalue()


def _percent(value):
    return "n/a" if value is None else f"{100 * value:.2f}%"


def summary_rows(report):
    """(metric, float, quantized) rows shared by the Markdown, HTML and the CLI's table."""
    float_result, quantized = report["float"], report["quantized"]
    sizes, latency = report["sizes"], report["latency_ms"]
    return [
        ("top-1", _percent(float_result["top1"]), _percent(quantized["top1"])),
        ("top-5", _percent(float_result["top5"]), _percent(quantized["top5"])),
        ("agreement", "", _percent(report["agreement"])),
        ("file size (KiB)", f"{sizes['float_tflite_bytes'] / 1024:.1f} (float .tflite)",
         f"{sizes['quantized_tflite_bytes'] / 1024:.1f}"),
        ("latency per image (ms)", f"{latency['float']:.3f} ({latency['float_runtime']})",
         f"{latency['quantized']:.3f} ({latency['quantized_runtime']})"),
    ]


def split_text(report):
    return f" ({report['split']} split)" if report.get("split") else ""


def markdown(report):
    lines = [
        f"# int8 vs float: {report['model']}",
        "",
        f"Dataset `{report['dataset']}`{split_text(report)}, {report['samples']} images. "
        f"Float: `{report['float_model']}`; "
        f"quantized: `{report['quantized_model']}`.",
        "",
        "| metric | float | quantized |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {left} | {right} |" for name, left, right in summary_rows(report)]
    lines += ["", "## Per-class top-1", "", "| class | float | quantized |", "|---|---|---|"]
    for name, left, right in zip(report["classes"], report["float"]["per_class"], report["quantized"]["per_class"]):
        lines.append(f"| {name} | {_percent(left)} | {_percent(right)} |")
    lines += ["", f"## Flipped predictions ({len(report['flips'])})", ""]
    if report["flips"]:
        lines += ["| sample | label | float | quantized |", "|---|---|---|---|"]
        for flip in report["flips"][:MAX_FLIPS_SHOWN]:
            lines.append(f"| {flip['index']} | {flip['label']} | {flip['float']} ({flip['float_score']:.2f}) | "
                         f"{flip['quantized']} ({flip['quantized_score']:.2f}) |")
    else:
        lines.append("None: both models predict the same class for every image.")
    from edgecnn.report import sections

    lines += sections.markdown_lines(report)
    return "\n".join(lines) + "\n"


def html_page(report, images, confusion_pngs):
    """The report as one HTML file with nothing to fetch."""
    escape = html.escape
    rows = "".join(f"<tr><td>{escape(name)}</td><td>{escape(left)}</td><td>{escape(right)}</td></tr>"
                   for name, left, right in summary_rows(report))
    per_class = "".join(
        f"<tr><td>{escape(name)}</td><td>{_percent(left)}</td><td>{_percent(right)}</td></tr>"
        for name, left, right in zip(report["classes"], report["float"]["per_class"],
                                     report["quantized"]["per_class"])
    )
    flips = "".join(
        f'<figure><img src="{png_data_uri(thumbnail_png(images[flip["index"]]))}" alt="sample {flip["index"]}">'
        f"<figcaption>#{flip['index']} {escape(flip['label'])}<br>float {escape(flip['float'])} "
        f"{flip['float_score']:.2f}<br>int8 {escape(flip['quantized'])} {flip['quantized_score']:.2f}"
        f"</figcaption></figure>"
        for flip in report["flips"][:MAX_FLIPS_SHOWN]
    ) or "<p>None: both models predict the same class for every image.</p>"
    matrices = "".join(f'<img src="{png_data_uri(png)}" alt="{escape(title)}">' for title, png in confusion_pngs)
    from edgecnn.report import sections

    optional = sections.html_text(report, png_data_uri)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>edgecnn report: {escape(report['model'])}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 70em; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: right; }}
td:first-child {{ text-align: left; }}
table.wide td, table.wide th {{ text-align: left; font-size: 0.9em; }}
.note {{ color: #555; font-size: 0.9em; }}
figure {{ display: inline-block; margin: 0.4em; font-size: 0.75em; text-align: center; }}
img {{ image-rendering: pixelated; }}
</style></head><body>
<h1>int8 vs float: {escape(report['model'])}</h1>
<p>Dataset <code>{escape(report['dataset'])}</code>{escape(split_text(report))}, {report['samples']} images.
Float <code>{escape(report['float_model'])}</code>, quantized <code>{escape(report['quantized_model'])}</code>.</p>
<table><tr><th>metric</th><th>float</th><th>quantized</th></tr>{rows}</table>
<h2>Confusion matrices</h2>{matrices}
<h2>Per-class top-1</h2>
<table><tr><th>class</th><th>float</th><th>quantized</th></tr>{per_class}</table>
<h2>Flipped predictions ({len(report['flips'])})</h2>{flips}
{optional}
</body></html>
"""
