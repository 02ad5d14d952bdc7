"""Readers and writers: JSON shape, Live Link Face CSV (real iPhone takes), NPZ, and bad input."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from dreamtalk.core import formats
from dreamtalk.core.errors import InputError
from dreamtalk.core.formats import parse_timecode, read_animation, write_animation
from dreamtalk.rigs.arkit import ARKIT_NAMES

# Live Link Face header written out here, independently of the library: Apple's order in PascalCase with
# JawRight before JawLeft and MouthRight before MouthLeft, then head and eye rotations.
_PASCAL = [n[0].upper() + n[1:] for n in ARKIT_NAMES]
_PASCAL[15], _PASCAL[16] = "JawRight", "JawLeft"
_PASCAL[21], _PASCAL[22] = "MouthRight", "MouthLeft"
POSE = ["HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
        "RightEyeYaw", "RightEyePitch", "RightEyeRoll"]
LLF_HEADER = ["Timecode", "BlendshapeCount"] + _PASCAL + POSE


def read_columns(path: Path) -> dict[str, np.ndarray]:
    """Parse a CSV by its own header with the csv module: column name -> float values (Timecode as str)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], [r for r in rows[1:] if r]
    out = {}
    for j, name in enumerate(header):
        col = [r[j] for r in body]
        out[name] = np.array(col) if name == "Timecode" else np.array(col, dtype=np.float64)
    return out


def write_llf(path: Path, frames: int = 120, fps: int = 60, seed: int = 0, header=None, start=(1, 2, 3)):
    """A synthetic Live Link Face take with nonzero head and eye rotations; returns (T, 61) values in header order."""
    rng = np.random.default_rng(seed)
    header = header or LLF_HEADER
    # Weights in [0, 1], rotations in radians, chosen by column NAME so any header order works.
    vals = np.stack([rng.uniform(-0.6, 0.6, frames) if h in POSE else rng.random(frames) for h in header[2:]], 1)
    h, m, s = start
    lines = [",".join(header)]
    for k in range(frames):
        sec = s + k // fps
        tc = f"{h:02d}:{m + sec // 60:02d}:{sec % 60:02d}:{k % fps:02d}.{(k * 37) % 1000:03d}"
        lines.append(",".join([tc, "61"] + [f"{v:.10f}" for v in vals[k]]))
    path.write_text("\n".join(lines) + "\n")
    return vals


# ---- JSON ---------------------------------------------------------------------------------------------
def test_json_exact_shape(tmp_path, make_anim):
    a = make_anim(12, fps=25.0, emotion="sad", intensity=0.5, model_version="test")
    p = write_animation(a, tmp_path / "a.json")
    d = json.loads(p.read_text())
    assert d["format"] == "dreamtalk.face-animation" and d["version"] == 1
    assert d["fps"] == 25.0 and isinstance(d["fps"], float)
    assert d["blendshape_names"] == list(ARKIT_NAMES)
    assert len(d["weights"]) == 12 and all(len(r) == 52 and all(isinstance(v, float) for v in r)
                                           for r in d["weights"])
    assert len(d["head_rotation"]) == 12 and all(len(r) == 3 for r in d["head_rotation"])
    assert d["metadata"] == {"emotion": "sad", "intensity": 0.5, "model_version": "test"}
    np.testing.assert_allclose(d["weights"], a.weights, atol=1e-7)
    b = read_animation(p)
    assert b.fps == 25.0 and b.metadata == a.metadata
    assert a.max_abs_difference(b) < 1e-6


def test_json_reads_names_in_any_order(tmp_path, make_anim):
    a = make_anim(5)
    d = formats.to_json_dict(a)
    order = sorted(range(52), key=lambda i: ARKIT_NAMES[i].lower())
    d["blendshape_names"] = [ARKIT_NAMES[i] for i in order]
    d["weights"] = [[row[i] for i in order] for row in d["weights"]]
    (tmp_path / "alpha.json").write_text(json.dumps(d))
    b = read_animation(tmp_path / "alpha.json")
    np.testing.assert_allclose(b.weights, a.weights, atol=1e-7)


# ---- Live Link Face CSV ---------------------------------------------------------------------------------
def test_real_sample_values_land_on_the_right_names(sample_csv):
    cols = read_columns(sample_csv)
    a = read_animation(sample_csv)
    assert a.num_frames == len(cols["Timecode"])
    # The test is meaningful only if the swapped pairs differ in this take.
    assert np.abs(cols["JawLeft"] - cols["JawRight"]).max() > 1e-3
    assert np.abs(cols["MouthLeft"] - cols["MouthRight"]).max() > 1e-3
    for name in ("jawLeft", "jawRight", "mouthLeft", "mouthRight"):
        np.testing.assert_allclose(a.channel(name), cols[name[0].upper() + name[1:]], atol=1e-7)
    for name in ARKIT_NAMES:
        np.testing.assert_allclose(a.channel(name), cols[name[0].upper() + name[1:]], atol=1e-7)
    np.testing.assert_allclose(a.head_rotation, np.stack([cols["HeadPitch"], cols["HeadYaw"], cols["HeadRoll"]], 1),
                               atol=1e-7)


def test_real_sample_is_60fps(sample_csv):
    a = read_animation(sample_csv)
    # Nominal 60 fps from the timecodes; the true rate comes from the timecode span (the phone runs at 59.9).
    assert a.metadata["timecode_rate"] == 60
    assert abs(a.fps - 60.0) < 0.6 and a.fps != 60.0
    tcs = read_columns(sample_csv)["Timecode"]
    span = parse_timecode(tcs[-1], 60) - parse_timecode(tcs[0], 60)
    assert abs(span - (a.num_frames - 1) / a.fps) < 1e-3  # durations follow the timecode clock
    frames = [int(tc.split(":")[3].split(".")[0]) for tc in read_columns(sample_csv)["Timecode"]]
    assert max(frames) == 59


def test_real_sample_round_trip_through_cli(tmp_path, sample_csv, run_cli):
    r1 = run_cli("convert", sample_csv, tmp_path / "s.json")
    assert r1.returncode == 0, r1.stderr
    r2 = run_cli("convert", tmp_path / "s.json", tmp_path / "s.csv")
    assert r2.returncode == 0, r2.stderr
    src, out = read_columns(sample_csv), read_columns(tmp_path / "s.csv")
    assert len(out) == 63 and list(out)[:2] == ["Timecode", "BlendshapeCount"]
    assert (out["BlendshapeCount"] == 61).all()
    for name in list(src)[2:]:
        err = np.abs(src[name] - out[name]).max()
        assert err <= 1e-6, (name, err)
    # The take's start time survives (later timecodes are rewritten on a regular 60 fps grid).
    assert out["Timecode"][0] == src["Timecode"][0]


@pytest.mark.parametrize("fps", [30, 60])
def test_synthetic_csv_round_trip_with_head_and_eyes(tmp_path, fps):
    vals = write_llf(tmp_path / "in.csv", frames=150, fps=fps, seed=fps)
    a = read_animation(tmp_path / "in.csv")
    assert a.fps == fps and a.num_frames == 150
    assert np.abs(a.head_rotation).max() > 0.1  # nonzero head, unlike the real sample
    write_animation(a, tmp_path / "mid.json")
    b = read_animation(tmp_path / "mid.json")
    write_animation(b, tmp_path / "out.csv")
    out = read_columns(tmp_path / "out.csv")
    for j, name in enumerate(LLF_HEADER[2:]):
        assert np.abs(out[name] - vals[:, j]).max() <= 1e-6, name
    # Head columns map to [pitch, yaw, roll] by name.
    np.testing.assert_allclose(a.head_rotation[:, 0], vals[:, 52 + POSE.index("HeadPitch")], atol=1e-6)
    np.testing.assert_allclose(a.head_rotation[:, 1], vals[:, 52 + POSE.index("HeadYaw")], atol=1e-6)
    np.testing.assert_allclose(a.eye_gaze, vals[:, 55:], atol=1e-6)


def test_csv_columns_mapped_by_name_not_position(tmp_path):
    shuffled = ["Timecode", "BlendshapeCount"] + sorted(LLF_HEADER[2:])
    vals = write_llf(tmp_path / "shuffled.csv", frames=10, header=shuffled)
    a = read_animation(tmp_path / "shuffled.csv")
    j = shuffled.index("JawOpen") - 2
    np.testing.assert_allclose(a.channel("jawOpen"), vals[:, j], atol=1e-7)
    j = shuffled.index("HeadRoll") - 2
    np.testing.assert_allclose(a.head_rotation[:, 2], vals[:, j], atol=1e-7)


def test_csv_input_fps_override(tmp_path):
    write_llf(tmp_path / "a.csv", frames=20, fps=30)
    assert read_animation(tmp_path / "a.csv").fps == 30.0
    assert read_animation(tmp_path / "a.csv", fps=24).fps == 24.0


def test_timecode_helpers():
    assert formats.parse_timecode("00:00:01:30.500", 60) == pytest.approx(1.5 + 0.5 / 60)
    assert formats.format_timecode(1.5 + 0.5 / 60, 60) == "00:00:01:30.500"
    assert formats.format_timecode(3600 + 61 + 29 / 30, 30) == "01:01:01:29.000"
    with pytest.raises(InputError, match="bad timecode"):
        formats.parse_timecode("12:00", 30)


# ---- NPZ ----------------------------------------------------------------------------------------------
def test_npz_round_trip_exact(tmp_path, make_anim):
    a = make_anim(40, fps=50.0, seed=9, gaze=True, emotion="angry", source_audio="a.wav")
    write_animation(a, tmp_path / "a.npz")
    with np.load(tmp_path / "a.npz", allow_pickle=False) as z:
        assert list(z["blendshape_names"]) == list(ARKIT_NAMES)
    b = read_animation(tmp_path / "a.npz")
    assert b.fps == 50.0 and b.metadata == a.metadata
    np.testing.assert_array_equal(b.weights, a.weights)
    np.testing.assert_array_equal(b.head_rotation, a.head_rotation)
    np.testing.assert_array_equal(b.eye_gaze, a.eye_gaze)


# ---- bad input ------------------------------------------------------------------------------------------
def _good_json(frames=3) -> dict:
    return {"format": "dreamtalk.face-animation", "version": 1, "fps": 30.0, "blendshape_names": list(ARKIT_NAMES),
            "weights": [[0.1] * 52 for _ in range(frames)], "head_rotation": [[0.0] * 3 for _ in range(frames)],
            "metadata": {}}


def _bad_inputs(tmp: Path) -> list[tuple[Path, str]]:
    """(input file, expected message fragment) for each kind of bad input."""
    cases = []
    write_llf(tmp / "good.csv", frames=4)
    lines = (tmp / "good.csv").read_text().splitlines()

    p = tmp / "corrupt.csv"
    p.write_text("\n".join(lines[:2] + [lines[2].replace(lines[2].split(",")[19], "abc", 1)] + lines[3:]) + "\n")
    cases.append((p, "line 3: column JawOpen is not a number"))
    p = tmp / "truncated.csv"
    p.write_text("\n".join(lines[:3] + [lines[3][:200]]) + "\n")
    cases.append((p, "line 4 has"))
    p = tmp / "missing.csv"
    keep = [j for j, h in enumerate(lines[0].split(",")) if h not in ("JawOpen", "MouthClose")]
    p.write_text("\n".join(",".join(line.split(",")[j] for j in keep) for line in lines) + "\n")
    cases.append((p, "missing 2 blendshape column(s): JawOpen, MouthClose"))
    p = tmp / "nan.csv"
    p.write_text("\n".join(lines[:3] + [lines[3].replace(lines[3].split(",")[5], "nan", 1)]) + "\n")
    cases.append((p, "line 4: value is not a number"))
    p = tmp / "range.csv"
    p.write_text("\n".join(lines[:2] + [lines[2].replace(lines[2].split(",")[19], "1.7", 1)]) + "\n")
    cases.append((p, "weight 1.7 out of range [0, 1] at frame 1, channel jawOpen"))
    p = tmp / "header_only.csv"
    p.write_text(lines[0] + "\n")
    cases.append((p, "no frames"))
    p = tmp / "not_livelink.csv"
    p.write_text("a,b,c\n1,2,3\n")
    cases.append((p, "no Timecode column"))

    d = _good_json()
    d["blendshape_names"] = d["blendshape_names"][:51]
    d["weights"] = [r[:51] for r in d["weights"]]
    (tmp / "names51.json").write_text(json.dumps(d))
    cases.append((tmp / "names51.json", "blendshape_names has 51 names, expected 52"))
    d = _good_json()
    d["weights"][1][17] = float("nan")
    (tmp / "nan.json").write_text(json.dumps(d))  # json writes NaN
    cases.append((tmp / "nan.json", "weights value is not a number at frame 1"))
    d = _good_json()
    d["weights"][2][17] = 1.5
    (tmp / "range.json").write_text(json.dumps(d))
    cases.append((tmp / "range.json", "weight 1.5 out of range [0, 1] at frame 2, channel jawOpen"))
    d = _good_json()
    d["weights"][0][3] = -0.5
    (tmp / "negative.json").write_text(json.dumps(d))
    cases.append((tmp / "negative.json", "out of range"))
    (tmp / "truncated.json").write_text(json.dumps(_good_json())[:300])
    cases.append((tmp / "truncated.json", "corrupt JSON at line 1"))
    d = _good_json()
    d["format"] = "something.else"
    (tmp / "otherformat.json").write_text(json.dumps(d))
    cases.append((tmp / "otherformat.json", "not a dreamtalk.face-animation file"))

    for suffix in (".csv", ".json", ".npz"):
        (tmp / f"empty{suffix}").write_bytes(b"")
        cases.append((tmp / f"empty{suffix}", "file is empty"))
    garbage = bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8))
    for suffix, msg in ((".csv", "not a text file"), (".json", "not a text file"), (".npz", "corrupt NPZ")):
        (tmp / f"garbage{suffix}").write_bytes(garbage)
        cases.append((tmp / f"garbage{suffix}", msg))
    (tmp / "anim.txt").write_text("hello")
    cases.append((tmp / "anim.txt", "unsupported animation format .txt"))
    cases.append((tmp / "absent.csv", "no such file"))
    return cases


def _assert_no_output(out_dir: Path, before: set[str]):
    assert set(x.name for x in out_dir.iterdir()) == before, "an output or temporary file was left behind"


def test_bad_inputs_via_cli_main(tmp_path, capsys):
    from dreamtalk.cli import main

    inp, out_dir = tmp_path / "in", tmp_path / "out"
    inp.mkdir(), out_dir.mkdir()
    for path, msg in _bad_inputs(inp):
        for target in ("o.json", "o.csv", "o.npz"):
            before = set(x.name for x in out_dir.iterdir())
            rc = main(["convert", str(path), str(out_dir / target)])
            err = capsys.readouterr().err
            assert rc == 2, (path.name, err)
            assert err.count("\n") == 1 and err.startswith("dreamtalk convert: error: "), err
            assert msg in err, (path.name, msg, err)
            assert path.name in err  # the message names the file
            _assert_no_output(out_dir, before)


def test_bad_inputs_via_subprocess(tmp_path, run_cli):
    inp, out_dir = tmp_path / "in", tmp_path / "out"
    inp.mkdir(), out_dir.mkdir()
    for path, msg in _bad_inputs(inp):
        r = run_cli("convert", path, out_dir / "o.json")
        assert r.returncode == 2, (path.name, r.stderr)
        assert r.stdout == "" and r.stderr.count("\n") == 1 and msg in r.stderr, (path.name, r.stderr)
        assert "Traceback" not in r.stderr
        _assert_no_output(out_dir, set())


def test_failed_conversion_keeps_existing_output(tmp_path, run_cli):
    d = _good_json()
    (tmp_path / "ok.json").write_text(json.dumps(d))
    (tmp_path / "out.csv").write_text("previous content")
    (tmp_path / "bad.json").write_text(json.dumps(d)[:100])
    r = run_cli("convert", tmp_path / "bad.json", tmp_path / "out.csv")
    assert r.returncode == 2
    assert (tmp_path / "out.csv").read_text() == "previous content"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["bad.json", "ok.json", "out.csv"]


def test_bad_output_suffix(tmp_path, run_cli):
    (tmp_path / "ok.json").write_text(json.dumps(_good_json()))
    r = run_cli("convert", tmp_path / "ok.json", tmp_path / "out.txt")
    assert r.returncode == 2 and "unsupported output format .txt" in r.stderr and r.stderr.count("\n") == 1
    assert not (tmp_path / "out.txt").exists()
    assert sorted(x.name for x in tmp_path.iterdir()) == ["ok.json"]


def test_write_failure_leaves_nothing(tmp_path, make_anim, monkeypatch):
    a = make_anim(5)

    def boom(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(OSError):
        write_animation(a, tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []
