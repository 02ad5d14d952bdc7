"""DDIM sampler with analytic models: known Gaussian targets, determinism, timestep subsets, guidance."""
import numpy as np
import pytest

from dreamtalk.core.sampler import (alphas_cumprod, betas_for, classifier_free_guidance, ddim_sample,
                                    ddim_timesteps, q_sample)


def gaussian_eps(mu, s, acp):
    """The exact E[eps | x_t] when x0 ~ N(mu, s^2) per dimension."""
    def fn(x, t, cond):
        a = acp[t]
        return np.sqrt(1 - a) * (x - np.sqrt(a) * mu) / (a * s ** 2 + 1 - a)
    return fn


def test_schedules():
    for kind in ("cosine", "linear"):
        acp = alphas_cumprod(betas_for(kind, 1000))
        assert acp.shape == (1000,) and np.all(np.diff(acp) < 0) and 0.99 < acp[0] < 1 and acp[-1] < 1e-3
    with pytest.raises(ValueError):
        betas_for("quadratic", 10)


def test_timestep_subsets():
    assert ddim_timesteps(1000, 10).tolist() == [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]
    assert ddim_timesteps(1000, 10, "trailing").tolist() == [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]
    assert ddim_timesteps(1000, 3, "trailing").tolist() == [999, 666, 332]
    assert ddim_timesteps(1000, 1).tolist() == [0]
    ts = ddim_timesteps(100, 100)
    assert ts.tolist() == list(range(99, -1, -1))
    with pytest.raises(ValueError):
        ddim_timesteps(100, 0)
    with pytest.raises(ValueError):
        ddim_timesteps(100, 101)


def test_ddim_eta0_recovers_known_gaussian():
    acp = alphas_cumprod(betas_for("linear", 1000))
    mu = np.array([2.0, -1.0, 0.5])
    s = np.array([0.5, 1.5, 0.3])
    x = ddim_sample(gaussian_eps(mu, s, acp), (20000, 3), acp, steps=100, eta=0.0, rng=0, dtype=np.float64)
    assert np.allclose(x.mean(0), mu, atol=0.05)
    assert np.allclose(x.std(0), s, rtol=0.05)


def test_ddim_eta1_recovers_known_gaussian():
    acp = alphas_cumprod(betas_for("cosine", 1000))
    mu, s = np.array([0.7, -0.3]), np.array([0.8, 0.3])
    x = ddim_sample(gaussian_eps(mu, s, acp), (20000, 2), acp, steps=100, eta=1.0, rng=1, dtype=np.float64)
    assert np.allclose(x.mean(0), mu, atol=0.05)
    assert np.allclose(x.std(0), s, rtol=0.08)


def test_ddim_is_deterministic_for_a_seed():
    acp = alphas_cumprod(betas_for("cosine", 1000))
    fn = gaussian_eps(np.zeros(4), np.ones(4), acp)
    a = ddim_sample(fn, (3, 4), acp, steps=10, eta=0.5, rng=123)
    b = ddim_sample(fn, (3, 4), acp, steps=10, eta=0.5, rng=np.random.default_rng(123))
    c = ddim_sample(fn, (3, 4), acp, steps=10, eta=0.5, rng=124)
    assert np.array_equal(a, b) and not np.allclose(a, c)
    # eta=0 with a given x_T draws no noise at all
    xt = np.random.default_rng(5).standard_normal((3, 4))
    d = ddim_sample(fn, (3, 4), acp, steps=10, eta=0.0, rng=1, x_T=xt)
    e = ddim_sample(fn, (3, 4), acp, steps=10, eta=0.0, rng=2, x_T=xt)
    assert np.array_equal(d, e)


def test_model_sees_the_right_steps_and_cond():
    acp = alphas_cumprod(betas_for("linear", 200))
    seen = []

    def fn(x, t, cond):
        seen.append((t, cond))
        return np.zeros_like(x)
    ddim_sample(fn, (1, 2), acp, steps=4, rng=0, cond="c")
    assert seen == [(150, "c"), (100, "c"), (50, "c"), (0, "c")]


def test_clip_x0_bounds_the_output():
    acp = alphas_cumprod(betas_for("linear", 100))
    x = ddim_sample(gaussian_eps(np.full(3, 10.0), np.ones(3), acp), (50, 3), acp, steps=10, rng=0, clip_x0=2.0)
    assert x.max() <= 2.0 + 1e-5


def test_q_sample_and_guidance():
    acp = alphas_cumprod(betas_for("linear", 10))
    x0, n = np.ones((2, 3)), np.full((2, 3), 2.0)
    out = q_sample(x0, np.array([0, 9]), n, acp)
    assert np.allclose(out[1], np.sqrt(acp[9]) + 2 * np.sqrt(1 - acp[9]))
    c, u = np.array([1.0, 2.0]), np.array([0.0, 1.0])
    assert np.allclose(classifier_free_guidance(c, u, 1.0), c)
    assert np.allclose(classifier_free_guidance(c, u, 0.0), u)
    assert np.allclose(classifier_free_guidance(c, u, 3.0), [3.0, 4.0])


def test_dpm_solver_2m_lands_nearer_the_exact_ode_end_than_ddim():
    """For Gaussian data the probability-flow ODE has a closed form: x_T maps to mu + s * x_T / std(x_T).
    With 10 steps, the second-order solver must land much nearer it than DDIM (first order); both start alike."""
    from dreamtalk.core.sampler import dpm_solver_2m_sample, sample
    acp = alphas_cumprod(betas_for("cosine", 1000))
    mu, s = np.array([0.5, -1.0, 0.0]), np.array([0.05, 0.3, 1.2])  # narrow data: the hard case for few steps
    x_t = np.random.default_rng(3).standard_normal((500, 3))
    t0 = ddim_timesteps(1000, 10)[0]
    a = acp[t0]
    exact = mu + s * (x_t - np.sqrt(a) * mu) / np.sqrt(a * s ** 2 + 1 - a)  # the ODE's end from t0
    fn = gaussian_eps(mu, s, acp)
    kw = dict(steps=10, rng=0, x_T=x_t, dtype=np.float64)
    err_ddim = np.abs(ddim_sample(fn, x_t.shape, acp, **kw) - exact).max()
    err_dpm = np.abs(dpm_solver_2m_sample(fn, x_t.shape, acp, **kw) - exact).max()
    assert err_dpm < 0.5 * err_ddim, (err_dpm, err_ddim)
    assert err_dpm < 0.15
    one = dict(steps=1, rng=0, x_T=x_t, dtype=np.float64)  # a single step is DDIM's step
    assert np.allclose(dpm_solver_2m_sample(fn, x_t.shape, acp, **one), ddim_sample(fn, x_t.shape, acp, **one))
    assert np.array_equal(sample("dpmpp2m", fn, x_t.shape, acp, **kw), dpm_solver_2m_sample(fn, x_t.shape, acp, **kw))
    with pytest.raises(ValueError, match="eta"):
        sample("dpmpp2m", fn, x_t.shape, acp, eta=1.0, **kw)
    with pytest.raises(ValueError, match="solver"):
        sample("euler", fn, x_t.shape, acp, **kw)


def test_cubic_spacing_is_dense_at_high_noise():
    ts = ddim_timesteps(1000, 8, "cubic")
    assert ts.tolist() == [980, 977, 957, 903, 797, 623, 363, 0]
    for n in (1, 2, 5, 10, 30, 200):
        g = ddim_timesteps(1000, n, "cubic")
        assert len(g) == n and g[0] == 980 and (n == 1 or g[-1] == 0) and np.all(np.diff(g) < 0)
    gaps = -np.diff(ddim_timesteps(1000, 10, "cubic"))
    assert gaps[0] < gaps[-1] / 50  # steps crowd where brief events are decided
    with pytest.raises(ValueError, match="cubic"):
        ddim_timesteps(100, 100, "cubic")  # more steps than training steps up to its start (98)
    assert ddim_timesteps(100, 99, "cubic").tolist() == list(range(98, -1, -1))
    with pytest.raises(ValueError, match="spacing"):
        ddim_timesteps(1000, 10, "uniform")


def test_cubic_tail_trades_the_second_step_for_one_at_low_noise():
    assert ddim_timesteps(1000, 8, "cubic-tail").tolist() == [980, 957, 903, 797, 623, 363, 70, 0]
    for n in (1, 2, 3, 5, 10, 30):
        g = ddim_timesteps(1000, n, "cubic-tail")
        assert len(g) == n and g[0] == 980 and (n == 1 or g[-1] == 0) and np.all(np.diff(g) < 0)
        if n >= 3:
            assert g[-2] == 70
    assert ddim_timesteps(100, 99, "cubic-tail").tolist() == list(range(98, -1, -1))  # no room: the cubic grid


def test_unipc_lands_nearer_the_exact_ode_end_than_ddim_on_any_grid():
    """UniPC (predictor plus corrector) on Gaussian data: at least as near the exact ODE end as DPM-Solver++(2M),
    much nearer than DDIM, on the leading and the cubic grid (whose last step is long: a narrow Gaussian is its
    hard case); one step is DDIM's step; deterministic only."""
    from dreamtalk.core.sampler import dpm_solver_2m_sample, sample, unipc_sample
    acp = alphas_cumprod(betas_for("cosine", 1000))
    mu, s = np.array([0.5, -1.0, 0.0]), np.array([0.05, 0.3, 1.2])
    x_t = np.random.default_rng(3).standard_normal((500, 3))
    fn = gaussian_eps(mu, s, acp)
    for spacing in ("leading", "cubic"):
        a = acp[ddim_timesteps(1000, 10, spacing)[0]]
        exact = mu + s * (x_t - np.sqrt(a) * mu) / np.sqrt(a * s ** 2 + 1 - a)
        kw = dict(steps=10, rng=0, x_T=x_t, dtype=np.float64, spacing=spacing)
        err = {f.__name__: np.abs(f(fn, x_t.shape, acp, **kw) - exact).max()
               for f in (ddim_sample, dpm_solver_2m_sample, unipc_sample)}
        assert err["unipc_sample"] <= err["dpm_solver_2m_sample"] + 1e-9, (spacing, err)
        assert err["unipc_sample"] < 0.6 * err["ddim_sample"], (spacing, err)
    kw = dict(steps=10, rng=0, x_T=x_t, dtype=np.float64)
    assert np.array_equal(sample("unipc", fn, x_t.shape, acp, **kw), unipc_sample(fn, x_t.shape, acp, **kw))
    one = dict(steps=1, rng=0, x_T=x_t, dtype=np.float64)
    assert np.allclose(unipc_sample(fn, x_t.shape, acp, **one), ddim_sample(fn, x_t.shape, acp, **one))
    with pytest.raises(ValueError, match="eta"):
        sample("unipc", fn, x_t.shape, acp, eta=1.0, **kw)
