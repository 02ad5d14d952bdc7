"""Naturalness statistics: head jitter and steps, blink events and widths, activity, on curves of known shape."""
import json

import numpy as np
import pytest

from dreamtalk.core.animation import FaceAnimation
from dreamtalk.core.eval.naturalness import (animation_stats, autocorr_time, bars, evaluate_set, find_blinks,
                                             naturalness_table, pool)
from dreamtalk.rigs.arkit import INDEX

FPS = 30.0


def _anim(t=300, head=None, blink=None, brow=None, fps=FPS):
    w = np.zeros((t, 52), np.float32)
    if blink is not None:
        w[:, INDEX["eyeBlinkLeft"]] = blink
        w[:, INDEX["eyeBlinkRight"]] = blink
    if brow is not None:
        w[:, INDEX["browInnerUp"]] = brow
    return FaceAnimation(fps, w, None if head is None else np.asarray(head, np.float32))


def _blink_curve(t, centres, width_frames, peak):
    """Raised-cosine blinks whose half-maximum width is ``width_frames``."""
    c = np.arange(t, dtype=float)
    out = np.zeros(t)
    for x in centres:
        u = (c - x) / width_frames  # cos^2 bump: half maximum at |u| = 0.5
        out = np.maximum(out, np.where(np.abs(u) < 1, peak * np.cos(np.pi * u / 2) ** 2, 0.0))
    return out


def test_white_noise_head_trembles_and_smooth_head_does_not():
    rng = np.random.default_rng(0)
    t = 3000
    noisy = np.radians(rng.normal(0, 1.0, (t, 3)))
    k = np.exp(-0.5 * (np.arange(-30, 31) / 8.0) ** 2)
    smooth = np.stack([np.convolve(rng.normal(0, 1, t + 60), k / k.sum(), "valid")[:t] for _ in range(3)], 1)
    smooth = np.radians(smooth * 10)
    rn = evaluate_set([_anim(t, head=noisy)])
    rs = evaluate_set([_anim(t, head=smooth)])
    assert rn["head_jitter"] == pytest.approx(np.sqrt(3), rel=0.05)  # white noise: E|d2|/E|d1| = sqrt(6/2)
    assert rs["head_jitter"] < 0.3
    assert rn["head_hf_share"] > 0.8 and rs["head_hf_share"] < 0.05
    assert rn["head_max_step"] > 3.0 and rs["head_max_step"] < 1.0
    assert rs["head_autocorr_ms"] > 5 * rn["head_autocorr_ms"]


def test_head_hf_share_does_not_depend_on_clip_length():
    """The same slow wander with a little 3 Hz sway, as one long take and as 3.3 s clips, gives the same share;
    clips shorter than a segment add nothing."""
    from dreamtalk.core.eval.naturalness import HEAD_SEGMENT
    rng = np.random.default_rng(1)
    t = 3000
    k = np.exp(-0.5 * (np.arange(-60, 61) / 20.0) ** 2)
    wander = np.stack([np.cumsum(np.convolve(rng.normal(0, 1, t + 120), k / k.sum(), "valid")[:t]) for _ in range(3)], 1)
    sway = 0.05 * np.sin(2 * np.pi * 3.0 * np.arange(t) / FPS)[:, None]
    head = np.radians(wander * 0.3 + sway)
    long = evaluate_set([_anim(t, head=head)])["head_hf_share"]
    short = evaluate_set([_anim(100, head=head[a:a + 100]) for a in range(0, t, 100)])["head_hf_share"]
    assert long > 0 and short == pytest.approx(long, rel=0.3)
    tiny = [_anim(HEAD_SEGMENT - 1, head=head[a:a + HEAD_SEGMENT - 1]) for a in range(0, t - 100, 100)]
    assert evaluate_set(tiny)["head_hf_share"] is None


def test_head_step_is_in_degrees_and_a_capture_without_head_has_no_head_stats():
    h = np.zeros((100, 3))
    h[50:, 1] = np.radians(2.5)  # one 2.5 degree twitch in yaw
    r = evaluate_set([_anim(100, head=h)])
    assert r["head_max_step"] == pytest.approx(2.5, abs=1e-4)
    r0 = evaluate_set([_anim(100, head=np.zeros((100, 3)))])
    assert r0["head_jitter"] is None and r0["head_max_step"] is None


def test_blinks_counted_with_width_and_peak():
    t = 1800  # one minute
    centres = np.arange(60, t - 30, 120)  # 15 blinks
    b = _blink_curve(t, centres, width_frames=4.5, peak=0.7)  # 150 ms at half maximum
    r = evaluate_set([_anim(t, blink=b)])
    assert r["blinks_per_min"] == pytest.approx(len(centres), abs=1e-9)
    assert r["blink_width_ms"] == pytest.approx(150, abs=8)
    assert r["blink_peak"] == pytest.approx(0.7, abs=0.01)


def test_one_frame_flicker_is_narrow_and_ripples_are_not_extra_blinks():
    t = 600
    b = np.zeros(t)
    b[100] = 0.4  # a one-frame flicker
    b[300:310] = 0.6 + 0.02 * np.sin(np.arange(10) * 2.5)  # one blink with ripples on its top
    b[500] = 0.2  # under the height threshold
    ev = find_blinks(b)
    assert len(ev) == 2
    assert ev[0][0] == 100 and ev[0][2] == pytest.approx(1.0, abs=0.01)  # half-prominence width: one frame
    assert ev[1][2] > 8


def test_stats_resample_to_30fps_and_pool_weights_by_duration():
    t60 = 1200
    b = _blink_curve(t60, [300, 900], width_frames=9, peak=0.8)  # 150 ms at 60 fps
    r = evaluate_set([_anim(t60, blink=b, fps=60.0)])
    assert r["seconds"] == pytest.approx(20.0, abs=0.05)
    assert r["blinks_per_min"] == pytest.approx(6.0, abs=0.05)
    assert r["blink_width_ms"] == pytest.approx(150, abs=12)
    s1 = animation_stats(_anim(300, brow=np.tile([0.0, 0.2], 150)))  # std 0.1 over 10 s
    s2 = animation_stats(_anim(900, brow=np.zeros(900)))  # std 0 over 30 s
    assert pool([s1, s2])["brow_inner_std"] == pytest.approx(0.1 * 10 / 40, rel=1e-5)


def test_autocorr_time_of_a_slow_sine_and_flat_signal():
    x = np.sin(2 * np.pi * 0.5 * np.arange(300) / FPS)  # 0.5 Hz: autocorr = cos, under 0.5 after 1/6 period
    assert autocorr_time(x) == pytest.approx(1 / 3, abs=0.04)
    assert autocorr_time(np.ones(50)) is None


def test_bars_and_table():
    rng = np.random.default_rng(1)
    good = evaluate_set([_anim(1800, head=np.radians(np.cumsum(np.cumsum(rng.normal(0, 0.002, (1800, 3)), 0), 0)),
                               blink=_blink_curve(1800, np.arange(60, 1700, 90), 5, 0.7),
                               brow=0.2 * (np.sin(np.arange(1800) / 20) > 0))])
    v = bars(good)
    assert v["blinks 10-30/min"] and v["blink_width 100-300ms"] and v["blink_peak>=0.5"]
    assert v["brow_inner_std>=0.05"] and v["head_jitter<=0.5"]
    table = naturalness_table({"generated": good, "corpus": good}, compare_to="corpus")
    assert "head_jitter" in table and "0%" in table


def test_cli_naturalness_on_a_tiny_dev_set(tmp_path, run_cli):
    import wave
    root = tmp_path / "dev"
    (root / "audio").mkdir(parents=True)
    (root / "phones").mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for i in range(2):
        a = (rng.normal(0, 0.1, 32000) * (np.sin(np.arange(32000) / 900) > 0)).clip(-1, 1)
        with wave.open(str(root / f"audio/c{i}.wav"), "wb") as f:
            f.setnchannels(1), f.setsampwidth(2), f.setframerate(16000)
            f.writeframes((a * 32767).astype("<i2").tobytes())
        (root / f"phones/c{i}.json").write_text(json.dumps({"phones": [["SIL", 0, 0.5], ["AA", 0.5, 2.0]],
                                                              "text": "a"}))
        rows.append({"id": f"c{i}", "split": "dev", "audio": f"audio/c{i}.wav", "phones": f"phones/c{i}.json",
                     "duration": 2.0, "text": "a"})
    (root / "clips.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "nat.json"
    png = tmp_path / "nat.png"
    r = run_cli("eval", "naturalness", "--data", str(root), "--json", str(out), "--plot", str(png), "--design",
                "-q")
    assert r.returncode == 0, r.stderr
    assert "head_jitter" in r.stdout and "bars:" in r.stdout and "gap(generated vs design)" in r.stdout
    res = json.loads(out.read_text())
    assert res["sets"]["generated"]["clips"] == 2 and res["sets"]["generated"]["head_jitter"] is not None
    # The corpus's rules on the same two clips, once per synthetic actor: a head that wanders, eyes that blink.
    assert res["sets"]["design"]["clips"] == 16 and res["sets"]["design"]["head_speed_p50"] > 0
    assert png.stat().st_size > 5000
    bad = run_cli("eval", "naturalness", "--data", str(root), "--corpus", str(tmp_path / "nope"), "-q")
    assert bad.returncode == 2 and "no clips.jsonl" in bad.stderr
