"""`edgecnn deploy BUNDLE --target pi --host user@host[:port]` (or `--hosts FILE` for a fleet)."""

import os

import click

from edgecnn import deploy
from edgecnn.errors import ConfigurationError, DeployError
from edgecnn.export.bundles import BOARDS


def _expand(path):
    return os.path.expanduser(path) if path else None


@click.command("deploy")
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(exists=True))
@click.option("--target", type=click.Choice(BOARDS.names()), default="pi", show_default=True,
              help="Kind of board (checked against the bundle's manifest).")
@click.option("--host", "hosts", multiple=True, metavar="USER@HOST[:PORT]",
              help="A board; repeat for several.")
@click.option("--hosts", "hosts_file", type=click.Path(dir_okay=False),
              help="File of boards, one `user@host[:port] [remote-dir]` per line, deployed in parallel.")
@click.option("--identity", "-i", help="SSH private key (default: ssh's own choice).")
@click.option("--known-hosts",
              help="known_hosts file to check host keys against (default: ~/.ssh/known_hosts).")
@click.option("--accept-new-host-key", is_flag=True,
              help="Trust and record the host key of a board seen for the first time (a changed key is still "
                   "refused).")
@click.option("--remote-dir", default=deploy.DEFAULT_REMOTE_DIR, show_default=True,
              help="Directory on the board that receives the bundle's files.")
@click.option("--restart/--no-restart", default=False, show_default=True,
              help="Restart the model's service after the files are in place.")
@click.option("--service", help="Service to restart (default: the one named in the bundle's manifest).")
@click.option("--restart-command", metavar="REMOTE_SHELL_COMMAND",
              help="Remote command for --restart; {service} is replaced, quoted "
                   f"(default: {deploy.board.DEFAULT_RESTART}).")
@click.option("--timeout", type=click.FloatRange(min=1), default=30.0, show_default=True,
              help="Seconds to connect, and of silence before a link counts as dead.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=8, show_default=True,
              help="Boards deployed at the same time.")
@click.option("--dry-run", is_flag=True, help="Print every command for every board; connect to nothing.")
def command(bundle_path, target, hosts, hosts_file, identity, known_hosts, accept_new_host_key, remote_dir,
            restart, service, restart_command, timeout, jobs, dry_run):
    """Copy BUNDLE to boards over SSH: stage, check SHA-256 on the board, rename atomically, restart."""
    targets = [deploy.Target(deploy.parse_host(host), remote_dir) for host in hosts]
    if hosts_file:
        targets += deploy.read_hosts_file(hosts_file, remote_dir)
    if not targets:
        raise ConfigurationError("no board given: pass --host USER@HOST[:PORT] or --hosts FILE")
    bundle = deploy.load_bundle(bundle_path)
    if bundle.target and bundle.target != target:
        raise ConfigurationError(
            f"bundle {bundle_path} was exported for {bundle.target}, not --target {target}"
        )
    options = deploy.SshOptions(identity=_expand(identity), known_hosts=_expand(known_hosts),
                                accept_new_host_key=accept_new_host_key, timeout=timeout)
    remote_restart = None
    if restart:
        remote_restart = deploy.restart_command_for(service or bundle.service, restart_command)
    deployments = deploy.plan_deployments(bundle, targets, options, remote_restart)
    if dry_run:
        for deployment in deployments:
            click.echo(f"# {deployment.host}: {len(deployment.files)} files, {bundle.total_bytes} bytes "
                       f"-> {deployment.remote_dir}")
            for step in deployment.steps():
                click.echo(step.render())
        return
    deploy.ssh.check_ssh_available(options)
    results = deploy.deploy_fleet(deployments, jobs=jobs)
    click.echo(deploy.format_results(results))
    failed = [result for result in results if not result.ok]
    if failed:
        if len(results) == 1:
            raise DeployError(failed[0].detail)
        raise DeployError(f"{len(failed)} of {len(results)} hosts failed (see the table above)")
