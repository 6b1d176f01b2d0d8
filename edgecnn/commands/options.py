"""Options shared by several commands, so they are spelled and parsed the same way everywhere."""

import click


def _floats(context, parameter, value):
    if value is None:
        return None
    try:
        return tuple(float(part) for part in value.split(","))
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got {value!r}") from None


def preprocessing_overrides(function):
    """--scale, --mean and --std: override the preprocessing of a model edgecnn did not train."""
    function = click.option("--std", callback=_floats, metavar="S[,S,S]",
                            help="Divide by this after subtracting the mean (per channel).")(function)
    function = click.option("--mean", callback=_floats, metavar="M[,M,M]",
                            help="Subtract this from scaled pixels (per channel).")(function)
    function = click.option("--scale", type=float, help="Multiply uint8 pixels by this (default 1/255).")(function)
    return function
