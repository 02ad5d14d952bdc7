"""Hand-made cases for every event type and threshold of shared/specs/lipsync-metric.md."""
import re

import numpy as np
import pytest

from dreamtalk.core.animation import FaceAnimation
from dreamtalk.core.eval.lipsync import evaluate, frames_in, summary_line
from dreamtalk.core.eval.systems import jawflap, oracle
from dreamtalk.core.lips.phones import Phone
from dreamtalk.rigs.arkit import ARKIT_NAMES, INDEX

FPS = 30.0


def anim(g, pucker=None, fps=FPS):
    """An animation whose lip gap equals ``g`` (jawOpen alone) and rounding equals ``pucker``."""
    g = np.asarray(g, np.float32)
    w = np.zeros((len(g), 52), np.float32)
    w[:, INDEX["jawOpen"]] = g
    if pucker is not None:
        w[:, INDEX["mouthPucker"]] = pucker
    return FaceAnimation(fps, w)


def seq(*items):
    """Phones from (name, duration) pairs laid end to end from 0."""
    out, t = [], 0.0
    for ph, d in items:
        out.append(Phone(ph, round(t, 6), round(t + d, 6)))
        t += d
    return out


def frames_of(start, end, fps=FPS):
    return np.arange(int(np.ceil(start * fps)), int(np.ceil(end * fps)))


# ---- frame selection -------------------------------------------------------------------------------

def test_frames_in_uses_frame_centres():
    # centres at 0.0167, 0.05, 0.0833, ...: [0.05, 0.1) holds frames 1 and 2 (centre 0.1 of none).
    assert list(frames_in(0.05, 0.1, 30, 100)) == [1, 2]
    assert list(frames_in(0.0, 0.02, 30, 100)) == [0]


def test_interval_without_centre_uses_frame_nearest_midpoint():
    # At 10 fps centres are 0.05, 0.15, 0.25; [0.16, 0.23) has none, midpoint 0.195 -> frame 1.
    assert list(frames_in(0.16, 0.23, 10, 5)) == [1]
    phones = [Phone("SIL", 0.0, 0.16), Phone("AA", 0.16, 0.23), Phone("SIL", 0.23, 0.5)]
    hit = evaluate([(anim([0, 1, 0, 0, 0], fps=10), phones)])
    miss = evaluate([(anim([0, 0, 1, 0, 0], fps=10), phones)])
    assert hit["counts"]["vowel"] == 1 and hit["vowel"] == 1.0
    assert miss["vowel"] == 0.0


# ---- bilabial closures -----------------------------------------------------------------------------

BIL = seq(("SIL", 0.5), ("AA", 0.5), ("M", 0.1), ("AA", 0.5), ("SIL", 0.5))  # M = [1.0, 1.1)


def bilabial_rate(closed_frame, value=0.0):
    g = np.zeros(int(2.1 * FPS), np.float32)
    g[frames_of(0.5, 1.6)] = 1.0  # open through the vowels and the M: p95 = 1, closed_thr = 0.2
    g[closed_frame] = value
    return evaluate([(anim(g), BIL)])


def test_bilabial_tolerance_boundaries():
    # Window [1.0 - 1/30, 1.1 + 1/30) = [0.9667, 1.1333): centres of frames 29..33 lie inside.
    assert bilabial_rate(33)["bilabial"] == 1.0
    assert bilabial_rate(29)["bilabial"] == 1.0
    assert bilabial_rate(34)["bilabial"] == 0.0
    assert bilabial_rate(28)["bilabial"] == 0.0


def test_bilabial_closed_threshold():
    assert bilabial_rate(31, 0.19)["bilabial"] == 1.0  # < 0.2 * p95
    assert bilabial_rate(31, 0.21)["bilabial"] == 0.0


def test_closed_threshold_floor_and_short_bilabials():
    # p95 tiny: closed_thr = 0.03 floor, so 0.025 closes and 0.035 does not.
    g = np.full(int(2.1 * FPS), 0.05, np.float32)
    g[31] = 0.025
    assert evaluate([(anim(g), BIL)])["bilabial"] == 1.0
    g[31] = 0.035
    assert evaluate([(anim(g), BIL)])["bilabial"] == 0.0
    short = seq(("SIL", 0.5), ("AA", 0.5), ("M", 0.029), ("AA", 0.5), ("SIL", 0.5))
    assert evaluate([(anim(np.ones(60)), short)])["counts"]["bilabial"] == 0


# ---- lips apart ------------------------------------------------------------------------------------

def lips(phones, g):
    return evaluate([(anim(g), phones)])


def test_lips_apart_hit_and_miss():
    ph = seq(("SIL", 0.3), ("AA", 0.3), ("T", 0.2), ("AA", 0.3), ("SIL", 0.3))  # T = [0.6, 0.8)
    g = np.zeros(int(1.4 * FPS), np.float32)
    g[frames_of(0.3, 1.1)] = 1.0
    r = lips(ph, g)
    assert r["counts"]["lips_apart"] == 1 and r["lips_apart"] == 1.0
    g2 = g.copy()
    g2[frames_of(0.65, 0.75)] = 0.0  # closed over the middle half [0.65, 0.75) -> median below threshold
    assert lips(ph, g2)["lips_apart"] == 0.0
    g3 = g.copy()
    g3[frames_of(0.6, 0.65)] = 0.0  # closed only in the first quarter: the middle half stays open
    assert lips(ph, g3)["lips_apart"] == 1.0


def test_lips_apart_excludes_labial_and_silence_neighbours_and_labials():
    g = np.ones(60, np.float32)
    for neighbour in ("M", "P", "B", "F", "V", "W", "SIL"):
        ph = seq(("SIL", 0.3), ("AA", 0.3), (neighbour, 0.2), ("T", 0.2), ("AA", 0.3), ("SIL", 0.3))
        assert lips(ph, g)["counts"]["lips_apart"] == 0, neighbour
    for labial in ("F", "V", "W"):
        ph = seq(("SIL", 0.3), ("AA", 0.3), (labial, 0.2), ("AA", 0.3), ("SIL", 0.3))
        assert lips(ph, g)["counts"]["lips_apart"] == 0
    short = seq(("SIL", 0.3), ("AA", 0.3), ("T", 0.049), ("AA", 0.3), ("SIL", 0.3))
    assert lips(short, g)["counts"]["lips_apart"] == 0


def test_bilabial_j_is_recall_plus_precision_minus_one():
    ph = seq(("SIL", 0.3), ("AA", 0.3), ("M", 0.1), ("AA", 0.3), ("T", 0.2), ("AA", 0.3), ("SIL", 0.3))
    always_closed = np.zeros(int(1.8 * FPS), np.float32)
    always_closed[frames_of(0.3, 0.6)] = 1.0  # first vowel open (sets p95), everything after closed
    r = lips(ph, always_closed)
    assert r["bilabial"] == 1.0 and r["lips_apart"] == 0.0 and r["bilabial_j"] == 0.0


def test_per_phone_counts_name_missed_bilabials_and_false_closures():
    from dreamtalk.core.eval.lipsync import per_phone_lines
    ph = seq(("SIL", 0.3), ("AA", 0.3), ("P", 0.1), ("AA", 0.3), ("N", 0.2), ("AA", 0.3), ("M", 0.1),
             ("AA", 0.3), ("S", 0.2), ("AA", 0.3), ("SIL", 0.3))
    g = np.zeros(int(3.0 * FPS), np.float32)
    g[frames_of(0.3, 2.7)] = 1.0  # open through the speech: P and M missed
    g[frames_of(1.05, 1.15)] = 0.0  # shut in the middle of N: a false closure; S stays open
    r = lips(ph, g)
    pp = r["per_phone"]
    assert pp["missed_closures"] == {"M": [1, 1], "P": [1, 1]}
    assert pp["false_closures"] == {"N": [1, 1], "S": [0, 1]}
    miss, false = per_phone_lines(r)
    assert miss == "missed closures (2/2): M 1/1, P 1/1" and false == "false closures (1/2): N 1/1"


# ---- vowels ----------------------------------------------------------------------------------------

def vowel_rate(v, peak, dur=0.2):
    ph = seq(("SIL", 0.5), ("AA", 0.5), ("SIL", 0.5), (v, dur), ("SIL", 0.5))
    g = np.zeros(int(2.3 * FPS), np.float32)
    g[frames_of(0.5, 1.0)] = 1.0  # p95 = 1: closed_thr 0.2, open_thr 0.4
    g[frames_of(1.5, 1.5 + dur)] = peak
    r = evaluate([(anim(g), ph)])
    # The AA is always a hit; return the rate of the second vowel alone.
    return r["hits"]["vowel"] - 1, r["counts"]["vowel"]


def test_vowel_open_threshold():
    assert vowel_rate("AE", 0.41) == (1, 2)  # open_thr = 0.4 * p95 = 0.4
    assert vowel_rate("AE", 0.39) == (0, 2)
    assert vowel_rate("AE", 0.25) == (0, 2)  # enough for a close vowel, not for an open one


def test_close_vowels_only_need_the_closed_threshold():
    for v in ("IY", "IH", "UW", "UH"):
        assert vowel_rate(v, 0.2) == (1, 2), v  # >= closed_thr is enough
        assert vowel_rate(v, 0.19) == (0, 2), v


def test_short_vowels_are_not_events():
    assert vowel_rate("AE", 1.0, dur=0.059)[1] == 1


# ---- rounding --------------------------------------------------------------------------------------

def rounding_result(base_pucker, uw_pucker):
    ph = seq(("SIL", 0.5), ("AA", 0.3), ("T", 0.1), ("UW", 0.2), ("SIL", 0.5))
    n = int(1.6 * FPS)
    g = np.zeros(n, np.float32)
    g[frames_of(0.5, 1.1)] = 1.0
    p = np.zeros(n, np.float32)
    p[frames_of(0.5, 0.8)] = base_pucker  # the non-rounded vowel AA sets the baseline
    p[frames_of(0.9, 1.1)] = uw_pucker
    return evaluate([(anim(g, p), ph)])


def test_rounding_absolute_floor():
    assert rounding_result(0.0, 0.15)["rounding"] == 1.0
    assert rounding_result(0.0, 0.14)["rounding"] == 0.0


def test_rounding_baseline_from_non_rounded_vowels():
    # A face that is always puckered 0.3 needs >= 0.4 on the UW.
    assert rounding_result(0.3, 0.39)["rounding"] == 0.0
    assert rounding_result(0.3, 0.41)["rounding"] == 1.0


def test_rounding_events_include_w_and_skip_short_ones():
    ph = seq(("SIL", 0.5), ("AA", 0.3), ("W", 0.1), ("OY", 0.2), ("OW", 0.049), ("AA", 0.2), ("SIL", 0.5))
    r = evaluate([(anim(np.ones(int(1.9 * FPS))), ph)])
    assert r["counts"]["rounding"] == 2


# ---- silence ---------------------------------------------------------------------------------------

def test_silence_trimming_and_minimum_length():
    for dur, expect in ((0.6, 1), (0.59, 0)):  # trimmed by 0.15 s each side, kept if >= 0.3 s
        ph = seq(("AA", 0.5), ("SIL", dur), ("AA", 0.5))
        assert evaluate([(anim(np.ones(60)), ph)])["counts"]["silence"] == expect


def test_silence_fraction_of_quiet_frames():
    ph = seq(("AA", 0.5), ("SIL", 0.9), ("AA", 0.5))  # trimmed SIL = [0.65, 1.25): 18 frames
    g = np.ones(int(1.9 * FPS), np.float32)
    g[frames_of(0.5, 1.4)] = 0.0
    assert evaluate([(anim(g), ph)])["silence"] == 1.0
    g[frames_of(0.65, 0.95)] = 0.9  # half of the kept frames open
    assert evaluate([(anim(g), ph)])["silence"] == pytest.approx(0.5)
    g[frames_of(0.65, 0.95)] = 0.39  # below open_thr = 0.4 still counts as quiet
    assert evaluate([(anim(g), ph)])["silence"] == 1.0


# ---- offset ----------------------------------------------------------------------------------------

def _speechlike(seed=0):
    rng = np.random.default_rng(seed)
    items = [("SIL", 0.4)]
    for _ in range(25):
        items += [(str(rng.choice(["M", "T", "S", "B"])), float(rng.uniform(0.05, 0.12))),
                  (str(rng.choice(["AA", "AE", "IY", "OW"])), float(rng.uniform(0.08, 0.2)))]
    items.append(("SIL", 0.4))
    return seq(*items)


def test_offset_sign_animation_late_is_positive():
    ph = _speechlike()
    dur = ph[-1].end
    audio = np.zeros(int(dur * 16000), np.float32)
    a = oracle(audio, 16000, ph, fps=FPS)
    assert evaluate([(a, ph)])["offset_ms"] == 0
    late = np.concatenate([np.repeat(a.weights[:1], 2, 0), a.weights[:-2]])  # 2 frames = 66.7 ms late
    off = evaluate([(FaceAnimation(FPS, late), ph)])["offset_ms"]
    assert 60 <= off <= 70
    early = np.concatenate([a.weights[2:], np.repeat(a.weights[-1:], 2, 0)])
    assert -70 <= evaluate([(FaceAnimation(FPS, early), ph)])["offset_ms"] <= -60


# ---- score and summary -----------------------------------------------------------------------------

def test_metric_without_events_is_left_out_of_score():
    ph = seq(("SIL", 0.5), ("AA", 0.3), ("T", 0.2), ("AA", 0.3), ("SIL", 0.5))  # no bilabial, no rounding
    g = np.zeros(int(1.8 * FPS), np.float32)
    g[frames_of(0.5, 1.3)] = 1.0
    r = evaluate([(anim(g), ph)])
    assert r["bilabial"] is None and r["bilabial_j"] is None and r["rounding"] is None
    assert r["counts"]["silence"] == 0 and r["silence"] is None
    assert r["score"] == pytest.approx(r["vowel"]) == pytest.approx(1.0)
    assert "rounding=n/a" in summary_line(r)


def test_score_is_mean_with_negative_bilabial_j_floored():
    ph = seq(("SIL", 0.7), ("AA", 0.3), ("M", 0.1), ("AA", 0.3), ("T", 0.2), ("UW", 0.3), ("SIL", 0.7))
    g = np.ones(int(2.6 * FPS), np.float32)
    g[frames_of(1.4, 1.6)] = 0.0  # closes on the T only: bilabial 0, lips_apart 0 -> j = -1
    r = evaluate([(anim(g), ph)])
    assert r["bilabial_j"] == -1.0
    assert r["score"] == pytest.approx(np.mean([0.0, r["vowel"], r["rounding"], r["silence"]]))


def test_summary_line_format():
    ph = _speechlike(2)
    ph[-1] = Phone("SIL", ph[-1].start, ph[-1].start + 0.8)  # long enough for a silence event
    a = oracle(np.zeros(int(ph[-1].end * 16000), np.float32), 16000, ph)
    line = summary_line(evaluate([(a, ph)]))
    pat = (r"score=\d\.\d{3} bilabial=\d\.\d{3} lips_apart=\d\.\d{3} bilabial_j=-?\d\.\d{3} "
           r"vowel=\d\.\d{3} rounding=\d\.\d{3} silence=\d\.\d{3} offset_ms=-?\d+")
    assert re.fullmatch(pat, line), line
    assert line == ("score=1.000 bilabial=1.000 lips_apart=1.000 bilabial_j=1.000 vowel=1.000 rounding=1.000 "
                    "silence=1.000 offset_ms=0")


def test_channels_are_mapped_by_name():
    g = np.zeros(int(2.1 * FPS), np.float32)
    g[frames_of(0.5, 1.6)] = 1.0
    g[31] = 0.0
    a = anim(g)
    order = list(reversed(ARKIT_NAMES))
    shuffled = FaceAnimation(FPS, a.weights[:, [INDEX[n] for n in order]], blendshape_names=tuple(order))
    assert evaluate([(shuffled, BIL)]) == evaluate([(a, BIL)])


def test_rates_are_micro_averaged_over_clips():
    ph1 = seq(("SIL", 0.5), ("AA", 0.5), ("M", 0.1), ("AA", 0.5), ("M", 0.1), ("AA", 0.5), ("SIL", 0.5))
    g1 = np.ones(int(2.7 * FPS), np.float32)
    g1[31] = g1[49] = 0.0  # both closures hit
    g2 = np.zeros(int(2.1 * FPS), np.float32)
    g2[frames_of(0.5, 1.6)] = 1.0
    r = evaluate([(anim(g1), ph1), (anim(g2), BIL)])
    assert r["counts"]["bilabial"] == 3 and r["bilabial"] == pytest.approx(2 / 3)


def test_reference_systems_on_synthetic_alignment():
    ph = _speechlike(1)
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(int(ph[-1].end * 16000))).astype(np.float32)
    r = evaluate([(oracle(audio, 16000, ph), ph)])
    assert r["score"] == pytest.approx(1.0)
    flap = jawflap(audio, 16000, None)  # steady noise: the jaw never closes for the bilabials
    assert evaluate([(flap, ph)])["bilabial"] < 0.5


def test_join_clips_makes_long_takes_with_shifted_phones_and_scores_like_the_parts():
    from dreamtalk.core.eval import Clip, join_clips
    clips = []
    for k in range(5):
        ph = seq(("SIL", 0.3), ("M", 0.1), ("AA", 0.3), ("SIL", 0.3))
        clips.append(Clip(f"c{k}", np.full(16000, 0.01 * (k + 1), np.float32), 16000, ph, f"t{k}"))
    takes = join_clips(clips, 2.5, gap=0.5)
    assert [t.id for t in takes] == ["c0+c1", "c2+c3", "c4"]
    a = takes[0]
    assert a.audio.size == 16000 * 2 + 8000 and a.text == "t0 t1" and np.all(a.audio[16000:24000] == 0)
    assert a.phones[4] == Phone("SIL", 1.0, 1.5) and a.phones[6].phone == "M"
    assert abs(a.phones[6].start - 1.8) < 1e-9  # the second clip's M, 1.5 s later than its own
    whole = evaluate([(oracle(c.audio, c.sr, c.phones, FPS), c.phones) for c in takes])
    parts = evaluate([(oracle(c.audio, c.sr, c.phones, FPS), c.phones) for c in clips])
    assert whole["counts"]["bilabial"] == parts["counts"]["bilabial"] == 5
    with pytest.raises(Exception, match="positive"):
        join_clips(clips, 0)
