"""Lip-refinement training data: emotion recombination keeps seals, phone labels per frame, feature augmentation."""
import numpy as np
import pytest

from dreamtalk.core.data.emotion_layer import emotion_layer
from dreamtalk.core.data.face import combine, combine_arrays, seal_from_mouth
from dreamtalk.core.prosody import from_phones
from dreamtalk.core.lips.mouth import lip_gap, mouth_track
from dreamtalk.core.lips.phones import BILABIALS, Phone
from dreamtalk.core.training.dataset import (PHONE_CLASSES, Clip, Corpus, augment_features, frame_phone_ids,
                                             lips_batch, merge_corpora, sampling_weights)
from dreamtalk.rigs.arkit import INDEX, MOUTH_SET

FPS = 30.0


def seq(spec):
    out, t = [], 0.0
    for tok in spec.split():
        ph, ms = tok.split(":")
        out.append(Phone(ph, t, t + int(ms) / 1000.0))
        t += int(ms) / 1000.0
    return out


PHONES = seq("SIL:300 M:90 AA:150 P:80 IY:120 T:70 AE:160 B:90 OW:200 SIL:300")
T = int(round(PHONES[-1].end * FPS))


def layer(emotion, seed=0):
    return emotion_layer(from_phones(PHONES, FPS, T), PHONES, emotion, 1.0, actor=1, seed=seed)


@pytest.mark.parametrize("emotion", ["angry", "surprised", "disgusted", "happy"])
def test_combine_arrays_rebuilds_the_corpus_face_from_stored_arrays(emotion):
    m = mouth_track(PHONES, T, FPS, loudness=np.full(T, 0.8))
    lay = layer(emotion)
    face = combine(m, lay)
    # the corpus stores only the mouth weights: the seal must be recoverable from them
    assert np.abs(seal_from_mouth(m.weights) - np.clip(m.seal, 0, 1)).max() < 1e-4
    rebuilt = combine_arrays(m.weights, seal_from_mouth(m.weights), lip_gap(m.weights), lay.weights)
    assert np.abs(rebuilt - face).max() < 1e-5


def _corpus():
    """One neutral clip with real articulation and emotion layers of other styles to swap in."""
    m = mouth_track(PHONES, T, FPS, loudness=np.full(T, 0.8)).weights
    feats = np.random.default_rng(0).normal(size=(T, 82)).astype(np.float32)
    pids = frame_phone_ids(PHONES, T)
    neutral = Clip("n", feats, np.concatenate([m, np.zeros((T, 3), np.float32)], 1), m, "0__neutral__0",
                   "neutral", 0, np.zeros((T, 52), np.float32), pids)
    clips = [neutral]
    for i, emo in enumerate(["angry", "surprised", "disgusted"]):
        lay = layer(emo, seed=i).weights
        clips.append(Clip(emo, feats, np.concatenate([m, np.zeros((T, 3), np.float32)], 1), m, f"0__{emo}__3",
                          emo, 3, lay, pids))
    styles = {c.style_key: np.full(4, k, np.float32) for k, c in enumerate(clips)}
    return Corpus(clips), styles


def test_swapped_emotions_never_open_a_bilabial_seal_and_bring_their_style():
    corpus, styles = _corpus()
    rng = np.random.default_rng(3)
    b = lips_batch(corpus, styles, MOUTH_SET, 40, 64, rng, p_swap=1.0)
    names = list(MOUTH_SET)
    w = np.zeros(b["target"].shape[:2] + (52,), np.float32)
    w[..., [INDEX[n] for n in names]] = b["target"]
    g = lip_gap(w.reshape(-1, 52)).reshape(w.shape[:2])
    closed = b["phones"] == PHONE_CLASSES.index("M")
    closed |= b["phones"] == PHONE_CLASSES.index("P")
    closed |= b["phones"] == PHONE_CLASSES.index("B")
    assert closed.sum() > 20
    # every bilabial frame reaches a seal at its phone's core even with surprise's jaw drop swapped in
    assert np.quantile(g[closed & (b["mask"] > 0)], 0.5) < 0.02
    seen = {int(s[0]) for s in b["style"]}
    assert len(seen) >= 3  # the swap draws other styles, each with its own vector


def test_frame_phone_ids_follow_frame_centres():
    ids = frame_phone_ids([Phone("SIL", 0.0, 0.1), Phone("M", 0.1, 0.2), Phone("AA", 0.2, 0.5)], 16)
    lut = {i: p for i, p in enumerate(PHONE_CLASSES)}
    got = [lut.get(int(i), "-") for i in ids]
    # centres 0.0167, 0.05, 0.083 | 0.117, 0.15, 0.183 | 0.217 ... 0.483 | beyond 0.5 nothing
    assert got[:3] == ["SIL"] * 3 and got[3:6] == ["M"] * 3 and got[6:15] == ["AA"] * 9 and got[15] == "-"
    assert len(PHONE_CLASSES) == 40 and set(BILABIALS) <= set(PHONE_CLASSES)


def test_feature_augmentation_is_seeded_keeps_band_centring_and_changes_the_spectrum():
    x = np.random.default_rng(0).normal(size=(96, 82)).astype(np.float32)
    a = augment_features(x, np.random.default_rng(5))
    b = augment_features(x, np.random.default_rng(5))
    assert a.shape == x.shape and a.dtype == np.float32 and np.array_equal(a, b)
    assert np.abs(a[:, :80] - x[:, :80]).mean() > 0.1
    assert np.abs(a[:, 80:] - x[:, 80:]).max() < 0.3  # energy and flux only get the small noise


def test_sampling_weights_by_voice_and_engine_and_merge():
    corpus, styles = _corpus()
    for c, v in zip(corpus.clips, ["espeak-ng:en-us", "espeak-ng:en+f4", "flite:slt", "festival:lp_diphone"]):
        c.voice = v
    p = sampling_weights(corpus, {"espeak-ng": 0.5, "espeak-ng:en+f4": 0.0})
    assert np.allclose(p, np.array([0.5, 0.0, 1.0, 1.0]) / 2.5)  # full name beats engine; equal lengths
    assert np.allclose(sampling_weights(corpus), 0.25)
    with pytest.raises(Exception, match="no clip"):
        sampling_weights(corpus, {"espeak-ng": 0, "flite": 0, "festival": 0})
    with pytest.raises(Exception, match=">= 0"):
        sampling_weights(corpus, {"flite": -1})
    b = lips_batch(corpus, styles, MOUTH_SET, 20, 200, np.random.default_rng(0),
                   p_clip=np.array([0.0, 0.0, 1.0, 0.0]))
    assert set(b["style"][:, 0].tolist()) == {2.0}  # only the one clip with weight is drawn
    both = merge_corpora(corpus, Corpus(corpus.clips[:1], {"x": np.zeros((3, 55))}, {"x": ("happy", 1)}))
    assert len(both.clips) == 5 and "x" in both.styles and both.style_meta["x"] == ("happy", 1)


def test_band_view_is_drawn_with_p_band_and_keeps_the_phone_score_columns():
    corpus, styles = _corpus()
    for c in corpus.clips:
        c.band_features = np.full_like(c.features, 7.0)
    b = lips_batch(corpus, styles, MOUTH_SET, 20, 64, np.random.default_rng(0), p_band=1.0)
    assert np.all(b["audio"][b["mask"] > 0] == 7.0)
    b = lips_batch(corpus, styles, MOUTH_SET, 20, 64, np.random.default_rng(0))
    assert not np.any(b["audio"] == 7.0)  # p_band 0: the features as they are
    for c in corpus.clips:  # with 2 phone-score columns the band view holds the other 80
        c.band_features = np.full((len(c.features), 80), 7.0, np.float32)
    b = lips_batch(corpus, styles, MOUTH_SET, 20, 64, np.random.default_rng(0), p_band=1.0, n_extra=2)
    real = b["audio"][b["mask"] > 0]
    assert np.all(real[:, :-2] == 7.0) and not np.any(real[:, -2:] == 7.0)  # extra columns stay the clip's own
