"""A small progress bar on stderr that ``--quiet`` silences (no dependency on tqdm)."""
from __future__ import annotations

import sys
import time

QUIET = False


def set_quiet(quiet: bool) -> None:
    """Silence or enable every progress bar."""
    global QUIET
    QUIET = bool(quiet)


class Progress:
    """``with Progress(total, "synth") as p: p.update(1)``; draws at most 10 times a second."""

    def __init__(self, total: int | None, desc: str = "", stream=None, enabled: bool | None = None):
        self.total, self.desc, self.n = total, desc, 0
        self.stream = stream or sys.stderr
        self.enabled = (not QUIET) if enabled is None else enabled
        self.t0 = time.monotonic()
        self._last = 0.0
        self._drawn = -1  # n at the last draw: close() does not repeat a final line already shown

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, k: int = 1) -> None:
        self.n += k
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.1 or (self.total and self.n >= self.total)):
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        self._drawn = self.n
        el = now - self.t0
        if self.total:
            frac = min(1.0, self.n / self.total)
            bar = "#" * int(frac * 24)
            eta = el / frac - el if frac > 0 else 0
            msg = f"\r{self.desc} [{bar:<24}] {self.n}/{self.total} {el:6.1f}s eta {eta:6.1f}s"
        else:
            msg = f"\r{self.desc} {self.n} {el:6.1f}s"
        self.stream.write(msg)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            if self._drawn != self.n:
                self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
