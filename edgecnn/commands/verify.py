"""`edgecnn verify MODEL.tflite`: the NumPy int8 interpreter against TFLite's kernels and TFLite Micro."""

import json
import math

import click

from edgecnn.errors import ConfigurationError

RUNTIME_CHOICES = ("reference", "optimized", "micro")


def _parse_against(value):
    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    for name in names:
        if name not in RUNTIME_CHOICES:
            raise ConfigurationError(
                f"unknown runtime {name!r} in --against; use {', '.join(RUNTIME_CHOICES)}"
            )
    if not names:
        raise ConfigurationError("--against names no runtime")
    return names


def _parse_count(value, option):
    """A positive image count, as a one-line error rather than click's usage block."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1 or str(value).strip() != str(number):
        raise ConfigurationError(f"{option} takes a positive whole number of images, got {value!r}")
    return number


def _json_safe(value):
    """Infinite SQNR (identical tensors) has no JSON spelling: write null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


@click.command(name="verify")
@click.argument("model_path", metavar="MODEL.tflite", type=click.Path(dir_okay=False))
@click.option(
    "--dataset", "dataset_spec", metavar="SPEC", help="Feed images of this dataset (name or folder)."
)
@click.option("--count", default="100", show_default=True, metavar="N", help="Images taken from --dataset.")
@click.option("--random", "random_count", metavar="N", help="Feed N uniform random int8 inputs (default 10).")
@click.option(
    "--seed", default=0, show_default=True, type=int, help="Seed for --random and the --dataset sample."
)
@click.option(
    "--against",
    metavar="LIST",
    help="Comma-separated runtimes: reference,optimized,micro. Default: every one installed.",
)
@click.option(
    "--keras",
    "keras_path",
    type=click.Path(dir_okay=False),
    metavar="MODEL.keras",
    help="Also compare each int8 tensor with the float Keras layer it came from.",
)
@click.option(
    "--isolate", is_flag=True, help="Run each op on the runtime's own inputs to pin a difference to one op."
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Also write the comparison as JSON.",
)
@click.option(
    "--lifetimes/--no-lifetimes",
    default=True,
    show_default=True,
    help="List every activation tensor's lifetime.",
)
def command(
    model_path, dataset_spec, count, random_count, seed, against, keras_path, isolate, json_path, lifetimes
):
    """Check the NumPy int8 interpreter tensor by tensor against TFLite and TFLite Micro.

    Exits 0 when the interpreter is bit-exact with TFLite's reference kernels (and TFLite Micro), 1 when not.
    """
    from edgecnn import atomic
    from edgecnn.reference import compare, compare_inputs, compare_text

    against_names = _parse_against(against)
    count = _parse_count(count, "--count")
    random_count = None if random_count is None else _parse_count(random_count, "--random")
    if dataset_spec is not None and random_count is not None:
        raise ConfigurationError("give either --dataset or --random, not both")
    if json_path is not None:
        atomic.check_parent_directory(json_path)
    if keras_path is not None:
        import pathlib

        if not pathlib.Path(keras_path).is_file():
            raise ConfigurationError(f"Keras model not found: {keras_path}")
    interpreter = compare.load_interpreter(str(model_path), "tflite")
    compare_inputs.check_int8_inputs(interpreter, model_path)
    if dataset_spec is not None:
        inputs = compare_inputs.dataset_inputs(interpreter, str(model_path), dataset_spec, count, seed)
    else:
        inputs = compare_inputs.random_inputs(interpreter, 10 if random_count is None else random_count, seed)
    report = compare.verify_model(
        model_path,
        inputs,
        {"tflite": interpreter},
        against=against_names,
        isolate=isolate,
        keras_path=keras_path,
    )
    click.echo(compare_text.format_report(report, show_lifetimes=lifetimes))
    if json_path is not None:
        atomic.write_text(
            json_path, json.dumps(_json_safe(report.to_dict()), indent=1, allow_nan=False) + "\n"
        )
        click.echo(f"wrote {json_path}")
    if not report.exact:
        click.get_current_context().exit(1)
