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


class NothingToCompare(EdgecnnError):
    """No runtime could run the model, so a check compared nothing."""

    exit_code = 3


def short_reason(text, limit=240):
    """A long error text from a runtime or tool, cut to its first distinct sentences.

    Runtimes repeat one sentence per tensor or node ("Tensor 33 has invalid quantization parameters." fourteen
    times); sentences that differ only in their numbers count once, with how many more there were.
    """
    import re

    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    # Sentence ends: ". " and the "3.Tensor" of messages glued together without a space.
    sentences = [part for part in re.split(r"(?<=[.!?])\s+|(?<=[a-z0-9)\]][.!?])(?=[A-Z])", text) if part]
    kept, keys, repeats = [], [], []
    for sentence in sentences:
        key = re.sub(r"\d+", "#", sentence)
        for earlier in keys:  # "parameters.quantized_dimension must be ..." ends with an earlier sentence
            if key != earlier and key.endswith(earlier):
                cut = len(sentence) - len(re.sub(r"#", "0", earlier))
                sentence, key = sentence[:cut].rstrip(), key[: len(key) - len(earlier)].rstrip()
                break
        if key in keys:
            repeats[keys.index(key)] += 1
            continue
        kept.append(sentence)
        keys.append(key)
        repeats.append(0)
    more = f" (the same for {max(repeats)} more)" if max(repeats) else ""
    result = ""
    for sentence in kept:
        if result and len(result) + len(sentence) + 1 + len(more) > limit:
            break
        result = f"{result} {sentence}".strip()
    result += more
    return result if len(result) <= limit else result[: limit - 3].rstrip() + "..."


def error_reason(error, limit=200):
    """"TypeName: first line" of an exception raised by a library or the user's code, cut with short_reason."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else ""
    return short_reason(f"{type(error).__name__}: {first}" if first else type(error).__name__, limit)
