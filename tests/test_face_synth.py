"""Synthetic faces: mouth track articulation, emotion layer signatures, their combination, determinism."""
import numpy as np
import pytest

from dreamtalk.core.animation import FaceAnimation
from dreamtalk.core.data.emotion_layer import AU_SIGNATURES, actor_style, emotion_layer
from dreamtalk.core.data.face import style_clip, synthesize_face
from dreamtalk.core.lips.mouth import mouth_track
from dreamtalk.core.prosody import analyze
from dreamtalk.core.emotions import EMOTIONS
from dreamtalk.core.errors import InputError
from dreamtalk.core.lips.phones import BILABIALS, CLOSE_VOWELS, LABIALS, SILENCE, VOWELS, Phone
from dreamtalk.rigs.arkit import ARKIT_NAMES, INDEX, MOUTH_SET

SR = 16000
FPS = 30.0


def seq(spec, t0=0.0):
    """Phones from 'PH:ms PH:ms ...'."""
    out, t = [], t0
    for tok in spec.split():
        ph, ms = tok.split(":")
        out.append(Phone(ph, t, t + int(ms) / 1000.0))
        t += int(ms) / 1000.0
    return out


def speech_audio(phones, loud=0.3, seed=0):
    """Voiced harmonics on vowels/sonorants, noise on other consonants, zeros in silence."""
    rng = np.random.default_rng(seed)
    n = int(round(phones[-1].end * SR))
    t = np.arange(n) / SR
    voiced = 120 * 2 ** (np.sin(2 * np.pi * 0.7 * t) / 6)
    ph_ = 2 * np.pi * np.cumsum(voiced) / SR
    harm = sum(np.sin(k * ph_) / k for k in range(1, 6))
    a = np.zeros(n)
    for p in phones:
        i, j = int(p.start * SR), int(p.end * SR)
        if p.phone == SILENCE:
            continue
        if p.phone in VOWELS or p.phone in ("M", "N", "L", "R", "W", "Y"):
            a[i:j] = loud * harm[i:j]
        else:
            a[i:j] = 0.2 * loud * rng.normal(size=j - i)
    return a.astype(np.float32)


# A sentence-like sequence with every class the tests look at; pauses long enough for the silence event.
SENT = seq("SIL:500 M:80 AA:160 P:70 IY:120 B:60 UW:150 T:70 AE:140 F:90 AO:130 V:70 EH:110 TH:90 AH:100 "
           "SIL:600 W:70 OW:170 K:80 IH:90 S:90 AA:150 M:60 AH:90 D:80 AY:180 SIL:500")
AUDIO = speech_audio(SENT)


def gap(w):
    """The lip gap g of specs/lipsync-metric.md, written out independently of the code under test."""
    w = np.clip(np.asarray(w, np.float64), 0, 1)
    c = lambda n: w[:, INDEX[n]]  # noqa: E731
    g = (np.clip(c("jawOpen") - c("mouthClose"), 0, 1) + 0.15 * (c("mouthLowerDownLeft") + c("mouthLowerDownRight"))
         + 0.15 * (c("mouthUpperUpLeft") + c("mouthUpperUpRight")) + 0.2 * c("mouthFunnel")
         - 0.15 * (c("mouthRollLower") + c("mouthRollUpper")) - 0.1 * (c("mouthPressLeft") + c("mouthPressRight")))
    return np.maximum(g, 0)


def frames(s, e, n):
    c = (np.arange(n) + 0.5) / FPS
    k = np.where((c >= s) & (c < e))[0]
    return k if k.size else np.array([min(n - 1, int((s + e) / 2 * FPS))])


def mean_in(x, phones, which):
    return np.mean([x[frames(p.start, p.end, len(x))].mean() for p in phones if p.phone in which])


@pytest.fixture(scope="module")
def faces():
    return {e: synthesize_face(AUDIO, SR, SENT, e, 1.0, actor=3, seed=11) for e in EMOTIONS}


def test_shapes_ranges_contract(faces):
    t = round(len(AUDIO) / SR * FPS)
    for e, d in faces.items():
        assert set(d) == {"weights", "mouth", "emotion", "head_rotation", "eye_gaze"}
        for k in ("weights", "mouth", "emotion"):
            assert d[k].shape == (t, 52) and d[k].dtype == np.float32
            assert d[k].min() >= 0.0 and d[k].max() <= 1.0
        assert d["head_rotation"].shape == (t, 3) and d["eye_gaze"].shape == (t, 6)
        assert np.all(np.isfinite(d["head_rotation"])) and np.all(np.isfinite(d["eye_gaze"]))
        # The mouth track carries articulation only.
        other = [i for i, n in enumerate(ARKIT_NAMES) if n not in MOUTH_SET]
        assert np.abs(d["mouth"][:, other]).max() == 0.0
    # The mouth track carries no emotion: it is the same under every emotion.
    assert np.array_equal(faces["neutral"]["mouth"], faces["surprised"]["mouth"])
    FaceAnimation(FPS, faces["happy"]["weights"], faces["happy"]["head_rotation"],
                  eye_gaze=faces["happy"]["eye_gaze"])  # valid animation


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_bilabials_close_and_other_consonants_open_under_every_emotion(faces, emotion):
    w = faces[emotion]["weights"]
    g = gap(w)
    p95 = np.percentile(g, 95)
    closed = max(0.03, 0.2 * p95)
    tol = 1 / 30
    bil = [p for p in SENT if p.phone in BILABIALS and p.duration >= 0.03]
    assert len(bil) >= 4
    for p in bil:
        assert g[frames(p.start - tol, p.end + tol, len(g))].min() < closed, (emotion, p)
    # Consonants away from labials and silence keep the lips apart (closures are not indiscriminate).
    for i, p in enumerate(SENT[1:-1], 1):
        if p.phone not in LABIALS and p.phone not in VOWELS and p.phone != SILENCE and p.duration >= 0.05:
            if not ({SENT[i - 1].phone, SENT[i + 1].phone} & (LABIALS | {SILENCE})):
                q = p.duration / 4
                assert np.median(g[frames(p.start + q, p.end - q, len(g))]) >= closed, (emotion, p)


def test_closure_holds_under_surprise_jaw_drop(faces):
    # Surprise opens the jaw, yet on P/B/M mouthClose follows the jaw so the gap stays shut.
    w = faces["surprised"]["weights"]
    e = faces["surprised"]["emotion"]
    assert e[:, INDEX["jawOpen"]].mean() > 0.05
    for p in SENT:
        if p.phone in BILABIALS:
            k = frames(p.start, p.end, len(w))
            assert (w[k, INDEX["jawOpen"]] - w[k, INDEX["mouthClose"]]).min() < 0.03


def test_rounding_lip_bite_tongue_and_rest(faces):
    w = faces["neutral"]["mouth"]
    r = np.maximum(w[:, INDEX["mouthPucker"]], w[:, INDEX["mouthFunnel"]])
    unrounded = np.concatenate([frames(p.start, p.end, len(w)) for p in SENT
                                if p.phone in VOWELS and p.phone not in ("UW", "OW", "OY", "AO", "ER")])
    base = np.median(r[unrounded])
    for p in SENT:
        k = frames(p.start, p.end, len(w))
        if p.phone in ("UW", "OW", "W"):
            assert r[k].max() >= max(0.3, base + 0.2), p
        if p.phone in ("F", "V"):  # lower lip tucked, jaw nearly closed, upper lip slightly up
            assert w[k, INDEX["mouthRollLower"]].max() >= 0.2, p
            assert w[k, INDEX["jawOpen"]].min() < 0.1, p
            assert 0.0 < w[k, INDEX["mouthUpperUpLeft"]].max() < 0.3, p
        if p.phone == "TH":
            assert 0.1 <= w[k, INDEX["tongueOut"]].max() <= 0.5
    # Tongue stays in elsewhere; long silence is rest.
    vowels = np.concatenate([frames(p.start + p.duration / 4, p.end - p.duration / 4, len(w))
                             for p in SENT if p.phone in VOWELS])
    assert w[vowels, INDEX["tongueOut"]].max() < 0.1
    sil = SENT[0]
    k = frames(sil.start, sil.end - 0.2, len(w))
    assert np.abs(w[k]).max() < 0.02


def test_jaw_follows_vowel_height_loudness_and_rate():
    def jaw_peak(vowel, ms=180, loud=0.3, trail="SIL:400"):
        ph = seq(f"SIL:300 B:80 {vowel}:{ms} B:80 {trail}")
        a = speech_audio(ph, loud)
        m = mouth_track(ph, round(len(a) / SR * FPS), FPS, analyze(a, SR, FPS).loudness())
        return m.weights[:, INDEX["jawOpen"]].max()

    open_, mid, close = jaw_peak("AA"), jaw_peak("EH"), jaw_peak("IY")
    assert open_ > mid > close
    assert jaw_peak("UW") < 0.6 * open_
    # Louder syllable (relative to the rest of the clip) opens wider.
    ph = seq("SIL:300 B:80 AA:180 B:80 SIL:300 B:80 AA:180 B:80 SIL:400")
    a = speech_audio(ph)
    i = int(1.2 * SR)
    a[i:] *= 0.1  # second syllable 20 dB quieter
    m = mouth_track(ph, round(len(a) / SR * FPS), FPS, analyze(a, SR, FPS).loudness())
    j = m.weights[:, INDEX["jawOpen"]]
    assert j[: int(1.2 * FPS)].max() > 1.2 * j[int(1.2 * FPS):].max()
    # Fast speech undershoots: a 50 ms AA opens less than a 200 ms one.
    assert jaw_peak("AA", ms=50) < 0.8 * jaw_peak("AA", ms=200)


def test_short_bilabial_between_open_vowels_still_closes():
    ph = seq("SIL:300 AA:120 B:35 AA:120 M:30 AE:120 SIL:400")
    m = mouth_track(ph, round(ph[-1].end * FPS), FPS)
    g = gap(m.weights)
    for p in ph:
        if p.phone in BILABIALS:
            assert g[frames(p.start - 1 / 30, p.end + 1 / 30, len(g))].min() < 0.03


def test_harness_scores_high_if_available(faces):
    lipsync = pytest.importorskip("dreamtalk.core.eval.lipsync")
    for e in ("neutral", "angry", "surprised"):
        d = faces[e]
        r = lipsync.evaluate([(FaceAnimation(FPS, d["weights"]), SENT)])
        assert r["score"] >= 0.9 and r["bilabial_j"] >= 0.9, (e, r)


def _signature_strength(d, emotion):
    chans = [n for n in ARKIT_NAMES if any(n.startswith(c.rstrip("@")) for c in AU_SIGNATURES[emotion])]
    return float(d["emotion"][:, [INDEX[n] for n in chans]].sum(1).mean())


@pytest.mark.parametrize("emotion", [e for e in EMOTIONS if e != "neutral"])
def test_au_signature_present_and_scales_with_intensity(emotion):
    s = [_signature_strength(synthesize_face(AUDIO, SR, SENT, emotion, x, actor=5, seed=2), emotion)
         for x in (0.0, 1 / 3, 1.0)]
    assert s[0] < s[1] < s[2], s
    assert s[2] > s[0] + 0.15


def test_happy_and_sad_signatures(faces):
    def m(e, *names):
        return sum(faces[e]["weights"][:, INDEX[n]].mean() for n in names)

    assert m("happy", "mouthSmileLeft", "mouthSmileRight", "cheekSquintLeft") > \
        m("neutral", "mouthSmileLeft", "mouthSmileRight", "cheekSquintLeft") + 0.3
    assert m("sad", "browInnerUp", "mouthFrownLeft", "mouthFrownRight") > \
        m("neutral", "browInnerUp", "mouthFrownLeft", "mouthFrownRight") + 0.25
    assert m("angry", "browDownLeft", "browDownRight") > m("neutral", "browDownLeft", "browDownRight") + 0.3
    assert m("disgusted", "noseSneerLeft") > m("neutral", "noseSneerLeft") + 0.15
    # Calibrated range: brows/eyes stay below what real faces reach, smiles below ~0.6.
    for e in EMOTIONS:
        w = faces[e]["emotion"]
        assert np.percentile(w[:, INDEX["mouthSmileLeft"]], 95) < 0.75
        assert np.percentile(w[:, INDEX["browInnerUp"]], 95) < 0.7
    # Head: sad hangs down (+pitch), surprised lifts up.
    p = {e: faces[e]["head_rotation"][:, 0].mean() for e in EMOTIONS}
    assert p["sad"] > p["neutral"] > p["surprised"]


def test_contempt_is_one_sided():
    st = actor_style(4)
    d = synthesize_face(AUDIO, SR, SENT, "contempt", 1.0, actor=4, seed=0)
    side, other = st.contempt_side, "Right" if st.contempt_side == "Left" else "Left"
    w = d["emotion"]
    assert w[:, INDEX["mouthDimple" + side]].mean() > 3 * w[:, INDEX["mouthDimple" + other]].mean()


def test_determinism_seeds_and_actors():
    a = synthesize_face(AUDIO, SR, SENT, "happy", 0.7, actor=1, seed=9)
    b = synthesize_face(AUDIO, SR, SENT, "happy", 0.7, actor=1, seed=9)
    for k in a:
        assert np.array_equal(a[k], b[k])
    c = synthesize_face(AUDIO, SR, SENT, "happy", 0.7, actor=1, seed=10)
    assert not np.allclose(a["emotion"], c["emotion"])
    assert np.array_equal(a["mouth"], c["mouth"])  # mouth depends on speech only
    d = synthesize_face(AUDIO, SR, SENT, "happy", 0.7, actor=2, seed=9)
    assert np.abs(a["emotion"] - d["emotion"]).mean() > 0.01
    assert actor_style(7) == actor_style(7) and actor_style(7) != actor_style(8)


def test_blinks_gaze_consistency():
    ph = seq("SIL:400 " + " ".join(["B:80 AA:150 T:80 IY:120"] * 8) + " SIL:600 " +
             " ".join(["M:80 EH:150 N:80 AH:120"] * 8) + " SIL:600")
    a = speech_audio(ph)
    pr = analyze(a, SR, FPS)
    layer = emotion_layer(pr, ph, "neutral", 0.0, actor=2, seed=4)
    b = layer.weights[:, INDEX["eyeBlinkLeft"]]
    on = np.r_[0, (b > 0.1).astype(int), 0]
    starts, ends = np.where(np.diff(on) == 1)[0], np.where(np.diff(on) == -1)[0]
    assert len(starts) >= 1
    assert np.all((ends - starts) / FPS <= 0.34)
    # eye_gaze radians and eyeLook shapes describe the same gaze (measured slopes).
    w = layer.weights
    yaw = 0.62 * (w[:, INDEX["eyeLookInLeft"]] - w[:, INDEX["eyeLookOutLeft"]])
    pitch = 0.52 * (w[:, INDEX["eyeLookDownLeft"]] - w[:, INDEX["eyeLookUpLeft"]])
    assert np.allclose(layer.eye_gaze[:, 0], yaw, atol=1e-4) and np.allclose(layer.eye_gaze[:, 1], pitch, atol=1e-4)
    assert np.abs(np.diff(layer.eye_gaze[:, 0])).max() > 0.01  # saccades happen


def test_style_clip_and_errors():
    a = style_clip(3, "sad", 2 / 3, 4.0, seed=1)
    assert isinstance(a, FaceAnimation) and a.num_frames == 120 and a.metadata["emotion"] == "sad"
    b = style_clip(3, "sad", 2 / 3, 4.0, seed=1)
    assert np.array_equal(a.weights, b.weights)
    assert a.channel("mouthFrownLeft").mean() > style_clip(3, "neutral", 0.0, 4.0, seed=1).channel(
        "mouthFrownLeft").mean()
    assert a.channel("jawOpen").max() > 0.1  # it talks
    with pytest.raises(InputError):
        synthesize_face(AUDIO, SR, SENT, "bored", 0.5, 0, 0)
    with pytest.raises(InputError):
        synthesize_face(AUDIO, SR, SENT, "happy", 1.5, 0, 0)
    with pytest.raises(InputError):
        synthesize_face(AUDIO[:, None], SR, SENT, "happy", 0.5, 0, 0)


def _random_phones(seconds: float, seed: int = 0) -> list:
    """Phones tiling [0, seconds] with random names and 40-200 ms durations."""
    rng = np.random.default_rng(seed)
    names = sorted(set(VOWELS) | set(BILABIALS) | {"S", "T", "K", "F", "R", SILENCE})
    out, t = [], 0.0
    while t < seconds:
        d = float(rng.uniform(0.04, 0.2))
        out.append(Phone(str(rng.choice(names)), t, t + d))
        t += d
    return out


def test_articulation_in_frame_blocks_equals_the_dense_blend():
    """articulation() sums, per block of frames, only the phones whose dominance is not exactly zero there; over
    several blocks it equals the dense (phones x frames x params) formula of the module docstring."""
    from dreamtalk.core.lips import mouth as M
    phones = _random_phones(70.0)
    times = (np.arange(2100) + 0.5) / FPS  # five blocks
    segs = M._segments(phones)
    tgt, alpha, theta, start, end = [], [], [], [], []
    for key, s, e, dur in segs:
        t_, a_, th_ = M._TABLE.get(key, M._TABLE["AH" if key in VOWELS else "T"])
        t_ = t_.copy()
        if key in M._V or key in VOWELS:
            reach = float(np.clip(0.65 + 0.35 * (dur - 0.04) / 0.08, 0.65, 1.0))
            for k in ("jaw", "pucker", "funnel", "down", "up"):
                t_[M.P[k]] = M.REST[k] + reach * (t_[M.P[k]] - M.REST[k])
        tgt.append(t_), alpha.append(a_), theta.append(th_)
        start.append(s + 0.1 * (e - s)), end.append(e - 0.1 * (e - s))
    tgt, alpha, theta, start, end = map(np.array, (tgt, alpha, theta, start, end))
    rest = np.array([M.REST[k] for k in M.PARAMS])
    tau = np.maximum(0.0, np.maximum(start[:, None] - times[None, :], times[None, :] - end[:, None]))
    dom = alpha[:, None, :] * np.exp(-theta[:, None, :] * (tau ** 2)[:, :, None])  # (n, T, P)
    dense = (np.einsum("ntp,np->tp", dom, tgt) + M.BASELINE_DOMINANCE * rest) / (dom.sum(0) + M.BASELINE_DOMINANCE)
    np.testing.assert_allclose(M.articulation(phones, times), dense, rtol=1e-12, atol=1e-15)
    # Frames in any order, and beyond the last phone (rest), are blended the same way.
    shuffled = times[::-1][:700]
    np.testing.assert_allclose(M.articulation(phones, shuffled), dense[::-1][:700], rtol=1e-12, atol=1e-15)


def test_mouth_track_of_a_long_take_is_linear_in_its_length():
    """Half an hour of phones (about 15,000): the dense blend would hold arrays of 60 GB; the blocked one is
    quick and bounded."""
    phones = _random_phones(1800.0, seed=1)
    m = mouth_track(phones, int(1800 * FPS), FPS)
    assert m.weights.shape == (54000, 52) and np.all(np.isfinite(m.weights))


def test_prosody_in_blocks_equals_all_frames_at_once(monkeypatch):
    """analyze() works through BLOCK frames at a time so hour-long takes stay small in memory; the blocks change
    nothing (one block of everything against blocks of 7 frames, loud and quiet frames mixed)."""
    from dreamtalk.core import prosody
    from dreamtalk.core.audio import speechlike_audio
    a, sr = speechlike_audio(4.0)
    a[sr:2 * sr] = 0.0  # a silent second: frames without a pitch search
    monkeypatch.setattr(prosody, "BLOCK", 10 ** 9)
    whole = prosody.analyze(a, sr, FPS)
    monkeypatch.setattr(prosody, "BLOCK", 7)
    blocks = prosody.analyze(a, sr, FPS)
    assert whole.voiced.any() and not whole.voiced.all()
    for f in ("rms_db", "voiced", "f0"):
        assert np.array_equal(getattr(whole, f), getattr(blocks, f))
