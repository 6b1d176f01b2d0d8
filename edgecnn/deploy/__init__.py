"""Get a model onto boards: copy bundles over SSH (atomically, checksummed, in parallel) and flash firmware.

    from edgecnn import deploy
    bundle = deploy.load_bundle("out/pi")
    options = deploy.SshOptions(identity="~/.ssh/id_ed25519", known_hosts="~/.ssh/known_hosts")
    targets = [deploy.Target(deploy.parse_host("pi@board:22"), "~/edgecnn")]
    results = deploy.deploy_fleet(deploy.plan_deployments(bundle, targets, options))
    print(deploy.format_results(results))

    plan = deploy.plan_flash("out/firmware", "platformio", port="/dev/ttyUSB0")
    deploy.flash_board(plan)
"""

from edgecnn.deploy.board import (
    DEFAULT_REMOTE_DIR,
    BoardDeployment,
    HostResult,
    restart_command_for,
)
from edgecnn.deploy.bundle import Bundle, BundleFile, load_bundle
from edgecnn.deploy.flash import TARGETS as FLASH_TARGETS
from edgecnn.deploy.flash import FlashPlan, flash_board, plan_flash
from edgecnn.deploy.fleet import Target, deploy_fleet, format_results, plan_deployments, read_hosts_file
from edgecnn.deploy.ssh import Host, SshOptions, parse_host

__all__ = [
    "DEFAULT_REMOTE_DIR", "FLASH_TARGETS", "BoardDeployment", "Bundle", "BundleFile", "FlashPlan", "Host",
    "HostResult", "SshOptions", "Target", "deploy_fleet", "flash_board", "format_results", "load_bundle",
    "parse_host", "plan_deployments", "plan_flash", "read_hosts_file", "restart_command_for",
]
