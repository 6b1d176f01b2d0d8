"""`edgecnn edgetpu check MODEL` and `edgecnn edgetpu compile MODEL [--out DIR]`."""

import json
import sys

import click


@click.group("edgetpu")
def command():
    """Check a model against the Edge TPU's requirements, or compile it with edgetpu_compiler."""


@command.command("check")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def check(model, as_json):
    """Statically check MODEL: 8-bit tensors, static shapes, supported ops, tensor ranks.

    Lists every op as mapped or not and where the single CPU/TPU split falls. Exit code 0 when every op maps
    to the Edge TPU, 1 when some ops would run on the CPU, 2 when the model cannot be read.
    """
    from edgecnn.export import edgetpu_check

    result = edgetpu_check.check_model(model)
    click.echo(json.dumps(result.to_dict(), indent=1) if as_json else result.text())
    sys.exit(0 if result.maps_fully else 1)


@command.command("compile")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False), help="Output directory (default: beside MODEL)."
)
@click.option(
    "--min-runtime-version", type=click.IntRange(min=10), help="Oldest Edge TPU runtime to support."
)
@click.option("--json", "as_json", is_flag=True, help="Print the compiler's per-op table as JSON.")
def compile_command(model, out_dir, min_runtime_version, as_json):
    """Compile MODEL with edgetpu_compiler (x86-64 Linux) and show its per-op table.

    Exit code 0 when every op is mapped to the Edge TPU, 1 when some run on the CPU.
    """
    from edgecnn.export import edgetpu_compile

    result = edgetpu_compile.compile_model(model, out_dir, min_runtime_version=min_runtime_version)
    log = result.log
    if as_json:
        click.echo(json.dumps({"model": str(result.model_path), **log.to_dict()}, indent=1))
    else:
        click.echo(f"wrote {result.model_path} (Edge TPU Compiler {log.version or 'unknown version'})")
        click.echo(f"{'Operator':<28} {'Count':>5}  Status")
        for row in log.rows:
            click.echo(f"{row.operator:<28} {row.count:>5}  {row.status}")
        click.echo(f"{log.mapped_count} ops on the Edge TPU, {log.cpu_count} on the CPU")
    sys.exit(0 if log.cpu_count == 0 else 1)
