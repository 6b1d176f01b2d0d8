"""`edgecnn verify MODEL.tflite`: the NumPy int8 interpreter against TFLite's kernels and TFLite Micro."""

import pathlib

import click

from edgecnn.commands import options
from edgecnn.emulate.engines import ENGINES
from edgecnn.errors import ConfigurationError, NothingToCompare, VerificationFailed
from edgecnn.verify.runtimes import RUNTIMES


def _parse_against(value):
    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise ConfigurationError("--against names no runtime")
    for name in names:
        RUNTIMES.canonical(name)  # fails naming the choices
    return names


@click.command(name="verify")
@click.argument("model_path", metavar="MODEL.tflite", type=click.Path(dir_okay=False))
@click.option(
    "--dataset", "dataset_spec", metavar="SPEC", help="Feed images of this dataset (name or folder)."
)
@click.option("--count", default=100, show_default=True, type=options.Count(), metavar="N",
              help="Images drawn from --dataset (all of them when it has fewer).")
@options.dataset_reading("Images of --dataset to draw from (default: the test split; every image of a plain "
                         "folder).")
@click.option("--random", "random_count", type=options.Count(), metavar="N",
              help="Feed N uniform random int8 inputs (default 10).")
@click.option(
    "--seed", default=0, show_default=True, type=int, help="Seed for --random and the --dataset sample."
)
@click.option(
    "--against",
    metavar="LIST",
    help=f"Comma-separated runtimes: {','.join(RUNTIMES.names())}. Default: every one installed, except the "
    "emulated Cortex-M CPUs (edgecnn emulate), which run only when named.",
)
@click.option("--tflm-root", type=click.Path(file_okay=False), metavar="DIR",
              help="Emulated CPUs: the TFLite Micro source tree (default: $EDGECNN_TFLM_ROOT); a CMSIS-NN tree "
                   "verifies the CMSIS-NN kernels.")
@click.option("--engine", default="tflm", show_default=True, type=click.Choice(ENGINES.names()),
              help="Emulated CPUs: what runs the model in the firmware.")
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
    model_path, dataset_spec, count, split, cache, random_count, seed, against, tflm_root, engine, keras_path,
    isolate, json_path,
    lifetimes,
):
    """Check the NumPy int8 interpreter tensor by tensor against TFLite and TFLite Micro.

    Runtimes that are not installed or refuse the model are skipped, each with its reason, unless named with
    --against. Exits 0 when the interpreter is bit-exact with every runtime that ran, 1 on a difference, 3 when
    no runtime could run.
    """
    from edgecnn import atomic, json_text, verify

    against_names = _parse_against(against)
    if dataset_spec is not None and random_count is not None:
        raise ConfigurationError("give either --dataset or --random, not both")
    if json_path is not None:
        atomic.check_parent_directory(json_path)
    if keras_path is not None and not pathlib.Path(keras_path).is_file():
        raise ConfigurationError(f"Keras model not found: {keras_path}")
    interpreter = verify.load_interpreter(str(model_path), "tflite")
    verify.check_int8_inputs(interpreter, model_path)
    if dataset_spec is not None:
        inputs = verify.dataset_inputs(interpreter, dataset_spec, count, seed, split=split, cache=cache)
    else:
        inputs = verify.random_inputs(interpreter, 10 if random_count is None else random_count, seed)
    report = verify.verify_model(
        model_path,
        inputs,
        against=against_names,
        isolate=isolate,
        keras_path=keras_path,
        interpreters={"tflite": interpreter},
        tflm_root=tflm_root,
        engine=engine,
    )
    click.echo(verify.format_report(report, show_lifetimes=lifetimes))
    if json_path is not None:
        atomic.write_text(json_path, json_text.dumps(report.to_dict()) + "\n")
        click.echo(f"wrote {json_path}")
    if not report.comparisons:
        raise NothingToCompare(
            "no runtime could run this model: "
            + "; ".join(f"{name}: {reason}" for name, reason in report.skipped.items())
        )
    if not report.exact:
        failed = [name for name in report.exact_runtimes if report.comparisons[name].mismatched_elements]
        differing = sum(report.comparisons[name].mismatched_elements for name in failed)
        raise VerificationFailed(f"{differing} elements differ from {', '.join(failed)} (see the tables above)")
