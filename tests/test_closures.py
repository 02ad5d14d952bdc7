"""The closure probe: context stacking, the rule that opens doubtful closures, weights round trip and torch parity."""
import numpy as np
import pytest

from dreamtalk.core.lips.closures import ClosureProbe, check_closures, closed_runs, open_doubtful, stack_context
from dreamtalk.core.lips.mouth import lip_gap
from dreamtalk.core.models.config import ClosureProbeConfig
from dreamtalk.core.weights import save_weights
from dreamtalk.rigs.arkit import INDEX

T = 40


def _take(closures):
    """(T, 52) an open mouth (jaw 0.4) with the lips sealed over each [a, b) run of ``closures``."""
    w = np.zeros((T, 52), np.float32)
    w[:, INDEX["jawOpen"]] = 0.4
    for a, b in closures:
        w[a:b, INDEX["mouthClose"]] = 0.4
    return w


def test_stack_context_repeats_edges_and_keeps_centre_in_the_middle():
    s = np.arange(10, dtype=np.float32).reshape(5, 2)
    x = stack_context(s, 1)
    assert x.shape == (5, 6)
    assert np.array_equal(x[0], [0, 1, 0, 1, 2, 3]) and np.array_equal(x[4], [6, 7, 8, 9, 8, 9])
    assert np.array_equal(x[:, 2:4], s)


def test_closed_runs_finds_the_sealed_stretches():
    assert closed_runs(lip_gap(_take([(5, 9), (20, 23)]))) == [(5, 9), (20, 23)]


def test_a_closure_without_bilabial_evidence_opens_and_one_with_evidence_stays():
    w = _take([(5, 9), (20, 23)])
    logits = np.full(T, -5.0)
    logits[24] = 2.0  # evidence one frame after the second run: within pad 2
    out, n = open_doubtful(w, logits, threshold=0.0, pad=2)
    assert n == 1
    g = lip_gap(out)
    assert g[5:9].min() > 0.3 and g[20:23].max() < 0.01  # first opened, second kept
    assert np.array_equal(out[:5], w[:5]) and np.array_equal(out[9:], w[9:])  # nothing else changes
    assert lip_gap(w)[5:9].max() < 0.01  # the input is not modified


def test_closures_at_the_edges_or_in_a_pause_are_kept():
    w = _take([(0, 4), (10, 14), (36, 40)])
    rest = np.zeros(T)
    rest[11] = 0.5
    out, n = open_doubtful(w, np.full(T, -5.0), threshold=0.0, pad=2, rest=rest)
    assert n == 0 and np.array_equal(out, w)
    out, n = open_doubtful(w, np.full(T, -5.0), threshold=0.0, pad=2)
    assert n == 1 and lip_gap(out)[10:14].min() > 0.3


def _probe_params(cfg, seed=0):
    r = np.random.default_rng(seed)
    d, h = cfg.input_dim, cfg.hidden
    return {"mean": r.normal(size=d), "std": 1 + r.random(d), "fc1.weight": r.normal(size=(h, d)) / np.sqrt(d),
            "fc1.bias": r.normal(size=h), "fc2.weight": r.normal(size=(1, h)), "fc2.bias": r.normal(size=1)}


def test_probe_weights_round_trip_and_refuse_the_wrong_shapes(tmp_path):
    cfg = ClosureProbeConfig(state_dim=4, context=1, hidden=3, threshold=0.5)
    params = _probe_params(cfg)
    save_weights(tmp_path / "p.npz", "closure_probe", cfg.to_dict(), params, model_version="t")
    probe = ClosureProbe.from_file(tmp_path / "p.npz")
    assert probe.cfg == cfg and probe.version == "t"
    lg = probe.logits(np.random.default_rng(1).normal(size=(7, 4)))
    assert lg.shape == (7,) and np.all(np.isfinite(lg))
    with pytest.raises(ValueError, match="states must be"):
        probe.logits(np.zeros((7, 5)))
    with pytest.raises(ValueError, match="misshapen"):
        ClosureProbe({**params, "fc1.bias": np.zeros(4)}, cfg.to_dict())
    with pytest.raises(ValueError, match="unknown"):
        ClosureProbeConfig.from_dict({"hidden": 3, "colour": 1})


def test_numpy_probe_matches_the_torch_network_it_was_trained_as():
    torch = pytest.importorskip("torch")
    cfg = ClosureProbeConfig(state_dim=4, context=2, hidden=5)
    params = _probe_params(cfg, 3)
    net = torch.nn.Sequential(torch.nn.Linear(cfg.input_dim, cfg.hidden), torch.nn.GELU(approximate="tanh"),
                              torch.nn.Linear(cfg.hidden, 1))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(params["fc1.weight"])); net[0].bias.copy_(torch.tensor(params["fc1.bias"]))
        net[2].weight.copy_(torch.tensor(params["fc2.weight"])); net[2].bias.copy_(torch.tensor(params["fc2.bias"]))
    s = np.random.default_rng(2).normal(size=(9, 4)).astype(np.float32)
    x = (stack_context(s, 2) - params["mean"]) / params["std"]
    want = net(torch.tensor(x, dtype=torch.float32)).detach().numpy()[:, 0]
    assert np.allclose(ClosureProbe(params, cfg.to_dict()).logits(s), want, atol=1e-4)


def test_the_check_scores_only_frames_near_closures_and_decides_as_with_every_frame_scored():
    cfg = ClosureProbeConfig(state_dim=4, context=2, hidden=6, threshold=0.0, pad=2)
    probe = ClosureProbe(_probe_params(cfg, 5), cfg.to_dict())
    states = np.random.default_rng(6).normal(size=(T, 4)).astype(np.float32)
    every = probe.logits(states)
    some = np.array([0, 1, 17, T - 2, T - 1])
    assert np.allclose(probe.logits(states, some), every[some], atol=1e-5)  # edges repeated the same way
    w = _take([(0, 3), (6, 9), (14, 18), (25, 27), (37, 40)])
    for threshold in (every.min() - 1, np.median(every), every.max() + 1):
        probe.cfg = ClosureProbeConfig(state_dim=4, context=2, hidden=6, threshold=float(threshold), pad=2)
        got, n = check_closures(w, states, probe)
        want, m = open_doubtful(w, every, float(threshold), 2)
        assert n == m and np.array_equal(got, want)
    assert n == 3  # every interior run opened when no logit can reach the threshold
