"""External tools the tests run (g++, nm, sshd, ...): skipped locally when missing, a failure in CI."""

import os
import shutil

import pytest


def require_tool(name):
    """The path of an external tool; skipped locally when missing, a failure in CI (where .ci/run installs it)."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed"
        if os.environ.get("CI"):
            pytest.fail(f"{message}, but CI must have it (.ci/run installs it)")
        pytest.skip(message)
    return path
