"""One board's deploy: stage, upload, verify SHA-256 on the board, rename into place, restart.

Every file is first written to a staging directory beside its final place (same filesystem), checked with
sha256sum on the board, and only then renamed over the old file: rename is atomic, so a board serving the
model never sees a half-written one, and an interrupted upload leaves the previous files untouched. A
staging directory left by a cut connection is removed by the next deploy to that directory.
"""

import dataclasses
import posixpath
import secrets
import shlex
import time

from edgecnn.deploy import bundle as bundle_module
from edgecnn.deploy import ssh
from edgecnn.errors import ConfigurationError, DeployError

STAGING_PREFIX = ".edgecnn-staging-"
DEFAULT_REMOTE_DIR = "~/edgecnn"
DEFAULT_RESTART = "sudo -n systemctl restart {service}"


def remote_shell_path(remote_dir):
    """A remote directory as the remote shell should see it: `~/x` becomes `x` (ssh starts in the home
    directory), because a quoted `~` would not be expanded."""
    text = str(remote_dir).strip()
    if text in ("~", "~/"):
        return "."
    if text.startswith("~/"):
        text = text[2:]
    elif text.startswith("~"):
        raise ConfigurationError(
            f"remote directory {remote_dir!r}: only ~ and ~/path are supported, not ~user"
        )
    text = text.rstrip("/") or "/"
    if not text or text == "/":
        raise ConfigurationError(f"remote directory {remote_dir!r} would deploy into the filesystem root")
    return text


def restart_command_for(service, restart_command=None):
    """The remote shell command that restarts the model's service; `{service}` is replaced, quoted."""
    template = restart_command or DEFAULT_RESTART
    if "{service}" in template:
        if not service:
            raise ConfigurationError(
                "--restart needs a service name: the bundle's manifest names none; pass --service NAME"
            )
        return template.replace("{service}", shlex.quote(service))
    return template


@dataclasses.dataclass
class HostResult:
    """What happened on one board, for the per-host table."""

    host: str
    ok: bool
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    detail: str = ""


@dataclasses.dataclass(frozen=True)
class Step:
    """One ssh run: what it does (for messages), its arguments, and the local file fed to its stdin."""

    action: str
    arguments: list
    stdin_path: object = None
    on_failure_only: bool = False

    def render(self):
        text = ssh.format_command(self.arguments, self.stdin_path)
        return f"{text}    # only if a step above failed" if self.on_failure_only else text


class BoardDeployment:
    """The commands that deploy `bundle` to one host, built up front so --dry-run shows exactly these."""

    def __init__(self, bundle, host, ssh_options, remote_dir=DEFAULT_REMOTE_DIR, restart_command=None,
                 token=None):
        self.bundle = bundle
        self.host = host
        self.ssh_options = ssh_options
        self.remote_dir = remote_dir
        self.directory = remote_shell_path(remote_dir)
        token = token or secrets.token_hex(6)
        self.staging = posixpath.join(self.directory, STAGING_PREFIX + token)
        self.connection = ssh.SharedConnection(host, ssh_options, token)
        self.files = bundle_module.ordered_files(bundle)
        self.restart_command = restart_command

    def _ssh(self, remote_command):
        return ssh.ssh_command(self.host, remote_command, self.ssh_options, self.connection.control_path)

    def _staged(self, name):
        return shlex.quote(posixpath.join(self.staging, name))

    def _final(self, name):
        return shlex.quote(posixpath.join(self.directory, name))

    def prepare_step(self):
        directory = shlex.quote(self.directory)
        subdirectories = sorted({posixpath.dirname(f.name) for f in self.files} - {""})
        make = " ".join(self._staged(name) for name in subdirectories)
        command = (f"mkdir -p -- {directory} && rm -rf -- {directory}/{STAGING_PREFIX}* && "
                   f"mkdir -- {shlex.quote(self.staging)}")
        if make:
            command += f" && mkdir -p -- {make}"
        return Step("preparing the remote directory", self._ssh(command))

    def upload_steps(self):
        return [Step(f"uploading {f.name}", self._ssh(f"cat > {self._staged(f.name)}"), stdin_path=f.path)
                for f in self.files]

    def verify_step(self):
        names = " ".join(shlex.quote(f.name) for f in self.files)
        command = f"cd -- {shlex.quote(self.staging)} && sha256sum -- {names}"
        return Step("checking SHA-256 on the board", self._ssh(command))

    def commit_step(self):
        parts = []
        executables = [self._staged(f.name) for f in self.files if f.executable]
        if executables:
            parts.append(f"chmod 755 -- {' '.join(executables)}")
        subdirectories = sorted({posixpath.dirname(f.name) for f in self.files} - {""})
        if subdirectories:
            parts.append(f"mkdir -p -- {' '.join(self._final(name) for name in subdirectories)}")
        # Data reaches the disk before the renames publish it, so a power cut cannot leave empty files.
        parts.append("sync")
        parts += [f"mv -f -- {self._staged(f.name)} {self._final(f.name)}" for f in self.files]
        parts.append(f"rm -rf -- {shlex.quote(self.staging)}")
        return Step("renaming the files into place", self._ssh(" && ".join(parts)))

    def restart_step(self):
        if self.restart_command is None:
            return None
        return Step("restarting the service", self._ssh(self.restart_command))

    def cleanup_step(self):
        return Step("removing the staging directory", self._ssh(f"rm -rf -- {shlex.quote(self.staging)}"),
                    on_failure_only=True)

    def connection_step(self):
        return Step("connecting", self.connection.command())

    def steps(self):
        """Every command in the order it runs; the cleanup runs only after a failure. The first one is the
        shared connection, kept open in the background while the others run over it."""
        steps = [self.connection_step(), self.prepare_step(), *self.upload_steps(), self.verify_step(),
                 self.commit_step()]
        restart = self.restart_step()
        if restart is not None:
            steps.append(restart)
        steps.append(self.cleanup_step())
        return steps

    def _run(self, step):
        return ssh.run_remote(self.host, step.arguments[-1], self.ssh_options, step.action,
                              self.connection.control_path)

    def prepare(self):
        self._run(self.prepare_step())

    def upload(self, progress=None):
        """Upload every file to the staging directory; `progress(name, bytes_sent, total)` per chunk."""
        for bundle_file, step in zip(self.files, self.upload_steps()):
            callback = None
            if progress is not None:
                def callback(sent, total, name=bundle_file.name):
                    progress(name, sent, total)
            sent_sha256 = ssh.stream_file(self.host, step.arguments[-1], bundle_file.path, self.ssh_options,
                                          step.action, progress=callback,
                                          control_path=self.connection.control_path)
            if sent_sha256 != bundle_file.sha256:
                raise DeployError(f"{self.host}: local file {bundle_file.path} changed during the deploy")

    def verify(self):
        """Compare the board's sha256sum of every staged file with the bundle's."""
        output = self._run(self.verify_step())
        on_board = {}
        for line in output.splitlines():
            digest, _, name = line.strip().partition(" ")
            on_board[name.lstrip(" *")] = digest.lower()
        for bundle_file in self.files:
            found = on_board.get(bundle_file.name)
            if found != bundle_file.sha256:
                raise DeployError(
                    f"{self.host}: SHA-256 of {bundle_file.name} on the board is {found or 'missing'}, "
                    f"expected {bundle_file.sha256}: the upload was corrupted; nothing was replaced"
                )

    def commit(self):
        self._run(self.commit_step())

    def restart(self):
        step = self.restart_step()
        if step is not None:
            self._run(step)

    def cleanup(self):
        self._run(self.cleanup_step())

    def run(self, progress=None):
        """Deploy and report; a failure before the renames leaves the board's files as they were."""
        started = time.monotonic()
        result = HostResult(host=str(self.host), ok=False)
        committed = False
        try:
            with self.connection:
                self.prepare()
                try:
                    self.upload(progress)
                    self.verify()
                    self.commit()
                    committed = True
                except DeployError:
                    self._try_cleanup()
                    raise
                self.restart()
        except DeployError as error:
            message = str(error)
            if committed:
                message = f"files replaced, but {message}"
            result.detail = message
            result.seconds = time.monotonic() - started
            return result
        result.ok = True
        result.files, result.bytes = len(self.files), self.bundle.total_bytes
        result.seconds = time.monotonic() - started
        restarted = "; service restarted" if self.restart_command is not None else ""
        result.detail = f"sha256 verified, in {self.remote_dir}{restarted}"
        return result

    def _try_cleanup(self):
        # Best effort: when the link is down, the next deploy removes the staging directory instead.
        try:
            self.cleanup()
        except DeployError:
            pass
