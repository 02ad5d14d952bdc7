"""Diffusion schedules and samplers (DDIM, DPM-Solver++ 2M, UniPC). Hold no weights: they drive any
``eps_fn(x_t, t, cond) -> eps``.

Noise comes from a numpy ``Generator`` (PCG64) so a seed gives the same samples on any machine. The training code
imports the same schedule functions, so train and sample agree on every alpha.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

EpsFn = Callable[[np.ndarray, int, Any], np.ndarray]
# A bound on the clean estimate: c clips to [-c, c]; a (lo, hi) pair of arrays (broadcast to the sample) per channel.
ClipBound = Any


def clip_estimate(x0: np.ndarray, bound: ClipBound) -> np.ndarray:
    """The clean estimate clipped to ``bound`` (see ClipBound)."""
    if isinstance(bound, tuple):
        return np.clip(x0, bound[0], bound[1])
    return np.clip(x0, -bound, bound)


def betas_for(schedule: str, steps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> np.ndarray:
    """(steps,) float64 betas: ``cosine`` (Nichol & Dhariwal, s=0.008, capped at 0.999) or ``linear``."""
    if steps < 1:
        raise ValueError("diffusion needs at least one step")
    if schedule == "linear":
        return np.linspace(beta_start, beta_end, steps, dtype=np.float64)
    if schedule == "cosine":
        s = 0.008
        t = np.arange(steps + 1, dtype=np.float64) / steps
        f = np.cos((t + s) / (1 + s) * math.pi / 2) ** 2
        return np.clip(1 - f[1:] / f[:-1], 0, 0.999)
    raise ValueError(f"unknown beta schedule {schedule!r} (cosine or linear)")


def alphas_cumprod(betas: np.ndarray) -> np.ndarray:
    """(steps,) cumulative product of 1 - beta: the signal fraction at each training step."""
    return np.cumprod(1.0 - np.asarray(betas, np.float64))


SPACINGS = ("leading", "trailing", "cubic", "cubic-tail")
CUBIC_START = 0.98  # the cubic grid's first step, as a fraction of the training steps
TAIL_STEP = 0.07  # cubic-tail's added last step before 0, as a fraction of the training steps


def ddim_timesteps(train_steps: int, steps: int, spacing: str = "leading") -> np.ndarray:
    """Descending training-step indices visited by a ``steps``-step sampler.

    ``leading`` (default, as in the DDIM paper): 0, T/steps, ... reversed, so the first step is at
    (steps-1)*T/steps, where the cosine schedule still has a usable signal fraction (eps prediction divides by
    sqrt(abar_t); at T-1 abar is ~1e-7 and any eps error explodes). ``trailing``: T-1, T-1-T/steps, ...
    ``cubic``: 0.98 T (1 - (i / (steps-1))^3), dense at high noise where brief events (blinks) are decided and
    sparse near the end where an x0 model's estimate barely changes; for x0 models (at 0.98 T an eps model's
    clean estimate is its error times 30). ``cubic-tail``: the cubic grid without its second step (at 8 steps 977,
    one noise level under the first) and with a step at 0.07 T before the last, where motions far smaller than
    the data's spread (a resting face's drift) are decided.
    """
    if not 1 <= steps <= train_steps:
        raise ValueError(f"sampling steps must be in [1, {train_steps}], got {steps}")
    if spacing == "leading":
        return (np.arange(steps, dtype=np.int64) * (train_steps // steps))[::-1].copy()
    if spacing == "trailing":
        ts = np.round(np.arange(train_steps, 0, -train_steps / steps)).astype(np.int64) - 1
        return ts[:steps]
    if spacing == "cubic-tail" and steps >= 3:
        ts = ddim_timesteps(train_steps, steps, "cubic")
        tail = int(round(TAIL_STEP * train_steps))
        if ts[-2] > tail > 0:
            return np.concatenate([ts[:1], ts[2:-1], [tail, 0]]).astype(np.int64)
        return ts
    if spacing in ("cubic", "cubic-tail"):
        x = np.arange(steps, dtype=np.float64) / max(1, steps - 1)
        ts = np.round(min(train_steps - 1, round(CUBIC_START * train_steps)) * (1.0 - x ** 3)).astype(np.int64)
        for i in range(1, steps):  # many steps crowd the top: keep them distinct, one training step apart at least
            ts[i] = min(ts[i], ts[i - 1] - 1)
        if ts[-1] < 0:
            raise ValueError(f"the cubic spacing cannot place {steps} distinct steps in {train_steps}")
        return ts
    raise ValueError(f"unknown timestep spacing {spacing!r} ({' or '.join(SPACINGS)})")


def q_sample(x0: np.ndarray, t: np.ndarray | int, noise: np.ndarray, acp: np.ndarray) -> np.ndarray:
    """Forward diffusion: sqrt(abar_t) x0 + sqrt(1 - abar_t) noise (t broadcast over the leading axis)."""
    a = np.asarray(acp)[np.asarray(t)]
    a = a.reshape(a.shape + (1,) * (x0.ndim - a.ndim))
    return np.sqrt(a) * x0 + np.sqrt(1 - a) * noise


def classifier_free_guidance(eps_cond: np.ndarray, eps_uncond: np.ndarray, scale: float) -> np.ndarray:
    """eps_uncond + scale * (eps_cond - eps_uncond); scale 1 is the conditional model, 0 the unconditional."""
    return eps_uncond + scale * (eps_cond - eps_uncond)


def _start(rng, acp, steps: int, spacing: str, shape, x_T, dtype):
    """What every solver begins with: the generator, float64 alphas, the timestep grid and x_T in ``dtype``."""
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    acp = np.asarray(acp, np.float64)
    ts = ddim_timesteps(len(acp), steps, spacing)
    x = gen.standard_normal(shape).astype(dtype) if x_T is None else np.asarray(x_T, dtype).copy()
    return gen, acp, ts, x


def _clean_estimate(x: np.ndarray, eps: np.ndarray, a_t: float, clip_x0: ClipBound) -> np.ndarray:
    """x0 implied by the noise estimate at signal fraction a_t, clipped to ``clip_x0`` when given."""
    x0 = (x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    return x0 if clip_x0 is None else clip_estimate(x0, clip_x0)


def ddim_sample(eps_fn: EpsFn, shape: tuple[int, ...], acp: np.ndarray, steps: int = 10, eta: float = 0.0,
                rng: np.random.Generator | int | None = 0, cond: Any = None, x_T: np.ndarray | None = None,
                clip_x0: ClipBound = None, spacing: str = "leading", dtype=np.float32,
                cond_fn: Callable[[Any, np.ndarray, int], Any] | None = None) -> np.ndarray:
    """Draw samples of ``shape`` with DDIM (eta=0 deterministic ODE, eta=1 DDPM-like), returning x0.

    ``eps_fn(x_t, t, cond)`` gets the batch ``x_t`` and an int training step ``t``. All noise (the start
    ``x_T`` when not given, and the per-step noise when eta > 0) is drawn from ``rng`` in a fixed order.
    ``cond_fn(cond, x0_hat, i)``, if given, returns the condition for the next step from the current clean
    estimate (used to chain windows that are denoised together).
    """
    gen, acp, ts, x = _start(rng, acp, steps, spacing, shape, x_T, dtype)
    for i, t in enumerate(ts):
        a_t = acp[t]
        a_prev = acp[ts[i + 1]] if i + 1 < len(ts) else 1.0
        eps = np.asarray(eps_fn(x, int(t), cond), np.float64)
        x0 = _clean_estimate(x, eps, a_t, clip_x0)
        if clip_x0 is not None:
            eps = (x - math.sqrt(a_t) * x0) / math.sqrt(1 - a_t)  # keep eps consistent with the clipped x0
        sigma = eta * math.sqrt(max(0.0, (1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)))
        x_next = math.sqrt(a_prev) * x0 + math.sqrt(max(0.0, 1 - a_prev - sigma ** 2)) * eps
        if sigma > 0:
            x_next = x_next + sigma * gen.standard_normal(shape)
        x = x_next.astype(dtype)
        if cond_fn is not None and i + 1 < len(ts):
            cond = cond_fn(cond, x0.astype(dtype), i)
    return x


def dpm_solver_2m_sample(eps_fn: EpsFn, shape: tuple[int, ...], acp: np.ndarray, steps: int = 10,
                         rng: np.random.Generator | int | None = 0, cond: Any = None, x_T: np.ndarray | None = None,
                         clip_x0: ClipBound = None, spacing: str = "leading", dtype=np.float32,
                         cond_fn: Callable[[Any, np.ndarray, int], Any] | None = None) -> np.ndarray:
    """Draw samples with DPM-Solver++(2M) (Lu et al., 2022): the probability-flow ODE in log-SNR time, second
    order from the last two clean estimates, on the same timesteps as :func:`ddim_sample`; returns x0.

    Its first step is DDIM's. Few-step DDIM (a first-order solver) shrinks brief events such as blinks towards
    the mean; the second-order step cuts that error at no extra network call. Arguments as in ddim_sample
    (deterministic: no eta).
    """
    _, acp, ts, x = _start(rng, acp, steps, spacing, shape, x_T, np.float64)
    prev_x0, prev_h = None, None
    for i, t in enumerate(ts):
        a_t = acp[t]
        x0 = _clean_estimate(x, np.asarray(eps_fn(x.astype(dtype), int(t), cond), np.float64), a_t, clip_x0)
        if i + 1 == len(ts):
            return x0.astype(dtype)  # the last step lands on the clean estimate itself, as DDIM's does
        a_n = acp[ts[i + 1]]
        h = _log_snr_half(a_n) - _log_snr_half(a_t)  # > 0: towards less noise
        # Second order: extrapolate the clean estimate from the last two (r = prev_h / h). First order (DDIM's
        # step) at the start and on the last update, whose log-SNR step is many times the one before and would
        # extrapolate far (the "lower order final" of DPM-Solver++ for few steps).
        last = i + 2 == len(ts)
        d = x0 if prev_x0 is None or last else (1 + h / (2 * prev_h)) * x0 - h / (2 * prev_h) * prev_x0
        x = math.sqrt((1 - a_n) / (1 - a_t)) * x - math.sqrt(a_n) * math.expm1(-h) * d
        prev_x0, prev_h = x0, h
        if cond_fn is not None:
            cond = cond_fn(cond, x0.astype(dtype), i)
    return x.astype(dtype)


def unipc_sample(eps_fn: EpsFn, shape: tuple[int, ...], acp: np.ndarray, steps: int = 10,
                 rng: np.random.Generator | int | None = 0, cond: Any = None, x_T: np.ndarray | None = None,
                 clip_x0: ClipBound = None, spacing: str = "leading", dtype=np.float32,
                 cond_fn: Callable[[Any, np.ndarray, int], Any] | None = None) -> np.ndarray:
    """Draw samples with UniPC (Zhao et al., 2023; data prediction, B(h) = expm1(h), order 2): DPM-Solver++(2M)'s
    predictor plus a corrector that re-solves each update with the clean estimate at its end point, which the next
    step computes anyway (no extra network call). Arguments as in ddim_sample; returns x0.
    """
    _, acp, ts, x = _start(rng, acp, steps, spacing, shape, x_T, np.float64)
    lam = [_log_snr_half(acp[t]) for t in ts]
    hist: list[tuple[np.ndarray, float]] = []  # (clean estimate, lambda) of the last two evaluations
    x_base = None  # the first-order part of the last update, kept for its correction
    for i, t in enumerate(ts):
        x0 = _clean_estimate(x, np.asarray(eps_fn(x.astype(dtype), int(t), cond), np.float64), acp[t], clip_x0)
        if i + 1 == len(ts):
            return x0.astype(dtype)  # the clean estimate itself: a correction of x would not be used
        if x_base is not None:  # corrector of the update that led here
            m_s, l_s = hist[-1]
            older = hist[-2] if len(hist) > 1 else None
            x = x_base + _unipc_terms(m_s, l_s, older, lam[i], acp[t], x0)
        hist = (hist + [(x0, lam[i])])[-2:]
        a_n = acp[ts[i + 1]]
        h = lam[i + 1] - lam[i]
        x_base = math.sqrt((1 - a_n) / (1 - acp[t])) * x - math.sqrt(a_n) * math.expm1(-h) * x0
        older = hist[-2] if len(hist) > 1 and i + 2 < len(ts) else None  # first order on the last update
        x = x_base + _unipc_terms(x0, lam[i], older, lam[i + 1], a_n, None)
        if cond_fn is not None:
            cond = cond_fn(cond, x0.astype(dtype), i)
    return x.astype(dtype)


def _unipc_terms(m_s: np.ndarray, l_s: float, older: tuple[np.ndarray, float] | None, l_t: float, a_t: float,
                 m_t: np.ndarray | None) -> np.ndarray:
    """UniPC's higher-order part of an update from lambda l_s to l_t: predictor (m_t None) or corrector."""
    h = l_t - l_s
    bh = math.expm1(-h)  # B(h) of the bh2 variant, in the data-prediction sign convention
    scale = -math.sqrt(a_t) * bh
    if m_t is None:  # predictor: second order from the previous clean estimate, or nothing (first order)
        if older is None:
            return 0.0
        r = (older[1] - l_s) / h
        return scale * 0.5 * (older[0] - m_s) / r
    if older is None:  # first-order corrector: the trapezoid
        return scale * 0.5 * (m_t - m_s)
    r = (older[1] - l_s) / h
    hh = -h
    phi_k = math.expm1(hh) / hh - 1.0
    b1 = phi_k / bh
    b2 = (phi_k / hh - 0.5) * 2.0 / bh
    rho = np.linalg.solve(np.array([[1.0, 1.0], [r, 1.0]]), np.array([b1, b2]))
    return scale * (rho[0] * (older[0] - m_s) / r + rho[1] * (m_t - m_s))


def _log_snr_half(a: float) -> float:
    """lambda = log(alpha / sigma) of DPM-Solver for a signal fraction abar = a."""
    return 0.5 * math.log(a / (1 - a))


SOLVERS = ("ddim", "dpmpp2m", "unipc")


def sample(solver: str, eps_fn: EpsFn, shape: tuple[int, ...], acp: np.ndarray, **kw) -> np.ndarray:
    """Run the named solver ("ddim" or "dpmpp2m") with ddim_sample's keyword arguments."""
    if solver == "ddim":
        return ddim_sample(eps_fn, shape, acp, **kw)
    deterministic = {"dpmpp2m": dpm_solver_2m_sample, "unipc": unipc_sample}
    if solver in deterministic:
        if kw.pop("eta", 0.0):
            raise ValueError(f"the {solver} solver is deterministic: eta must be 0")
        return deterministic[solver](eps_fn, shape, acp, **kw)
    raise ValueError(f"unknown solver {solver!r} ({' or '.join(SOLVERS)})")
