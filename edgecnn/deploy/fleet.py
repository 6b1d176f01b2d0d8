"""Deploy one bundle to many boards at once (a thread pool), one result row per board.

A fleet is not flashed one board at a time, and one unreachable board does not stop the others.
"""

import concurrent.futures
import dataclasses
import pathlib

from edgecnn import text_table
from edgecnn.deploy import board, ssh
from edgecnn.errors import ConfigurationError, DeployError

DEFAULT_JOBS = 8


@dataclasses.dataclass(frozen=True)
class Target:
    """One board and the directory the bundle goes to on it."""

    host: ssh.Host
    remote_dir: str = board.DEFAULT_REMOTE_DIR


def read_hosts_file(path, default_remote_dir=board.DEFAULT_REMOTE_DIR):
    """Targets from a text file, `user@host[:port] [remote-dir]` per line; blank lines, # comments skipped."""
    path = pathlib.Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ConfigurationError(f"cannot read hosts file {path}: {error.strerror}") from error
    targets = []
    for number, line in enumerate(lines, start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) > 2:
            raise ConfigurationError(
                f"{path}:{number}: expected `user@host[:port] [remote-dir]`, got {line!r}"
            )
        try:
            host = ssh.parse_host(fields[0])
        except ConfigurationError as error:
            raise ConfigurationError(f"{path}:{number}: {error}") from None
        targets.append(Target(host, fields[1] if len(fields) > 1 else default_remote_dir))
    if not targets:
        raise ConfigurationError(f"hosts file {path} lists no hosts")
    return targets


def plan_deployments(bundle, targets, ssh_options, restart_command=None):
    """One BoardDeployment per target; option errors (bad remote dir) surface before anything runs."""
    deployments = []
    seen = set()
    for target in targets:
        deployment = board.BoardDeployment(bundle, target.host, ssh_options, target.remote_dir,
                                           restart_command)
        # Two deploys into one directory at once would remove each other's staging files.
        key = (target.host.destination, target.host.port, deployment.directory)
        if key in seen:
            raise ConfigurationError(f"{target.host} {target.remote_dir} is listed twice")
        seen.add(key)
        deployments.append(deployment)
    return deployments


def _run_one(deployment, progress):
    try:
        return deployment.run(progress)
    except DeployError as error:
        return board.HostResult(host=str(deployment.host), ok=False, detail=str(error))


def deploy_fleet(deployments, jobs=DEFAULT_JOBS, progress=None):
    """Run the deployments in parallel; results in the order given. `progress(host, name, sent, total)`."""
    if not deployments:
        return []
    workers = max(1, min(jobs, len(deployments)))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deploy") as pool:
        futures = []
        for deployment in deployments:
            callback = None
            if progress is not None:
                def callback(name, sent, total, host=deployment.host):
                    progress(host, name, sent, total)
            futures.append(pool.submit(_run_one, deployment, callback))
        return [future.result() for future in futures]


def _human_bytes(count):
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return str(count)


def format_results(results):
    """The per-host table, one row per board, with a summary line."""
    header = ("HOST", "STATUS", "FILES", "BYTES", "TIME", "DETAIL")
    rows = [(result.host, "ok" if result.ok else "FAILED", str(result.files) if result.files else "-",
             _human_bytes(result.bytes) if result.bytes else "-", f"{result.seconds:.1f} s", result.detail)
            for result in results]
    lines = [text_table.format_table(header, rows, last_free=True)]
    failed = sum(not result.ok for result in results)
    summary = f"{len(results) - failed} of {len(results)} hosts deployed"
    lines.append(summary + (f", {failed} failed" if failed else ""))
    return "\n".join(lines)
