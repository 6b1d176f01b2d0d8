"""`edgecnn flash DIR --target esp32|arduino|platformio`."""

import click

from edgecnn.deploy import flash


@click.command("flash")
@click.argument("path", metavar="DIR", type=click.Path(exists=True))
@click.option("--target", required=True, type=click.Choice(flash.TARGETS.names()),
              help="Which tool flashes the board.")
@click.option("--port", "-p",
              help="Serial port, e.g. /dev/ttyUSB0 (esptool and PlatformIO can find it alone).")
@click.option("--env", "-e", help="PlatformIO environment (default: default_envs or the only [env:...]).")
@click.option("--fqbn", help="arduino-cli board name, e.g. esp32:esp32:esp32s3 (default: sketch.yaml).")
@click.option("--chip", default=flash.DEFAULT_CHIP, show_default=True, help="esptool chip.")
@click.option("--firmware", type=click.Path(dir_okay=False),
              help="esptool image (default: DIR/firmware.bin).")
@click.option("--offset", default=flash.DEFAULT_OFFSET, show_default=True,
              help="esptool flash address (0x0 for a merged image).")
@click.option("--baud", type=int, help="esptool baud rate.")
@click.option("--dry-run", is_flag=True, help="Print the commands instead of running them.")
def command(path, target, port, env, fqbn, chip, firmware, offset, baud, dry_run):
    """Flash the firmware project DIR to a microcontroller with PlatformIO, arduino-cli or esptool."""
    plan = flash.plan_flash(path, target, port=port, env=env, fqbn=fqbn, chip=chip, firmware=firmware,
                            offset=offset, baud=baud)
    if dry_run:
        for line in plan.render():
            click.echo(line)
        if not plan.tool_found:
            click.echo(f"# note: {flash.missing_tool_error(plan.tool)}", err=True)
        return
    flash.flash_board(plan)
    click.echo(f"flashed {path} with {plan.tool}")
