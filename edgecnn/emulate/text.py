"""`edgecnn emulate`'s text report: the top label per input (or the accuracy), then one row per CPU."""

import numpy as np

from edgecnn.text_table import format_table

PER_INPUT_LINES = 20  # more inputs than this: the first ones, then how many more


def format_results(results, inputs_description, labels=None, scores=None):
    """The report for EmulationResults of the same inputs on one or more CPUs.

    `labels`: the dataset's true class of each input (as the model numbers them), for the accuracy line;
    `scores`: (scale, zero point) of the first output, to print the top class's value.
    """
    first = results[0]
    lines = [f"model: {first.model}", f"inputs: {inputs_description}"]
    classes = first.top_classes()
    names = first.top_labels()
    if labels is not None:
        correct = int(np.sum(np.asarray(classes) == np.asarray(labels)))
        lines.append(f"top-1 accuracy on {first.cpu}: {correct / len(labels):.4f} ({correct} of {len(labels)})")
    else:
        values = first.outputs[0].reshape(first.count, -1)
        for position, (index, name) in enumerate(list(zip(classes, names))[:PER_INPUT_LINES]):
            value = values[position, index]
            if scores is not None and np.issubdtype(values.dtype, np.integer):
                value = (int(value) - scores[1]) * scores[0]
            lines.append(f"input {position}: {name} ({float(value):.3f})")
        if first.count > PER_INPUT_LINES:
            lines.append(f"... {first.count - PER_INPUT_LINES} more inputs (all of them with --json)")
    for other in results[1:]:
        differing = sum(
            int(np.count_nonzero(np.any((mine != theirs).reshape(first.count, -1), axis=1)))
            for mine, theirs in zip(first.outputs, other.outputs)
        )
        verdict = "equal" if differing == 0 else f"differ on {differing} of {first.count} inputs from"
        lines.append(f"{other.cpu} ({other.kernels}): outputs {verdict} {first.cpu}'s")
    lines.append("")
    rows = []
    for result in results:
        ratio = (f" ({result.tensor_arena_size / result.arena_used_bytes:.3f}x)"
                 if result.arena_used_bytes and result.tensor_arena_size else "")
        instructions = ("-" if result.instructions_per_inference is None
                        else f"{result.instructions_per_inference:,}")
        rows.append((result.cpu, result.engine, result.kernels, _number(result.arena_used_bytes),
                     _number(result.tensor_arena_size) + ratio, f"{result.flash_bytes:,}", f"{result.ram_bytes:,}",
                     instructions))
    header = ("cpu", "engine", "kernels", "arena used", "arena size", "flash", "RAM", "instructions/inference")
    lines.append(format_table(header, rows, right=(3, 4, 5, 6, 7), rule=True))
    notes = {result.instructions_note for result in results}
    lines.extend(f"instructions: {note}" for note in sorted(notes))
    arena_notes = {result.arena_bytes for result in results
                   if result.arena_bytes and result.arena_bytes != result.tensor_arena_size}
    if arena_notes:
        lines.append(f"firmware built with an arena of {', '.join(map(str, sorted(arena_notes)))} bytes (--arena-size)")
    if any(result.engine == "tflm" for result in results):
        lines.append("arena size: the exported kTensorArenaSize (x: over what TFLite Micro used)")
    if any(result.engine == "c" for result in results):
        lines.append("engine c: the arena is EDGECNN_ARENA_BYTES, planned at export, all of it used")
    lines.append("flash = text + data, RAM = data + bss of the harness image (newlib's stdio and semihosting, "
                 "a 16 KiB heap for them, the arena)")
    return "\n".join(lines)


def _number(value):
    return "-" if value is None else f"{value:,}"
