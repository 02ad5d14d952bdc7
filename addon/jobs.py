"""Background jobs for the modal operators (Generate, Render Portrait): a thread that reports progress and
cancels, and the operator mixin that polls it from a timer.

The thread never touches Blender data; the main thread polls :class:`Job`. The module imports no bpy at load
time, so :class:`Job` works outside Blender too.
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


class BackgroundJobMixin:
    """Modal machinery for an operator whose work runs in a :class:`Job`: timer, progress bar, status text, Esc.

    The operator (``class Op(BackgroundJobMixin, bpy.types.Operator)``) provides ``synchronous`` (a property),
    ``execute`` (the synchronous run), ``_plan_or_report(context)`` (a checked plan, or None after reporting),
    ``_job_fn(plan)`` (the thread's ``fn(progress, cancel)``; no bpy inside), ``_status_text(fraction)`` (the
    status bar line) and ``_on_job_done(context, job)`` (reports the finished job, returns the modal's set).
    """

    _timer = None
    _job = None
    _plan = None

    def invoke(self, context, event):
        """Check the input, then run in the background; synchronous in background mode or without a window."""
        import bpy  # here, not at module level: Job stays importable without Blender

        if bpy.app.background or self.synchronous or context.window is None:
            return self.execute(context)
        if not self._take_plan(context):
            return {"CANCELLED"}
        self._start_job(context, self._job_fn(self._plan))
        return {"RUNNING_MODAL"}

    def _take_plan(self, context) -> bool:
        """Check the input into ``self._plan``; False (already reported) when it is unusable."""
        plan = self._plan_or_report(context)
        if plan is None:
            return False
        self._plan = plan
        return True

    def _start_job(self, context, fn) -> None:
        """Start ``fn`` in a :class:`Job`, a 0.1 s timer that polls it, the modal handler and the progress bar."""
        self._job = Job(fn).start()
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.1, window=context.window)
        wm.modal_handler_add(self)
        wm.progress_begin(0, 100)
        self._status(context, 0.0)

    def _status(self, context, fraction: float) -> None:
        """Show ``fraction`` on the progress bar and the status bar."""
        context.window_manager.progress_update(int(round(100 * fraction)))
        if context.workspace is not None:
            context.workspace.status_text_set(self._status_text(fraction))

    def _cleanup(self, context) -> None:
        """Remove the timer, end the progress bar and clear the status bar."""
        wm = context.window_manager
        if self._timer is not None:
            wm.event_timer_remove(self._timer)
            self._timer = None
        wm.progress_end()
        if context.workspace is not None:
            context.workspace.status_text_set(None)

    def modal(self, context, event):
        """Esc asks the job to stop; timer events update the progress; a finished job goes to ``_on_job_done``."""
        job = self._job
        if event.type == "ESC" and event.value == "PRESS" and not job.cancelled:
            job.cancel()  # the work stops at its next check; the scene is never touched
        if event.type != "TIMER" and not job.done:
            return {"PASS_THROUGH"}
        if not job.done:
            self._status(context, job.fraction)
            return {"RUNNING_MODAL"}
        self._cleanup(context)
        return self._on_job_done(context, job)

    def cancel(self, context):
        """Blender ends the modal (file load, window closed): stop the thread and clean up."""
        if self._job is not None:
            self._job.cancel()
        self._cleanup(context)
