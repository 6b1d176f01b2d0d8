"""Argument checks and channel arithmetic shared by the builders."""

from edgecnn.errors import ConfigurationError


def scaled(count, width, divisor=1):
    """`count * width` rounded to a multiple of `divisor` (at least `divisor`), never below 90% of the target.

    With divisor 8 this is MobileNet's make_divisible; with divisor 1 it is plain rounding.
    """
    target = count * width
    value = max(divisor, int(target + divisor / 2) // divisor * divisor)
    if value < 0.9 * target:
        value += divisor
    return value


def check_positive(value, option, model_name):
    """A width multiplier or similar option must be a positive number."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise ConfigurationError(f"{model_name} {option} must be a positive number, got {value!r}")


def check_rate(value, option, model_name):
    """A dropout rate must lie in [0, 1)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
        raise ConfigurationError(f"{model_name} {option} must be in [0, 1), got {value!r}")


def check_choice(value, choices, option, model_name):
    if value not in choices:
        raise ConfigurationError(f"{model_name} {option} must be one of {', '.join(choices)}, not {value!r}")
