"""Combining the lip network's mouth with recognised phones: each covers the other's weakness."""
import numpy as np

from dreamtalk.core.mouth import combine_mouths, lip_gap, mouth_track
from dreamtalk.core.phones import Phone


def seq(*items):
    out, t = [], 0.0
    for ph, d in items:
        out.append(Phone(ph, round(t, 6), round(t + d, 6)))
        t += d
    return out


def frames(a, b, fps=30.0):
    return np.arange(int(np.ceil(a * fps - 0.5)), int(np.ceil(b * fps - 0.5)))


def test_gate_rules():
    # Recognised: AA N AA M AA ... ; the network closes in the N (a false closure) and stays open at the M.
    ph = seq(("SIL", 0.3), ("AA", 0.4), ("N", 0.1), ("AA", 0.5), ("M", 0.1), ("AA", 0.5), ("SIL", 0.3))
    t = int(2.2 * 30)
    rec = mouth_track(ph, t).weights
    net = mouth_track(seq(("SIL", 0.3), ("AA", 0.4), ("M", 0.1), ("AA", 1.1), ("SIL", 0.3)), t).weights
    assert lip_gap(net)[frames(0.72, 0.78)].min() < 0.05  # the network's lips shut in the N
    a = combine_mouths(net, rec, ph, share=0.65)
    assert a.shape == (t,)
    assert np.all(a[frames(0.72, 0.78)] == 1.0)  # doubtful network closure: the phones rule
    assert np.all(a[frames(1.3, 1.4)] == 1.0)  # recognised M the network missed: shown
    assert np.allclose(a[frames(1.55, 1.75)], 0.65)  # vowels: the usual blend
    mixed = a[:, None] * rec + (1 - a[:, None]) * net
    g = lip_gap(mixed)
    assert g[frames(0.72, 0.78)].min() > 0.1 and g[frames(1.3, 1.4)].min() < 0.03


def test_confirmed_network_closure_and_silence_closures_are_not_overruled():
    ph = seq(("SIL", 0.5), ("AA", 0.3), ("B", 0.1), ("AA", 0.3), ("SIL", 0.5))
    t = int(1.7 * 30)
    rec = mouth_track(ph, t).weights
    late = seq(("SIL", 0.5), ("AA", 0.35), ("B", 0.1), ("AA", 0.25), ("SIL", 0.5))  # closes 50 ms late
    net = mouth_track(late, t).weights
    a = combine_mouths(net, rec, ph, share=0.65)
    # Closed in silence everywhere: nothing is doubtful there, so the blend stays away from the labial.
    assert np.allclose(a[frames(0.0, 0.35)], 0.65) and np.allclose(a[frames(1.35, 1.7)], 0.65)
    # The late network closure lies within CONFIRM_S of the recognised B: confirmed, not doubtful.
    near = frames(0.85, 0.95)
    assert np.all(a[near] == 1.0)  # inside the labial's pad: phones rule (its timing)
