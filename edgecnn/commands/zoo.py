"""`edgecnn zoo`: the zoo as a table (or JSON) of shapes, parameters, MACs, sizes and receptive fields."""

import json

import click

from edgecnn import text_table


@click.command("zoo")
@click.argument("pattern", default="*")
@click.option("--num-classes", default=10, show_default=True, help="Classes of the output layer.")
@click.option("--input-shape", metavar="HxWxC", help="Build every listed model at this input shape instead.")
@click.option("--option", "option_texts", multiple=True, metavar="KEY=VALUE",
              help="A builder option (width, alpha, activation...); needs a PATTERN naming one model.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def command(pattern, num_classes, input_shape, option_texts, as_json):
    """List zoo models matching PATTERN (fnmatch, e.g. "resnet*"), each built to count its costs.

    MACs are multiply-accumulates of conv and dense layers per image; int8 size is the weight storage of the
    full-int8 model; the receptive field is in input pixels along the longest path.
    """
    from edgecnn import zoo
    from edgecnn.errors import ConfigurationError

    names = zoo.list_models(pattern)
    if not names:
        raise ConfigurationError(f"no zoo model matches {pattern!r}; models: {', '.join(zoo.list_models())}")
    if option_texts and len(names) != 1:
        raise ConfigurationError(
            f"--option needs PATTERN to name one model; {pattern!r} matches {len(names)}"
        )
    shape = parse_input_shape(input_shape) if input_shape else None
    rows = []
    for name in names:
        options = zoo.parse_model_options(name, option_texts)
        model = zoo.create_model(name, input_shape=shape, num_classes=num_classes, **options)
        summary = zoo.summarize(model)
        info = zoo.model_info(name)
        rows.append({
            "name": name,
            "input_shape": [int(value) for value in model.input_shape[1:]],
            "options": {**info.options, **options},
            "description": info.description,
            **summary.to_dict(),
        })
    if as_json:
        click.echo(json.dumps(rows, indent=1))
    else:
        click.echo(format_table(rows))


def parse_input_shape(text):
    """"32x32x3" -> (32, 32, 3)."""
    from edgecnn.errors import ConfigurationError

    try:
        values = tuple(int(part) for part in text.lower().split("x"))
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) < 1:
        raise ConfigurationError(f"--input-shape must look like 32x32x3, got {text!r}")
    return values


def format_table(rows):
    headers = ("model", "input", "parameters", "MACs", "float32", "int8", "receptive field")
    table = [
        (
            row["name"],
            "x".join(str(value) for value in row["input_shape"]),
            f"{row['parameters']:,}",
            human_count(row["macs"]),
            human_bytes(row["float32_bytes"]),
            human_bytes(row["int8_bytes"]),
            str(row["receptive_field"]),
        )
        for row in rows
    ]
    return text_table.format_table(headers, table, right=range(2, len(headers)))


def human_count(value):
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if value >= limit:
            return f"{value / limit:.1f}{suffix}"
    return str(value)


def human_bytes(value):
    for limit, suffix in ((1024**3, "GiB"), (1024**2, "MiB"), (1024, "KiB")):
        if value >= limit:
            return f"{value / limit:.1f} {suffix}"
    return f"{value} B"
