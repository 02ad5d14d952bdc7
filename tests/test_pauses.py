"""The mouth rests in pauses (core/lips/pauses.py) after the lip network."""
import numpy as np

from dreamtalk.core.lips.pauses import (LOCAL_S, MIN_PAUSE_S, QUIET_LEVEL, RAMP_FRAMES, local_loudness,
                                       pause_weights)
from dreamtalk.rigs.arkit import INDEX, MOUTH_SET


def test_only_long_quiet_runs_rest_with_ramps_at_both_edges():
    loud = np.ones(100, np.float32)
    loud[10:16] = 0.1  # 0.2 s: a stop closure, left alone
    loud[40:70] = QUIET_LEVEL - 0.01  # 1 s pause
    w = pause_weights(loud)
    assert np.all(w[:40] == 0) and np.all(w[70:] == 0)
    assert w[40] == w[69] == 1 / (RAMP_FRAMES + 1) and np.all(w[40 + RAMP_FRAMES:70 - RAMP_FRAMES] == 1)
    assert np.all(np.diff(w[40:55]) >= 0) and np.all(np.diff(w[55:70]) <= 0)
    n = int(round(MIN_PAUSE_S * 30))
    short = np.ones(50, np.float32)
    short[5:5 + n - 1] = 0.0
    assert not pause_weights(short).any()
    short[5:5 + n] = 0.0
    assert pause_weights(short).any()


def test_a_pause_over_a_noise_floor_rests_and_speech_over_it_does_not():
    rng = np.random.default_rng(0)
    loud = rng.uniform(0.75, 1.0, 200).astype(np.float32)  # speech over noise
    loud[:20] = rng.uniform(0.56, 0.62, 20)  # noise alone: the floor, above QUIET_LEVEL
    loud[100:130] = rng.uniform(0.56, 0.64, 30)  # a 1 s pause
    loud[60:68] = 0.6  # a short dip inside speech
    w = pause_weights(loud)
    assert np.all(w[100 + RAMP_FRAMES:130 - RAMP_FRAMES] == 1) and w[:20].max() == 1
    assert not w[25:95].any() and not w[135:].any()
    clean = np.where(loud < 0.7, 0.3, loud)  # the same take without the noise: the fixed level decides
    wc = pause_weights(clean)
    assert np.all(wc[100 + RAMP_FRAMES:130 - RAMP_FRAMES] == 1) and not wc[25:95].any() and not wc[135:].any()


def test_a_softer_passage_of_a_long_take_is_not_a_pause_and_short_takes_are_unchanged():
    rng = np.random.default_rng(1)
    n = int(LOCAL_S * 30)
    loud = rng.uniform(0.55, 0.62, 4 * n)  # noise floor
    loud[:n] = rng.uniform(0.8, 1.0, n)  # loud speech
    loud[2 * n:3 * n] = rng.uniform(0.68, 0.8, n)  # the same voice 6-9 dB softer...
    loud[2 * n + 100:2 * n + 115] = rng.uniform(0.62, 0.66, 15)  # ...with a 0.5 s run of quiet consonants
    local = local_loudness(loud)
    assert local[n // 2] > 0.95 and 0.75 < local[2 * n + n // 2] < 0.8
    w = pause_weights(loud)
    assert not w[2 * n + 100:2 * n + 115].any()  # soft speech, not a pause
    assert w[n + n // 2] == 1 and w[3 * n + n // 2] == 1  # the noise-only stretches still rest
    short = loud[2 * n - n // 2:3 * n - n // 2]  # a take no longer than the window: the take-wide level alone
    assert np.all(local_loudness(short) == np.percentile(short, 95))


def test_generate_rests_the_mouth_in_a_pause(tmp_path):
    from test_pipeline import build_tiny_weights, gen, speechlike
    w = build_tiny_weights(tmp_path / "w")
    sr = 16000
    audio = np.concatenate([speechlike(1.0), np.zeros(sr, np.float32), speechlike(1.0, seed=1)])
    anim = gen(w, audio)
    from dreamtalk.core.lips.mouth import mouth_track
    idx = [INDEX[n] for n in MOUTH_SET]
    rest = mouth_track([], anim.num_frames).weights[:, idx]
    mid = slice(36, 54)  # inside the 1 s pause (frames 30-60), past the ramps
    assert np.abs(anim.weights[mid][:, idx] - rest[mid]).max() < 1e-6
    assert np.abs(anim.weights[5:25][:, idx] - rest[5:25]).max() > 0.01  # speech: the network's mouth
