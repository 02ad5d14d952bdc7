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
        # A log file gets whole lines (every tenth of the way, or every 30 s) instead of carriage-return redraws.
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._step = -1

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
        el = now - self.t0
        if not self.tty:
            step = int(min(1.0, self.n / self.total) * 10) if self.total else int(el // 30)
            if step == self._step:
                return
            self._step, self._drawn = step, self.n
            done = f"{self.n}/{self.total} ({100 * min(1.0, self.n / self.total):.0f}%)" if self.total else f"{self.n}"
            self.stream.write(f"{self.desc} {done} {el:.1f}s\n")
            self.stream.flush()
            return
        self._drawn = self.n
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
            if self.tty:
                self.stream.write("\n")
            self.stream.flush()
