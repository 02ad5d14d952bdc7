"""Progress bars: redraws on a terminal, whole lines (no carriage returns) in a log file."""
import io

from dreamtalk.core import progress
from dreamtalk.core.progress import Progress


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_log_file_gets_whole_lines_at_most_every_tenth(monkeypatch):
    clock = iter(range(1000))
    monkeypatch.setattr(progress.time, "monotonic", lambda: float(next(clock)))  # every update may draw
    s = io.StringIO()
    with Progress(50, "synth", stream=s, enabled=True) as p:
        for _ in range(50):
            p.update(1)
    lines = s.getvalue().splitlines()
    assert "\r" not in s.getvalue() and s.getvalue().endswith("\n")
    assert 2 <= len(lines) <= 11 and lines[-1].startswith("synth 50/50 (100%)")


def test_terminal_gets_redraws_and_one_final_newline():
    s = Tty()
    with Progress(3, "gen", stream=s, enabled=True) as p:
        p.update(3)
    assert s.getvalue().startswith("\rgen [") and s.getvalue().count("\n") == 1
