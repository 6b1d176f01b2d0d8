"""The TFLite Micro source trees the tests compile against: shared/peers/ beside the checkout, found upward from
it (the checkout may be a worktree a level deeper). Tests skip when they are absent, in CI too: they are data
beside the repository, not something .ci/run installs."""

import pathlib

import pytest

REFERENCE = "tflite-micro"
CMSIS_NN = "tflite-micro-cmsis-nn"


def peer_tree(name):
    for folder in pathlib.Path(__file__).resolve().parents[1:]:
        candidate = folder / "shared" / "peers" / name
        if (candidate / "tensorflow" / "lite" / "micro").is_dir():
            return candidate
    return None


def require_tree(name):
    path = peer_tree(name)
    if path is None:
        pytest.skip(f"no TFLite Micro tree shared/peers/{name} above the checkout")
    return path
