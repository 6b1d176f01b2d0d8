"""Deploy pieces that need no server: host parsing, the ssh argument list, bundles, hosts files, the table."""

import hashlib
import json

import pytest

from edgecnn import deploy
from edgecnn.deploy import board, ssh
from edgecnn.errors import ConfigurationError, DeployError


@pytest.mark.parametrize("text, expected", [
    ("pi@raspberrypi.local", deploy.Host("raspberrypi.local", "pi", 22)),
    ("pi@10.0.0.7:2222", deploy.Host("10.0.0.7", "pi", 2222)),
    ("board", deploy.Host("board", None, 22)),
    ("mendel@[fe80::1%eth0]:22", deploy.Host("fe80::1%eth0", "mendel", 22)),
])
def test_parse_host(text, expected):
    assert deploy.parse_host(text) == expected


@pytest.mark.parametrize("text", ["-oProxyCommand=touch x", "pi@", "pi@host:99999", "pi@host:port", "a b",
                                  "pi@host/x"])
def test_parse_host_rejects_what_ssh_could_misread(text):
    with pytest.raises(ConfigurationError, match="host"):
        deploy.parse_host(text)


def test_ssh_arguments_check_host_keys_and_use_keys_only():
    options = deploy.SshOptions(identity="/keys/id", known_hosts="/keys/known", timeout=9)
    arguments = ssh.ssh_command(deploy.parse_host("pi@board:2200"), "echo 'a b'", options)
    assert arguments == [
        "ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
        "-o", "UserKnownHostsFile=/keys/known", "-o", "GlobalKnownHostsFile=/dev/null",
        "-i", "/keys/id", "-o", "IdentitiesOnly=yes",
        "-o", "ConnectTimeout=9", "-o", "ServerAliveInterval=3", "-o", "ServerAliveCountMax=3",
        "-p", "2200", "--", "pi@board", "echo 'a b'",
    ]
    trusting = ssh.ssh_command(deploy.parse_host("board"), "true",
                               deploy.SshOptions(accept_new_host_key=True))
    assert "StrictHostKeyChecking=accept-new" in trusting and "-i" not in trusting


@pytest.mark.parametrize("remote_dir, shell_path", [
    ("~/edgecnn", "edgecnn"), ("~", "."), ("/opt/edgecnn/", "/opt/edgecnn"), ("models/a b", "models/a b"),
])
def test_remote_dir_keeps_home_relative_paths_unquoted_tilde_free(remote_dir, shell_path):
    assert board.remote_shell_path(remote_dir) == shell_path


@pytest.mark.parametrize("remote_dir", ["/", "~root/x", ""])
def test_remote_dir_refuses_root_and_other_homes(remote_dir):
    with pytest.raises(ConfigurationError):
        board.remote_shell_path(remote_dir)


def test_remote_commands_quote_paths(tmp_path):
    (tmp_path / "model.tflite").write_bytes(b"model")
    bundle = deploy.load_bundle(tmp_path)
    deployment = deploy.BoardDeployment(bundle, deploy.parse_host("pi@board"), deploy.SshOptions(),
                                        "/srv/my models;rm -rf ~", token="abc")
    remote_commands = [step.arguments[-1] for step in deployment.steps()[1:]]
    assert remote_commands[0] == ("mkdir -p -- '/srv/my models;rm -rf ~' && "
                                  "rm -rf -- '/srv/my models;rm -rf ~'/.edgecnn-staging-* && "
                                  "mkdir -- '/srv/my models;rm -rf ~/.edgecnn-staging-abc'")
    assert remote_commands[1] == "cat > '/srv/my models;rm -rf ~/.edgecnn-staging-abc/model.tflite'"


def test_bundle_without_manifest_takes_every_visible_file(tmp_path):
    (tmp_path / "model.tflite").write_bytes(b"\x00" * 10)
    (tmp_path / "labels.txt").write_text("cat\ndog\n")
    (tmp_path / ".hidden").write_text("x")
    bundle = deploy.load_bundle(tmp_path)
    assert [f.name for f in bundle.files] == ["labels.txt", "model.tflite"]
    assert bundle.model == "model.tflite" and bundle.service is None
    assert bundle.files[1].sha256 == hashlib.sha256(b"\x00" * 10).hexdigest()
    assert bundle.total_bytes == 18


def test_corrupt_bundle_is_refused_before_any_board_is_touched(tmp_path):
    (tmp_path / "model.tflite").write_bytes(b"new model")
    manifest = {"model": "model.tflite", "files": {"model.tflite": hashlib.sha256(b"old model").hexdigest()}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DeployError, match=r"model\.tflite does not match its SHA-256 in manifest\.json"):
        deploy.load_bundle(tmp_path)


def test_manifest_naming_a_missing_file_is_refused(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"files": {"model.tflite": "00"}}))
    with pytest.raises(ConfigurationError, match="listed in manifest.json but missing"):
        deploy.load_bundle(tmp_path)


def test_hosts_file(tmp_path):
    path = tmp_path / "hosts"
    path.write_text("# boards\n\npi@a\npi@b:2222 /opt/edgecnn  # rack 2\n")
    targets = deploy.read_hosts_file(path, "~/models")
    assert targets == [deploy.Target(deploy.parse_host("pi@a"), "~/models"),
                       deploy.Target(deploy.parse_host("pi@b:2222"), "/opt/edgecnn")]
    path.write_text("pi@a\npi@b extra words\n")
    with pytest.raises(ConfigurationError, match=r"hosts:2: expected"):
        deploy.read_hosts_file(path)


def test_restart_command():
    assert deploy.restart_command_for("edgecnn-classify") == "sudo -n systemctl restart edgecnn-classify"
    assert deploy.restart_command_for("a b", "touch /tmp/{service}") == "touch /tmp/'a b'"
    with pytest.raises(ConfigurationError, match="--service"):
        deploy.restart_command_for(None)


def test_result_table_has_a_row_per_host_and_a_summary():
    table = deploy.format_results([
        deploy.HostResult("pi@a", True, 4, 1_234_567, 1.25, "sha256 verified"),
        deploy.HostResult("pi@long-board-name:2222", False, detail="pi@long-board-name:2222: refused"),
    ])
    lines = table.splitlines()
    assert lines[0].split() == ["HOST", "STATUS", "FILES", "BYTES", "TIME", "DETAIL"]
    assert lines[1].split()[:6] == ["pi@a", "ok", "4", "1.2", "MB", "1.2"]
    assert lines[2].split()[:3] == ["pi@long-board-name:2222", "FAILED", "-"]
    assert lines[1].index("ok") == lines[2].index("FAILED")
    assert lines[3] == "1 of 2 hosts deployed, 1 failed"


def test_explain_failure_turns_ssh_noise_into_one_line():
    host = deploy.parse_host("pi@board")
    options = deploy.SshOptions(known_hosts="/k")
    changed = ("@@@@@@@@@@@\r\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\n"
               "Host key verification failed.\r\n")
    message = str(ssh.explain_failure(host, options, 255, changed, "x"))
    assert "host key does not match the one in /k" in message
    refused = "pi@board: Permission denied (publickey).\r\n"
    assert "--identity" in str(ssh.explain_failure(host, options, 255, refused, "x"))
    remote = str(ssh.explain_failure(host, options, 1, "sha256sum: not found\n", "checking"))
    assert remote == "pi@board: checking failed on the board (exit code 1): sha256sum: not found"


def test_the_same_board_directory_twice_is_refused(tmp_path):
    (tmp_path / "model.tflite").write_bytes(b"model")
    bundle = deploy.load_bundle(tmp_path)
    host = deploy.parse_host("pi@board")
    targets = [deploy.Target(host, "~/edgecnn"), deploy.Target(host, "/srv/other"),
               deploy.Target(host, "edgecnn")]
    with pytest.raises(ConfigurationError, match="pi@board edgecnn is listed twice"):
        deploy.plan_deployments(bundle, targets, deploy.SshOptions())
