"""The ``dreamtalk`` command line: help, convert, resampling, quiet mode, errors."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from dreamtalk.cli import main
from dreamtalk.core.formats import read_animation, write_animation


def test_help_lists_convert(run_cli):
    r = run_cli("--help")
    assert r.returncode == 0
    assert "convert" in r.stdout and "--quiet" in r.stdout
    from dreamtalk.cli import COMMANDS
    listed = r.stdout.split("{", 1)[1].split("}", 1)[0].split(",") if "{" in r.stdout else []
    assert all(c in r.stdout for c in COMMANDS) and "export" not in COMMANDS and "info" not in COMMANDS, listed


def test_module_entry_point_and_version():
    r = subprocess.run([sys.executable, "-m", "dreamtalk", "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("dreamtalk ")


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "usage: dreamtalk" in capsys.readouterr().out


def test_unknown_command_fails():
    with pytest.raises(SystemExit) as e:
        main(["frobnicate"])
    assert e.value.code == 2


def test_convert_chain_and_resample(tmp_path, make_anim, run_cli):
    a = make_anim(120, fps=60.0, seed=4, emotion="happy")
    write_animation(a, tmp_path / "a.json")
    r = run_cli("convert", tmp_path / "a.json", tmp_path / "b.npz")
    assert r.returncode == 0, r.stderr
    assert "120 frames at 60 fps" in r.stdout
    r = run_cli("convert", tmp_path / "b.npz", tmp_path / "c.csv", "--fps", "30")
    assert r.returncode == 0, r.stderr
    c = read_animation(tmp_path / "c.csv")
    assert c.fps == 30.0 and c.num_frames == 60
    # A 30 fps frame's centre lies halfway between the centres of the two 60 fps frames it spans.
    np.testing.assert_allclose(c.weights, 0.5 * (a.weights[0::2] + a.weights[1::2]), atol=1e-6)
    np.testing.assert_allclose(c.head_rotation, 0.5 * (a.head_rotation[0::2] + a.head_rotation[1::2]), atol=1e-6)


def test_quiet_is_silent(tmp_path, make_anim, run_cli):
    write_animation(make_anim(10), tmp_path / "a.json")
    for args in (["--quiet", "convert"], ["convert", "-q"]):
        r = run_cli(*args, tmp_path / "a.json", tmp_path / "b.csv")
        assert r.returncode == 0 and r.stdout == "" and r.stderr == ""


def test_bad_fps_option(tmp_path, make_anim, capsys):
    write_animation(make_anim(10), tmp_path / "a.json")
    assert main(["convert", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--fps", "-5"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "dreamtalk convert: error: --fps must be in (0, 1000], got -5.0"
    assert not (tmp_path / "b.json").exists()


def test_input_fps_option_for_csv(tmp_path, make_anim, run_cli):
    write_animation(make_anim(48, fps=24.0), tmp_path / "a.csv")
    r = run_cli("convert", tmp_path / "a.csv", tmp_path / "b.json", "--input-fps", "24")
    assert r.returncode == 0, r.stderr
    assert read_animation(tmp_path / "b.json").fps == 24.0


def test_a_live_link_csv_with_a_hair_of_overshoot_converts_with_one_warning_line(tmp_path, make_anim, run_cli):
    """Another tool's Live Link Face CSV (NeuroSync writes values down to -0.004) is read, clamped and said so."""
    write_animation(make_anim(20), tmp_path / "a.csv")
    lines = (tmp_path / "a.csv").read_text().splitlines()
    cells = lines[1].split(",")
    cells[2] = "-0.004081"  # the first blendshape column of the first frame
    lines[1] = ",".join(cells)
    (tmp_path / "a.csv").write_text("\n".join(lines) + "\n")
    r = run_cli("convert", tmp_path / "a.csv", tmp_path / "b.json")
    assert r.returncode == 0, r.stderr
    warn = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(warn) == 1 and "1 blendshape weights slightly outside [0, 1]" in warn[0] and "clamped" in warn[0]
    assert read_animation(tmp_path / "b.json").weights.min() >= 0.0
