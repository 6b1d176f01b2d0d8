"""Two real sshd servers on 127.0.0.1 (one host key, one user key), started once for the deploy tests."""

import os

import pytest
from deploy_sshd import SshServer, make_key
from external_tools import require_tool

from edgecnn import deploy


@pytest.fixture(scope="session")
def ssh_keys(tmp_path_factory):
    require_tool("ssh")
    require_tool("ssh-keygen")
    directory = tmp_path_factory.mktemp("ssh-keys")
    user_key = make_key(directory / "user_key", "edgecnn-test-user")
    host_key = make_key(directory / "host_key", "edgecnn-test-host")
    other_host_key = make_key(directory / "other_host_key", "edgecnn-test-impostor")
    authorized_keys = directory / "authorized_keys"
    authorized_keys.write_text((directory / "user_key.pub").read_text())
    return {"user": user_key, "host": host_key, "other_host": other_host_key,
            "authorized_keys": authorized_keys}


def _start(tmp_path_factory, ssh_keys, name):
    # sshd lives in /usr/sbin, which a non-root PATH often lacks.
    sshd = "/usr/sbin/sshd" if os.access("/usr/sbin/sshd", os.X_OK) else require_tool("sshd")
    server = SshServer(tmp_path_factory.mktemp(name), sshd, ssh_keys["host"], ssh_keys["authorized_keys"])
    return server.start()


@pytest.fixture(scope="session")
def sshd_server(tmp_path_factory, ssh_keys):
    server = _start(tmp_path_factory, ssh_keys, "sshd-a")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def second_sshd_server(tmp_path_factory, ssh_keys):
    server = _start(tmp_path_factory, ssh_keys, "sshd-b")
    yield server
    server.stop()


@pytest.fixture()
def known_hosts(tmp_path, sshd_server, second_sshd_server):
    """A known_hosts file that vouches for both servers' real host key."""
    path = tmp_path / "known_hosts"
    path.write_text(sshd_server.known_hosts_line() + second_sshd_server.known_hosts_line())
    return path


@pytest.fixture()
def ssh_options(ssh_keys, known_hosts):
    return deploy.SshOptions(identity=str(ssh_keys["user"]), known_hosts=str(known_hosts), timeout=10)
