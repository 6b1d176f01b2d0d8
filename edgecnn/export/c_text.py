"""C and C++ spellings of Python values, shared by every generator of sources (TFLite Micro, firmware, C)."""

import re


def c_identifier(name):
    """A C identifier from a file stem: lower case, non-alphanumerics to underscores, no leading digit."""
    identifier = re.sub(r"[^0-9a-zA-Z_]", "_", name).lower()
    return identifier if identifier and not identifier[0].isdigit() else f"m_{identifier}"


def c_string(text):
    """A C string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def c_float(value):
    """A C float literal; repr always has a '.' or an exponent, which the f suffix needs."""
    text = repr(float(value))
    return f"{text}f" if ("." in text or "e" in text) else f"{text}.0f"


def byte_rows(data, per_line=16, indent="    "):
    """The bytes of `data` as lines of hex literals, each ending in a comma, for an array initializer."""
    return "\n".join(
        indent + ", ".join(f"0x{byte:02x}" for byte in data[start : start + per_line]) + ","
        for start in range(0, len(data), per_line)
    )
