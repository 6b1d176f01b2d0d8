"""Aligned plain-text tables for the CLI: the one formatter behind zoo, bench, report, deploy and emulate."""


def format_table(header, rows, right=(), rule=False, last_free=False):
    """Rows of strings under `header`, columns two spaces apart.

    `right`: indices of right-aligned columns (numbers); `rule`: a line of dashes under the header;
    `last_free`: the last column is not padded (a free-text detail that would widen every row).
    """
    table = [tuple(header)] + [tuple(row) for row in rows]
    padded = len(header) - 1 if last_free else len(header)
    widths = [max(len(line[column]) for line in table) for column in range(padded)]

    def render(line):
        cells = [
            cell.rjust(width) if column in right else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(line, widths))
        ]
        return "  ".join(cells + list(line[padded:])).rstrip()

    lines = [render(line) for line in table]
    if rule:
        lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
