"""A one-line progress bar on stderr (count, rate, time left), drawn only when stderr is a terminal.

Reads and training steps use it; in a pipe, a log or a test, it prints nothing, so output stays clean.
"""

import sys
import time

BAR_WIDTH = 24
REDRAW_SECONDS = 0.1


def format_seconds(seconds):
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class Progress:
    """`with Progress(total, "decoding photos/") as bar: bar.advance(n)`; silent unless `enabled`."""

    def __init__(self, total, description, unit="images", stream=None, enabled=None, minimum_total=0):
        self.total = max(0, int(total))
        self.description = description
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = self.total > minimum_total and _is_terminal(self.stream)
        self.enabled = bool(enabled)
        self.done = 0
        self.started = time.perf_counter()
        self.last_drawn = 0.0
        self.width = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def advance(self, count=1):
        self.done += count
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.last_drawn >= REDRAW_SECONDS or self.done >= self.total:
            self.last_drawn = now
            self._draw(now)

    def line(self, now=None):
        """The bar as text, e.g. 'decoding photos/ [#####-----] 412/1000 83.2 images/s, 0:07 left'."""
        now = time.perf_counter() if now is None else now
        elapsed = max(now - self.started, 1e-9)
        fraction = min(1.0, self.done / self.total) if self.total else 1.0
        filled = int(round(fraction * BAR_WIDTH))
        rate = self.done / elapsed
        remaining = (self.total - self.done) / rate if rate > 0 else 0.0
        timing = f"{format_seconds(elapsed)}" if self.done >= self.total else f"{format_seconds(remaining)} left"
        return (
            f"{self.description} [{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {self.done}/{self.total} "
            f"{rate:.1f} {self.unit}/s, {timing}"
        )

    def _draw(self, now):
        text = self.line(now)
        padding = " " * max(0, self.width - len(text))
        self.width = len(text)
        self.stream.write("\r" + text + padding)
        self.stream.flush()

    def close(self):
        if self.enabled and self.width:
            self.stream.write("\r" + " " * self.width + "\r")  # leave the terminal line empty
            self.stream.flush()
            self.width = 0
        self.enabled = False


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
