"""`edgecnn deploy` against real OpenSSH servers on 127.0.0.1."""

import hashlib
import json
import os
import threading

import pytest
from click.testing import CliRunner

from edgecnn import deploy, tflite
from edgecnn.cli import main
from edgecnn.errors import DeployError


def make_bundle(directory, model_bytes, labels="0\n1\n2\n"):
    """A bundle as `edgecnn export --target pi` writes it: files plus manifest.json with their SHA-256."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.tflite").write_bytes(model_bytes)
    (directory / "labels.txt").write_text(labels)
    (directory / "install.sh").write_text("#!/bin/sh\necho installing\n")
    (directory / "install.sh").chmod(0o755)
    files = {name: hashlib.sha256((directory / name).read_bytes()).hexdigest()
             for name in ("model.tflite", "labels.txt", "install.sh")}
    manifest = {"model": "model.tflite", "service": "edgecnn-classify", "files": files}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return directory


def staging_leftovers(remote_dir):
    return sorted(path.name for path in remote_dir.iterdir()
                  if path.name.startswith(deploy.board.STAGING_PREFIX))


def deploy_one(bundle_dir, server, ssh_options, remote_dir, **kwargs):
    bundle = deploy.load_bundle(bundle_dir)
    deployment = deploy.BoardDeployment(bundle, deploy.parse_host(server.address), ssh_options,
                                        str(remote_dir), **kwargs)
    return deployment, deployment.run()


def test_deploy_copies_an_exported_pi_bundle_and_restarts(trained_lenet, tmp_path, sshd_server, ssh_keys,
                                                          known_hosts):
    from edgecnn.export import bundles

    bundle_dir = tmp_path / "pi-bundle"
    bundles.export_bundle(trained_lenet["tflite"], bundle_dir, "pi")
    remote_dir = tmp_path / "board" / "edgecnn"
    marker = tmp_path / "restarted"
    outcome = CliRunner().invoke(main, [
        "deploy", str(bundle_dir), "--target", "pi", "--host", sshd_server.address,
        "--identity", str(ssh_keys["user"]), "--known-hosts", str(known_hosts),
        "--remote-dir", str(remote_dir), "--restart", "--restart-command", f"echo {{service}} > {marker}",
    ])
    assert outcome.exit_code == 0, outcome.output
    (row,) = [line for line in outcome.output.splitlines() if line.startswith(sshd_server.address)]
    assert row.split()[1:3] == ["ok", "6"] and "sha256 verified" in row and "service restarted" in row
    manifest = json.loads((bundle_dir / "manifest.json").read_text())
    for name in [*manifest["files"], "manifest.json"]:
        assert (remote_dir / name).read_bytes() == (bundle_dir / name).read_bytes(), name
    assert os.access(remote_dir / "install.sh", os.X_OK)
    assert not os.access(remote_dir / "labels.txt", os.X_OK)
    assert staging_leftovers(remote_dir) == []
    assert marker.read_text() == "edgecnn-classify\n"
    # What arrived is still the int8 model, readable as such.
    assert "CONV_2D" in tflite.op_names(tflite.read_model(remote_dir / "model.tflite"))
    # The exported bundle says pi: deploying it as a Coral bundle is refused before any connection.
    wrong = CliRunner().invoke(main, ["deploy", str(bundle_dir), "--target", "coral-devboard",
                                      "--host", "pi@127.0.0.1:1", "--remote-dir", str(tmp_path / "other")])
    assert wrong.exit_code != 0 and "exported for pi, not --target coral-devboard" in wrong.output


def test_second_deploy_replaces_by_rename_so_readers_never_see_a_half_file(tmp_path, sshd_server,
                                                                           ssh_options):
    remote_dir = tmp_path / "board"
    first = os.urandom(3 << 20)
    second = os.urandom(5 << 20)
    _, result = deploy_one(make_bundle(tmp_path / "v1", first), sshd_server, ssh_options, remote_dir)
    assert result.ok, result.detail
    # A service that has the old model open keeps reading the whole old file: it was replaced, not rewritten.
    with open(remote_dir / "model.tflite", "rb") as reader:
        old_inode = os.fstat(reader.fileno()).st_ino
        second_bundle = make_bundle(tmp_path / "v2", second, labels="a\nb\n")
        _, result = deploy_one(second_bundle, sshd_server, ssh_options, remote_dir)
        assert result.ok, result.detail
        assert reader.read() == first
    assert (remote_dir / "model.tflite").read_bytes() == second
    assert os.stat(remote_dir / "model.tflite").st_ino != old_inode
    assert (remote_dir / "labels.txt").read_text() == "a\nb\n"
    assert staging_leftovers(remote_dir) == []


def test_connection_cut_mid_upload_keeps_the_old_model(tmp_path, sshd_server, ssh_options):
    remote_dir = tmp_path / "board"
    old_model = os.urandom(1 << 20)
    _, result = deploy_one(make_bundle(tmp_path / "old", old_model), sshd_server, ssh_options, remote_dir)
    assert result.ok, result.detail

    large_model = os.urandom(24 << 20)
    bundle = deploy.load_bundle(make_bundle(tmp_path / "new", large_model))
    deployment = deploy.BoardDeployment(bundle, deploy.parse_host(sshd_server.address), ssh_options,
                                        str(remote_dir))
    cuts = []
    seen_partial = []

    def cut_a_third_of_the_way(name, sent, total):
        if name == "model.tflite" and sent >= 8 << 20 and not cuts:
            staged = list(remote_dir.glob(deploy.board.STAGING_PREFIX + "*/model.tflite"))
            seen_partial.extend(path.stat().st_size for path in staged)
            cuts.extend(sshd_server.cut_connections())

    result = deployment.run(progress=cut_a_third_of_the_way)
    assert cuts, "the upload finished before the connection could be cut"
    assert seen_partial and seen_partial[0] < len(large_model)
    assert not result.ok
    assert "model.tflite" in result.detail and "\n" not in result.detail
    assert (remote_dir / "model.tflite").read_bytes() == old_model
    # The failed deploy removed its staging directory over a fresh connection.
    assert staging_leftovers(remote_dir) == []


def test_leftover_staging_from_an_earlier_cut_is_removed_by_the_next_deploy(tmp_path, sshd_server,
                                                                            ssh_options):
    remote_dir = tmp_path / "board"
    leftover = remote_dir / (deploy.board.STAGING_PREFIX + "deadbeef")
    leftover.mkdir(parents=True)
    (leftover / "model.tflite").write_bytes(b"half a mod")
    _, result = deploy_one(make_bundle(tmp_path / "bundle", os.urandom(4096)), sshd_server, ssh_options,
                           remote_dir)
    assert result.ok, result.detail
    assert staging_leftovers(remote_dir) == []


class CorruptingDeployment(deploy.BoardDeployment):
    """Damages the staged model after the upload, as a bad link or disk would, before the board checks it."""

    def upload(self, progress=None):
        super().upload(progress)
        (staged,) = list(self.remote_root.glob(deploy.board.STAGING_PREFIX + "*/model.tflite"))
        with open(staged, "r+b") as handle:
            handle.seek(100)
            handle.write(b"\xff" * 8)


def test_checksum_mismatch_on_the_board_replaces_nothing(tmp_path, sshd_server, ssh_options):
    remote_dir = tmp_path / "board"
    old_model = os.urandom(8192)
    _, result = deploy_one(make_bundle(tmp_path / "old", old_model), sshd_server, ssh_options, remote_dir)
    assert result.ok, result.detail
    bundle = deploy.load_bundle(make_bundle(tmp_path / "new", os.urandom(8192), labels="x\n"))
    deployment = CorruptingDeployment(bundle, deploy.parse_host(sshd_server.address), ssh_options,
                                      str(remote_dir))
    deployment.remote_root = remote_dir
    result = deployment.run()
    assert not result.ok
    assert "SHA-256 of model.tflite on the board" in result.detail
    assert (remote_dir / "model.tflite").read_bytes() == old_model
    assert (remote_dir / "labels.txt").read_text() == "0\n1\n2\n"
    assert staging_leftovers(remote_dir) == []


def test_wrong_host_key_is_refused_with_one_line_and_nothing_uploaded(tmp_path, sshd_server, ssh_keys):
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(sshd_server.known_hosts_line(f"{ssh_keys['other_host']}.pub"))
    remote_dir = tmp_path / "board"
    bundle_dir = make_bundle(tmp_path / "bundle", os.urandom(4096))
    outcome = CliRunner().invoke(main, [
        "deploy", str(bundle_dir), "--target", "pi", "--host", sshd_server.address,
        "--identity", str(ssh_keys["user"]), "--known-hosts", str(known_hosts),
        "--remote-dir", str(remote_dir),
    ])
    assert outcome.exit_code != 0
    error_lines = [line for line in outcome.output.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert "host key does not match" in error_lines[0] and str(known_hosts) in error_lines[0]
    assert "Traceback" not in outcome.output
    assert not remote_dir.exists()


def test_unknown_host_needs_accept_new_host_key(tmp_path, sshd_server, ssh_keys):
    known_hosts = tmp_path / "known_hosts"
    remote_dir = tmp_path / "board"
    bundle_dir = make_bundle(tmp_path / "bundle", os.urandom(4096))
    arguments = ["deploy", str(bundle_dir), "--host", sshd_server.address,
                 "--identity", str(ssh_keys["user"]), "--known-hosts", str(known_hosts),
                 "--remote-dir", str(remote_dir)]
    refused = CliRunner().invoke(main, arguments)
    assert refused.exit_code != 0
    assert "no host key known" in refused.output and "--accept-new-host-key" in refused.output
    assert not remote_dir.exists()

    accepted = CliRunner().invoke(main, [*arguments, "--accept-new-host-key"])
    assert accepted.exit_code == 0, accepted.output
    assert (remote_dir / "model.tflite").read_bytes() == (bundle_dir / "model.tflite").read_bytes()
    recorded = known_hosts.read_text()
    host_public_key = (ssh_keys["host"].parent / "host_key.pub").read_text().split()[1]
    assert host_public_key in recorded


def test_restart_runs_the_restart_command_with_the_manifest_service(tmp_path, sshd_server, ssh_keys,
                                                                    known_hosts):
    remote_dir = tmp_path / "board"
    bundle_dir = make_bundle(tmp_path / "bundle", os.urandom(4096))
    marker = tmp_path / "restarted"
    outcome = CliRunner().invoke(main, [
        "deploy", str(bundle_dir), "--host", sshd_server.address, "--identity", str(ssh_keys["user"]),
        "--known-hosts", str(known_hosts), "--remote-dir", str(remote_dir), "--restart",
        "--restart-command", f"echo {{service}} > {marker}",
    ])
    assert outcome.exit_code == 0, outcome.output
    assert marker.read_text() == "edgecnn-classify\n"
    assert "service restarted" in outcome.output


def test_fleet_deploys_in_parallel_and_reports_every_host(tmp_path, sshd_server, second_sshd_server, ssh_keys,
                                                           known_hosts):
    bundle_dir = make_bundle(tmp_path / "bundle", os.urandom(1 << 20))
    board_a, board_b = tmp_path / "board-a", tmp_path / "board-b"
    hosts_file = tmp_path / "hosts.txt"
    hosts_file.write_text(
        "# the fleet\n\n"
        f"{sshd_server.address} {board_a}\n"
        f"{second_sshd_server.address}   {board_b}   # second rack\n"
        f"{sshd_server.user}@127.0.0.1:1 {tmp_path / 'never'}\n"
    )
    outcome = CliRunner().invoke(main, [
        "deploy", str(bundle_dir), "--hosts", str(hosts_file), "--identity", str(ssh_keys["user"]),
        "--known-hosts", str(known_hosts), "--timeout", "5",
    ])
    assert outcome.exit_code != 0
    rows = {line.split()[0]: line.split()[1] for line in outcome.output.splitlines()
            if line.startswith(sshd_server.user + "@")}
    assert rows == {sshd_server.address: "ok", second_sshd_server.address: "ok",
                    f"{sshd_server.user}@127.0.0.1:1": "FAILED"}
    assert "2 of 3 hosts deployed, 1 failed" in outcome.output
    assert "error: 1 of 3 hosts failed" in outcome.output
    for board in (board_a, board_b):
        assert (board / "model.tflite").read_bytes() == (bundle_dir / "model.tflite").read_bytes()
    assert not (tmp_path / "never").exists()


def test_fleet_boards_are_deployed_at_the_same_time(tmp_path, sshd_server, second_sshd_server, ssh_options):
    """Each board's upload waits for the other's to start: one board at a time would break the barrier."""
    bundle = deploy.load_bundle(make_bundle(tmp_path / "bundle", os.urandom(1 << 20)))
    targets = [deploy.Target(deploy.parse_host(sshd_server.address), str(tmp_path / "a")),
               deploy.Target(deploy.parse_host(second_sshd_server.address), str(tmp_path / "b"))]
    both_uploading = threading.Barrier(2, timeout=30)
    waited = set()

    def meet(host, name, sent, total):
        if host not in waited:
            waited.add(host)
            both_uploading.wait()

    deployments = deploy.plan_deployments(bundle, targets, ssh_options)
    results = deploy.deploy_fleet(deployments, jobs=4, progress=meet)
    assert [result.ok for result in results] == [True, True], [result.detail for result in results]
    assert len(waited) == 2


def test_dry_run_prints_every_command_and_touches_nothing(tmp_path, ssh_keys):
    bundle_dir = make_bundle(tmp_path / "bundle", os.urandom(4096))
    remote_dir = tmp_path / "board"
    # Port 1 has no server: a dry run must not even try to connect.
    outcome = CliRunner().invoke(main, [
        "deploy", str(bundle_dir), "--host", "pi@127.0.0.1:1", "--identity", str(ssh_keys["user"]),
        "--remote-dir", str(remote_dir), "--restart", "--dry-run",
    ])
    assert outcome.exit_code == 0, outcome.output
    lines = outcome.output.splitlines()
    ssh_lines = [line for line in lines if line.startswith("ssh ")]
    # shared connection, prepare, 4 uploads, verify, rename, restart, cleanup-on-failure
    assert len(ssh_lines) == 10
    assert " -M -N " in ssh_lines[0]
    control_path = ssh_lines[0].split("ControlPath=")[1].split()[0]
    assert all(f"ControlPath={control_path}" in line for line in ssh_lines)
    for line in ssh_lines:
        assert "-o BatchMode=yes -o StrictHostKeyChecking=yes" in line
        assert f"-i {ssh_keys['user']}" in line and "-p 1 -- pi@127.0.0.1" in line
    assert sum(" < " in line for line in ssh_lines) == 4
    assert "sha256sum -- install.sh labels.txt manifest.json model.tflite" in outcome.output
    # The model is renamed into place last.
    renames = next(line for line in ssh_lines if "mv -f" in line)
    assert renames.rindex("model.tflite") > renames.rindex("labels.txt")
    assert "sudo -n systemctl restart edgecnn-classify" in outcome.output
    assert not remote_dir.exists()


def test_unreachable_host_fails_with_one_line(tmp_path, ssh_options):
    bundle = deploy.load_bundle(make_bundle(tmp_path / "bundle", os.urandom(4096)))
    deployment = deploy.BoardDeployment(bundle, deploy.parse_host("nobody@127.0.0.1:1"), ssh_options,
                                        str(tmp_path / "board"))
    with pytest.raises(DeployError, match=r"^nobody@127\.0\.0\.1:1: ssh failed while preparing .*refused"):
        deployment.prepare()
