"""A real OpenSSH server on 127.0.0.1 for the deploy tests: throw-away host key, user key and directory."""

import getpass
import os
import pathlib
import signal
import socket
import subprocess
import time


def make_key(path, comment="edgecnn-test"):
    """An ed25519 key pair without passphrase; returns the private key path."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                   check=True)
    return pathlib.Path(path)


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port, process, deadline):
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as connection:
                # sshd is ready once it sends its version banner.
                if connection.recv(64).startswith(b"SSH-"):
                    return True
        except OSError:
            time.sleep(0.05)
    return False


class SshServer:
    """`sshd -D -e -f CONFIG` on a free port of 127.0.0.1, accepting one user key."""

    def __init__(self, directory, sshd_path, host_key, authorized_keys):
        self.directory = pathlib.Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.sshd_path = sshd_path
        self.host_key = pathlib.Path(host_key)
        self.authorized_keys = pathlib.Path(authorized_keys)
        self.user = getpass.getuser()
        self.process = None
        self.port = None
        self.log_path = self.directory / "sshd.log"

    def _write_config(self, port):
        config = self.directory / "sshd_config"
        config.write_text("\n".join([
            "ListenAddress 127.0.0.1",
            f"Port {port}",
            f"HostKey {self.host_key}",
            f"PidFile {self.directory / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.authorized_keys}",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "StrictModes no",
            "UsePAM no",
            "UseDNS no",
            "MaxStartups 50",
            "",
        ]))
        return config

    def start(self):
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", exist_ok=True)
        for _ in range(5):
            port = _free_port()
            config = self._write_config(port)
            log = open(self.log_path, "ab")
            process = subprocess.Popen([self.sshd_path, "-D", "-e", "-f", str(config)],
                                       stdout=log, stderr=log, stdin=subprocess.DEVNULL)
            log.close()
            if _wait_for_port(port, process, time.monotonic() + 10):
                self.process, self.port = process, port
                return self
            process.kill()
            process.wait()
        log = self.log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"sshd did not start; its log: {log}")

    def known_hosts_line(self, public_key_path=None):
        """The known_hosts entry for this server (or for another key, to fake a changed host key)."""
        key = pathlib.Path(public_key_path or f"{self.host_key}.pub").read_text().split()
        return f"[127.0.0.1]:{self.port} {key[0]} {key[1]}\n"

    @property
    def address(self):
        return f"{self.user}@127.0.0.1:{self.port}"

    def session_processes(self):
        """Every process under the listening sshd: the per-connection sshd processes and their shells."""
        found = []
        pending = [self.process.pid]
        while pending:
            pid = pending.pop()
            try:
                children = pathlib.Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            for child in children:
                found.append(int(child))
                pending.append(int(child))
        return found

    def cut_connections(self):
        """Kill every open session at once, as a dropped link would; the listener keeps accepting."""
        processes = self.session_processes()
        for pid in processes:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return processes

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
