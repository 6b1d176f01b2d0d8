"""The one exception family for failures a user can act on, and the one way a command exits non-zero.

The CLI prints `error: <message>` on one line and exits with `exit_code`, without a traceback; click's usage
errors (a bad option value, an unknown command) end the same way, with exit code 2. Anything that is not an
EdgecnnError is a bug in edgecnn and keeps its traceback.
"""


class EdgecnnError(Exception):
    """A failure caused by the user's input or environment, with a message that says what and where."""

    exit_code = 2


class MissingExtraError(EdgecnnError):
    """An optional dependency is not installed; the message names the pip extra that brings it."""


class ModelFileError(EdgecnnError):
    """A model file is missing, truncated, corrupt or not of the kind the command needs."""


class UnsupportedModelError(EdgecnnError):
    """A model uses an op, type or shape that the command cannot handle."""


class DatasetError(EdgecnnError):
    """A dataset spec is unknown, or its files are missing or unusable."""


class ConfigurationError(EdgecnnError):
    """An option or combination of options does not make sense for this model or command."""


class RuntimeBackendError(EdgecnnError):
    """An inference runtime or delegate cannot be loaded or run."""


class SourceError(EdgecnnError):
    """A camera, stream, video or image source cannot be opened or stopped delivering frames."""


class ExternalToolError(EdgecnnError):
    """An external program (compiler, flasher, ssh) is missing or failed."""


class DeployError(EdgecnnError):
    """Copying a model to a board failed; the board keeps its previous model."""


class VerificationFailed(EdgecnnError):
    """A check ran and found a difference (verify: the NumPy interpreter is not bit-exact with a runtime)."""

    exit_code = 1
