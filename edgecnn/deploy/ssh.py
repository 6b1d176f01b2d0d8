"""The system OpenSSH client, driven through argument lists (never a local shell string).

Key authentication only (BatchMode), host keys checked against known_hosts, and ssh's own error text turned
into one-line messages that say which board and what to do.
"""

import dataclasses
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time

from edgecnn.errors import ConfigurationError, DeployError, ExternalToolError

DEFAULT_PORT = 22
CHUNK_BYTES = 1 << 20
SSH_FAILURE = 255

_HOST = re.compile(r"^(?:(?P<user>[^@\s/]+)@)?(?:\[(?P<bracketed>[^\]\s]+)\]|(?P<plain>[^:@\s/\[\]]+))"
                   r"(?::(?P<port>\d+))?$")


@dataclasses.dataclass(frozen=True)
class Host:
    """A board address: user@host:port. `user` None means ssh's default (config or local user)."""

    host: str
    user: str = None
    port: int = DEFAULT_PORT

    @property
    def destination(self):
        return f"{self.user}@{self.host}" if self.user else self.host

    def __str__(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{self.user}@" if self.user else ""
        port = "" if self.port == DEFAULT_PORT else f":{self.port}"
        return f"{user}{host}{port}"


def parse_host(text):
    """Parse `user@host[:port]` (IPv6 as `user@[::1]:port`)."""
    match = _HOST.match(text.strip())
    if not match or text.strip().startswith("-"):
        raise ConfigurationError(
            f"bad host {text!r}: expected user@host[:port], e.g. pi@raspberrypi.local:22"
        )
    port = int(match["port"]) if match["port"] else DEFAULT_PORT
    if not 0 < port < 65536:
        raise ConfigurationError(f"bad port in host {text!r}: {port}")
    return Host(host=match["bracketed"] or match["plain"], user=match["user"], port=port)


@dataclasses.dataclass(frozen=True)
class SshOptions:
    """How to reach boards: key, known_hosts file, trust-on-first-use or not, timeout in seconds."""

    identity: str = None
    known_hosts: str = None
    accept_new_host_key: bool = False
    timeout: float = 30.0
    ssh_program: str = "ssh"


def _base_arguments(host, options, control_path=None):
    timeout = max(1, int(round(options.timeout)))
    arguments = [
        options.ssh_program,
        "-o", "BatchMode=yes",
        "-o", f"StrictHostKeyChecking={'accept-new' if options.accept_new_host_key else 'yes'}",
    ]
    if options.known_hosts:
        # The given file is the whole trust list: the system-wide one would otherwise also vouch for hosts.
        arguments += ["-o", f"UserKnownHostsFile={options.known_hosts}",
                      "-o", "GlobalKnownHostsFile=/dev/null"]
    if options.identity:
        arguments += ["-i", str(options.identity), "-o", "IdentitiesOnly=yes"]
    # A dead link is noticed after about `timeout` seconds, even in the middle of an upload.
    interval = max(1, timeout // 3)
    arguments += [
        "-o", f"ConnectTimeout={timeout}",
        "-o", f"ServerAliveInterval={interval}",
        "-o", "ServerAliveCountMax=3",
    ]
    if control_path:
        # Reuse the shared connection; when it is gone, ssh falls back to a connection of its own.
        arguments += ["-o", f"ControlPath={control_path}", "-o", "ControlMaster=no"]
    return arguments + ["-p", str(host.port)]


def ssh_command(host, remote_command, options, control_path=None):
    """The ssh argument list that runs `remote_command` (a remote shell string, paths already quoted)."""
    return _base_arguments(host, options, control_path) + ["--", host.destination, remote_command]


def master_command(host, options, control_path):
    """The ssh argument list of a shared connection (no command) that later ssh runs multiplex over."""
    arguments = _base_arguments(host, options)
    return arguments[:-2] + ["-M", "-N", "-o", f"ControlPath={control_path}", "-o", "ControlPersist=no",
                             *arguments[-2:], "--", host.destination]


def format_command(arguments, stdin_path=None):
    """A copy-pasteable rendering of an argument list, for --dry-run and error messages."""
    text = shlex.join(str(argument) for argument in arguments)
    return f"{text} < {shlex.quote(str(stdin_path))}" if stdin_path is not None else text


def check_ssh_available(options):
    if shutil.which(options.ssh_program) is None:
        raise ExternalToolError(
            f"{options.ssh_program} not found on PATH: install the OpenSSH client "
            "(apt-get install openssh-client)"
        )


def _last_line(text):
    lines = [line.strip() for line in text.replace("\r", "\n").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def explain_failure(host, options, returncode, stderr, action):
    """A one-line DeployError for a failed ssh run, from ssh's exit code and stderr."""
    known_hosts = options.known_hosts or "~/.ssh/known_hosts"
    if returncode == SSH_FAILURE:
        changed = "REMOTE HOST IDENTIFICATION HAS CHANGED" in stderr
        if changed or ("Host key for" in stderr and "has changed" in stderr):
            return DeployError(
                f"{host}: host key does not match the one in {known_hosts}: refusing to connect "
                "(possible man-in-the-middle, or the board was reinstalled; check its fingerprint, then fix "
                f"the entry with ssh-keygen -R '[{host.host}]:{host.port}' -f {known_hosts})"
            )
        if "Host key verification failed" in stderr or "host key is known for" in stderr:
            return DeployError(
                f"{host}: no host key known for it in {known_hosts}: check the board's fingerprint and add "
                "it (ssh-keyscan), or pass --accept-new-host-key to trust it on this first connection"
            )
        if "Permission denied" in stderr:
            detail = _last_line(stderr)
            return DeployError(f"{host}: key authentication refused ({detail}); pass --identity KEY")
        detail = _last_line(stderr) or "connection failed"
        return DeployError(f"{host}: ssh failed while {action}: {detail}")
    detail = _last_line(stderr) or "no error output"
    return DeployError(f"{host}: {action} failed on the board (exit code {returncode}): {detail}")


def run_remote(host, remote_command, options, action, control_path=None):
    """Run a short remote command and return its stdout; raise DeployError when it fails."""
    arguments = ssh_command(host, remote_command, options, control_path)
    try:
        completed = subprocess.run(arguments, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                   timeout=options.timeout * 2 + 5)
    except subprocess.TimeoutExpired as error:
        raise DeployError(f"{host}: timed out after {error.timeout:.0f} s while {action}") from None
    if completed.returncode != 0:
        raise explain_failure(host, options, completed.returncode, completed.stderr, action)
    return completed.stdout


def stream_file(host, remote_command, local_path, options, action, progress=None, control_path=None):
    """Send a local file to `remote_command`'s stdin (e.g. `cat > tmp`); return the SHA-256 of what was sent.

    `progress(bytes_sent, total_bytes)` is called after each chunk is handed to ssh.
    """
    arguments = ssh_command(host, remote_command, options, control_path)
    digest = hashlib.sha256()
    # stderr goes to a file: a pipe nobody reads while stdin is being written could fill up and deadlock.
    with tempfile.TemporaryFile() as stderr_file, open(local_path, "rb") as source:
        total = source.seek(0, 2)
        source.seek(0)
        process = subprocess.Popen(arguments, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                   stderr=stderr_file)
        sent = 0
        broken = False
        try:
            while chunk := source.read(CHUNK_BYTES):
                try:
                    process.stdin.write(chunk)
                except BrokenPipeError:
                    broken = True
                    break
                digest.update(chunk)
                sent += len(chunk)
                if progress is not None:
                    progress(sent, total)
            try:
                process.stdin.close()
            except BrokenPipeError:
                broken = True
            returncode = process.wait()
        except BaseException:
            process.kill()
            process.wait()
            raise
        stderr_file.seek(0)
        stderr = stderr_file.read().decode("utf-8", "replace")
    if returncode != 0:
        raise explain_failure(host, options, returncode, stderr, action)
    if broken or sent != total:
        raise DeployError(f"{host}: connection closed while {action} ({sent} of {total} bytes sent)")
    return digest.hexdigest()


class SharedConnection:
    """One authenticated ssh connection per board, shared by every step (OpenSSH ControlMaster).

    A deploy runs several remote commands; paying the key exchange and login once instead of per command
    matters on slow boards. Host key and key authentication are checked when it opens.
    """

    def __init__(self, host, options, token):
        self.host = host
        self.options = options
        base = tempfile.gettempdir()
        # Unix socket paths are limited to about 100 bytes, and ssh appends a random suffix while binding.
        if len(base) > 40:
            base = "/tmp"
        self.directory = os.path.join(base, f"edgecnn-ssh-{token}")
        self.control_path = os.path.join(self.directory, "control")
        self.process = None
        self.stderr_file = None

    def command(self):
        return master_command(self.host, self.options, self.control_path)

    def open(self):
        os.mkdir(self.directory, 0o700)
        self.stderr_file = tempfile.TemporaryFile()
        self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=self.stderr_file)
        deadline = time.monotonic() + self.options.timeout * 2 + 5
        while not os.path.exists(self.control_path):
            returncode = self.process.poll()
            if returncode is not None:
                self.stderr_file.seek(0)
                stderr = self.stderr_file.read().decode("utf-8", "replace")
                self.close()
                raise explain_failure(self.host, self.options, returncode, stderr, "connecting")
            if time.monotonic() > deadline:
                self.close()
                raise DeployError(f"{self.host}: timed out while connecting")
            time.sleep(0.02)
        return self

    def close(self):
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.process = None
        if self.stderr_file is not None:
            self.stderr_file.close()
            self.stderr_file = None
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc_info):
        self.close()
