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


class Count(click.ParamType):
    """A positive whole number of things (images, samples, runs), refused in one line naming the value."""

    name = "count"

    def __init__(self, what="images"):
        self.what = what

    def convert(self, value, parameter, context):
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        text = str(value).strip()
        if text.isdigit() and int(text) >= 1:
            return int(text)
        self.fail(f"takes a positive whole number of {self.what}, got {str(value)!r}", parameter, context)


SPLIT_CHOICES = ("train", "test", "all")


def _cache_setting(context, parameter, value):
    """--cache DIR and --no-cache become one `cache` argument: None (default directory), False or DIR."""
    current = context.params.get("cache")
    if parameter.name == "no_cache" and value:
        if current not in (None, False):
            raise click.BadParameter("give --cache DIR or --no-cache, not both")
        context.params["cache"] = False
    elif parameter.name == "cache_directory" and value is not None:
        if current is False:
            raise click.BadParameter("give --cache DIR or --no-cache, not both")
        context.params["cache"] = value
    else:
        context.params.setdefault("cache", None)


def dataset_reading(split_help):
    """--split, --cache DIR and --no-cache: how a command reads a dataset, spelled the same everywhere.

    The command receives `split` (None: its default, described by `split_help`) and `cache`.
    """

    def decorate(function):
        function = click.option("--no-cache", "no_cache", is_flag=True, expose_value=False,
                                callback=_cache_setting,
                                help="Do not keep decoded images of a folder (by default they are cached in "
                                     "~/.cache/edgecnn/images).")(function)
        function = click.option("--cache", "cache_directory", metavar="DIR", expose_value=False,
                                type=click.Path(file_okay=False), callback=_cache_setting,
                                help="Keep decoded, resized images of a folder here, so the next read does not "
                                     "decode again.")(function)
        function = click.option("--split", type=click.Choice(SPLIT_CHOICES), default=None,
                                help=split_help)(function)
        return function

    return decorate


def torch_model_options(function):
    """--input-shape and --weights: what a PyTorch MODEL needs besides its file (quantize and report)."""
    function = click.option("--weights", type=click.Path(dir_okay=False), metavar="STATE_DICT.pt",
                            help="PyTorch module.py:function: weights saved with torch.save(model.state_dict()).")(
        function)
    function = click.option("--input-shape", "input_shape", metavar="CxHxW",
                            help="PyTorch models: the input as PyTorch takes it, channels first: CxHxW or 1xCxHxW "
                                 "(e.g. 1x28x28). A .pt2 knows its own.")(function)
    return function
