"""`edgecnn verify`'s text report: one table per runtime, the Keras comparison, activation memory, a verdict."""

def shorten(text, width):
    return text if len(text) <= width else "..." + text[-(width - 3) :]


def format_bytes(count):
    return f"{count} B" if count < 1024 else f"{count / 1024:.1f} KiB"


def format_report(report, show_lifetimes=True):
    """The human-readable report: one table per runtime, the Keras comparison and activation memory."""
    lines = [f"model: {report.model}", f"inputs: {report.inputs}"]
    for name, reason in report.skipped.items():
        lines.append(f"skipped {name}: {reason}")
    for comparison in report.comparisons.values():
        mode = "each op on the runtime's own inputs (--isolate)" if comparison.isolated else "end to end"
        lines.append("")
        lines.append(
            f"{comparison.runtime}: {comparison.description} vs NumPy interpreter "
            f"({comparison.flavor} flavor), {mode}"
        )
        lines.append(
            f"  {'op':>3}  {'operator':<18} {'tensor':<40} {'shape':<14} {'differing':>15} "
            f"{'max|diff|':>9}  verdict"
        )
        for row in comparison.rows:
            shape = "x".join(str(value) for value in row.shape)
            lines.append(
                f"  {row.op_index:>3}  {shorten(row.op_name, 18):<18} {shorten(row.tensor_name, 40):<40} "
                f"{shape:<14} {f'{row.differing}/{row.elements}':>15} {row.max_abs_diff:>9}  {row.verdict}"
            )
        for note in comparison.notes:
            lines.append(f"  note: {note}")
        lines.append(
            f"  {comparison.runtime}: {comparison.verdict}, "
            f"{comparison.mismatched_elements} differing elements "
            f"in {len(comparison.rows)} tensor{'' if len(comparison.rows) == 1 else 's'}"
        )
    if report.keras is not None:
        lines.append("")
        lines.append("quantization error per Keras layer (int8 dequantized vs float Keras):")
        lines.append(f"  {'layer':<24} {'tensor':<40} {'matched by':<12} {'SQNR dB':>8} {'cosine':>8}")
        for row in report.keras:
            sqnr = "-" if row["sqnr_db"] is None else f"{row['sqnr_db']:.1f}"
            cosine = "-" if row["cosine"] is None else f"{row['cosine']:.4f}"
            lines.append(
                f"  {shorten(row['layer'], 24):<24} {shorten(row['tensor'] or '-', 40):<40} "
                f"{row['matched_by']:<12} {sqnr:>8} {cosine:>8}"
            )
        for note in report.keras_notes:
            lines.append(f"  note: {note}")
    memory = report.memory
    lines.append("")
    lines.append(
        f"activation memory (batch 1): peak live {format_bytes(memory['peak_live_bytes'])} "
        f"(lower bound for any arena), greedy arena {format_bytes(memory['greedy_arena_bytes'])}"
    )
    if show_lifetimes:
        lines.append(f"  {'tensor':<40} {'bytes':>9}  ops")
        for entry in memory["lifetimes"]:
            lines.append(
                f"  {shorten(entry['tensor'], 40):<40} {entry['bytes']:>9}  "
                f"{entry['first_op']}..{entry['last_op']}"
            )
    lines.append("")
    lines.append(summary_line(report))
    return "\n".join(lines)


def summary_line(report):
    exact_runtimes = report.exact_runtimes
    if not report.comparisons:
        return "verdict: nothing compared, no runtime available"
    if not exact_runtimes:
        return "verdict: only runtimes with float32 rounding compared; no bit-exactness check"
    failed = [name for name in exact_runtimes if report.comparisons[name].mismatched_elements]
    if failed:
        return "verdict: the NumPy interpreter is NOT bit-exact with " + ", ".join(failed)
    return "verdict: the NumPy interpreter is bit-exact with " + ", ".join(exact_runtimes)
