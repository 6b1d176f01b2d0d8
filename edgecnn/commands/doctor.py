"""`edgecnn doctor`: what this machine has for edge work, each line ok or missing with the fix."""

import json

import click


@click.command(name="doctor")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per check.")
def command(as_json):
    """Check Python, numpy, runtimes, libedgetpu, Edge TPUs, cameras, OpenCV and TensorFlow.

    Exits 1 when no inference runtime is usable, else 0 (missing optional pieces are only reported).
    """
    from edgecnn.runtime import doctor

    checks = doctor.run_checks()
    if as_json:
        for check in checks:
            click.echo(
                json.dumps({"name": check.name, "ok": check.ok, "detail": check.detail, "fix": check.fix})
            )
    else:
        for check in checks:
            click.echo(check.line())
        click.echo(doctor.auto_backend_line())
    runtimes_ok = any(check.ok for check in checks if check.name.startswith("runtime "))
    if not runtimes_ok:
        raise SystemExit(1)
