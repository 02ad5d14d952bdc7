"""A background job for the modal Generate operator: runs a function in a thread, reports progress, cancels.

No bpy here: the thread never touches Blender data; the main thread polls :class:`Job` from a timer.
"""
from __future__ import annotations

import threading
from typing import Any, Callable


class Job:
    """Run ``fn(progress, cancel)`` in a daemon thread; ``progress(f)`` takes a fraction, ``cancel()`` polls."""

    def __init__(self, fn: Callable[[Callable[[float], None], Callable[[], bool]], Any]):
        self._fn = fn
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._fraction = 0.0
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dreamtalk-generate", daemon=True)

    def _progress(self, fraction: float) -> None:
        with self._lock:
            self._fraction = min(1.0, max(self._fraction, float(fraction)))  # never runs backwards

    def _run(self) -> None:
        try:
            self.result = self._fn(self._progress, self._cancel.is_set)
        except BaseException as e:  # handed to the main thread, which reports it
            self.error = e

    def start(self) -> "Job":
        """Start the thread; returns self."""
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Ask the function to stop at its next ``cancel()`` check."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancel.is_set()

    @property
    def fraction(self) -> float:
        """Progress in [0, 1] as last reported."""
        with self._lock:
            return self._fraction

    @property
    def done(self) -> bool:
        """Whether the thread has finished (result or error is set)."""
        return not self._thread.is_alive() and self._thread.ident is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until done (or ``timeout`` seconds); returns :attr:`done`."""
        self._thread.join(timeout)
        return self.done
