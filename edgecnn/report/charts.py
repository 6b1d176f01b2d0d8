"""The report's charts as PNG bytes (matplotlib, imported only here and only when a chart is drawn)."""

import io
import math


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def _png(figure, pyplot):
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    pyplot.close(figure)
    return buffer.getvalue()


def layer_error_png(rows, worst=None):
    """Horizontal bars of SQNR per Keras layer (the worst in red); layers without a tensor are left out."""
    pyplot = _pyplot()
    shown = [row for row in rows if row["sqnr_db"] is not None]
    finite = [row["sqnr_db"] for row in shown if math.isfinite(row["sqnr_db"])]
    ceiling = max(finite + [1.0]) * 1.15
    figure, axis = pyplot.subplots(figsize=(6.5, 0.32 * len(shown) + 1.2))
    names = [row["layer"] for row in shown][::-1]
    values = [min(row["sqnr_db"], ceiling) for row in shown][::-1]
    colours = ["#c0392b" if name == worst else "#4a7ab5" for name in names]
    axis.barh(names, values, color=colours)
    for position, row in enumerate(shown[::-1]):
        text = "identical" if math.isinf(row["sqnr_db"]) else f"{row['sqnr_db']:.1f} dB, cos {row['cosine']:.5f}"
        axis.text(values[position], position, " " + text, va="center", fontsize=7)
    axis.set_xlim(0, ceiling * 1.35)
    axis.set_xlabel("SQNR of the int8 tensor against the float layer (dB, higher is closer)")
    axis.set_title("Quantization error per layer")
    return _png(figure, pyplot)


def calibration_png(sweep):
    """int8 top-1 and agreement with float against the number of calibration images (log scale)."""
    pyplot = _pyplot()
    rows = sweep["rows"]
    counts = [row["samples"] for row in rows]
    figure, axis = pyplot.subplots(figsize=(6.5, 3.4))
    axis.plot(counts, [100 * row["top1"] for row in rows], "o-", color="#4a7ab5", label="int8 top-1")
    axis.plot(counts, [100 * row["agreement"] for row in rows], "s-", color="#e67e22", label="agreement with float")
    axis.axhline(100 * sweep["float_top1"], color="#555", linestyle="--", linewidth=1, label="float top-1")
    axis.set_xscale("log", base=2)
    axis.set_xticks(counts, [str(count) for count in counts])
    axis.set_xlabel("calibration images")
    axis.set_ylabel("%")
    axis.set_title(f"Calibration size ({sweep['dataset']})")
    axis.legend(fontsize=8, loc="best")
    return _png(figure, pyplot)
