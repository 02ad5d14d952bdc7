"""Phone evidence learnt from real voices: pocketsphinx's en-us acoustic model, scored in numpy.

The lip network was trained on synthetic voices; the one model here trained on thousands of real speakers is
CMU Sphinx's generic US English model (BSD licence, see weights/phone_gmm.LICENSE). Its context-independent part
(42 phones x 3 states, phonetically tied Gaussian mixtures over 13 MFCCs with deltas) is small enough to ship
as plain arrays (weights/phone_gmm.npz, extracted by ``tools/extract_phone_gmm.py``) and to score per frame with
numpy, so the default path keeps running in stock Blender. Output: per 30 fps frame, the posterior of each
phone under a flat prior, ``(T, 42)``, names in :data:`PHONE_GMM_NAMES` order.

The front end follows Sphinx's (pre-emphasis, 25.6 ms Hamming frames at 100 fps, 25 mel filters 130-6800 Hz,
orthonormal DCT-II, lifter 22, batch cepstral mean removal, deltas over +-2 frames). Linear channel details
(filter gains, pre-emphasis) fall out with the mean removal. Sphinx's spectral noise subtraction is not ported.
"""
from __future__ import annotations

import os
import struct
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..audio import FPS, SAMPLE_RATE
from ..errors import InputError

FRAME_LEN = 410  # 25.625 ms at 16 kHz
FRAME_SHIFT = 160  # 100 frames per second
N_FFT = 512
N_FILT, LOWER_HZ, UPPER_HZ = 25, 130.0, 6800.0
N_CEP, LIFTER = 13, 22
LOG_FLOOR = 1e-4
ACOUSTIC_SCALE = 0.1  # Gaussian log-likelihoods over 39 dims are over-confident; flattens the posteriors
N_SUB = 3  # points per 30 fps frame
N_PHONE_SCORES = 42  # CI phones of the en-us model, SIL and two noise phones included

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "weights" / "phone_gmm.npz"


# ---- model extraction (from a pocketsphinx install; run once by tools/extract_phone_gmm.py) -----------------
def _read_s3_float(path: Path) -> np.ndarray:
    """(n_mgau, n_feat, n_density, veclen) float32 from a Sphinx-3 Gaussian parameter file (equal veclens)."""
    b = path.read_bytes()
    end = b.index(b"endhdr\n") + len(b"endhdr\n")
    if struct.unpack("<I", b[end:end + 4])[0] != 0x11223344:
        raise InputError(f"{path}: unexpected byte order")
    o = end + 4
    n_mgau, n_feat, n_dens = struct.unpack("<3i", b[o:o + 12])
    o += 12
    veclen = struct.unpack(f"<{n_feat}i", b[o:o + 4 * n_feat])
    o += 4 * n_feat
    total = struct.unpack("<i", b[o:o + 4])[0]
    o += 4
    if len(set(veclen)) != 1 or total != n_mgau * n_dens * sum(veclen):
        raise InputError(f"{path}: unsupported stream layout {veclen}")
    data = np.frombuffer(b, "<f4", count=total, offset=o)
    return data.reshape(n_mgau, n_feat, n_dens, veclen[0]).copy()


def _read_mdef_ci(path: Path) -> tuple[list[str], np.ndarray]:
    """CI phone names and their senone ids (n_ci, n_state) from a binary Sphinx model definition."""
    b = path.read_bytes()
    if b[:4] != b"BMDF":
        raise InputError(f"{path}: not a binary model definition")
    hdr_len = struct.unpack("<i", b[8:12])[0]
    o = 12 + hdr_len
    (n_ci, n_phone, n_emit, n_ci_sen, n_sen, n_tmat, n_sseq, n_ctx, n_tree, sil) = struct.unpack("<10i", b[o:o + 40])
    o += 40
    names = []
    for _ in range(n_ci):
        e = b.index(b"\0", o)
        names.append(b[o:e].decode())
        o = e + 1
    o = (o + 3) & ~3
    o += 8 * n_tree  # cd_tree: int16 ctx, int16 n_down, int32 pid/down
    phones = np.frombuffer(b, "<i4", count=3 * n_phone, offset=o).reshape(n_phone, 3)  # ssid, tmat, attr
    o += 12 * n_phone + 4  # then int32 sseq size
    sseq = np.frombuffer(b, "<u2", count=n_sseq * n_emit, offset=o).reshape(n_sseq, n_emit)
    return names, sseq[phones[:n_ci, 0]].astype(np.int64)


def _read_sendump(path: Path, senones: np.ndarray) -> np.ndarray:
    """Natural-log mixture weights (S, n_feat, n_density) of the given senones from a PTM ``sendump``."""
    b = path.read_bytes()
    o = 0
    n_feat = None
    while True:
        n = struct.unpack("<i", b[o:o + 4])[0]
        o += 4
        if n == 0:
            break
        s = b[o:o + n].rstrip(b"\0").decode("latin-1")
        if s.startswith("feature_count"):
            n_feat = int(s.split()[1])
        if s.startswith("cluster_count") and int(s.split()[1]) != 0:
            raise InputError(f"{path}: clustered mixture weights are not supported")
        o += n
    n_cw, n_pdf = struct.unpack("<2i", b[o:o + 8])
    o += 8
    q = np.frombuffer(b, np.uint8, count=n_feat * n_cw * n_pdf, offset=o).reshape(n_feat, n_cw, n_pdf)
    # Quantised -log weights in log base 1.0001, shifted right by 10 bits (pocketsphinx's SENSCR_SHIFT).
    logw = -q[:, :, senones].astype(np.float64) * 1024.0 * np.log(1.0001)  # (F, K, S)
    return np.transpose(logw, (2, 0, 1))


def extract_model(model_dir: str | os.PathLike) -> dict[str, np.ndarray]:
    """The CI part of a pocketsphinx PTM model as plain arrays (saved as weights/phone_gmm.npz)."""
    d = Path(model_dir)
    params = (d / "feat.params").read_text()
    if "-model ptm" not in params or "1s_c_d_dd" not in params:
        raise InputError(f"{d}: expected a PTM model with 1s_c_d_dd features")
    names, ci_sen = _read_mdef_ci(d / "mdef")
    means = _read_s3_float(d / "means")  # (C, F, K, 13); codebook c belongs to CI phone c
    var = np.maximum(_read_s3_float(d / "variances"), 1e-4)  # pocketsphinx's default variance floor
    logw = _read_sendump(d / "sendump", ci_sen.reshape(-1)).reshape(*ci_sen.shape, means.shape[1], means.shape[2])
    if means.shape[0] != len(names):
        raise InputError(f"{d}: {means.shape[0]} codebooks for {len(names)} CI phones")
    return {"names": np.array(names), "means": means.astype(np.float32), "variances": var.astype(np.float32),
            "log_weights": logw.astype(np.float32)}  # log_weights (P, states, F, K)


# ---- scoring -----------------------------------------------------------------------------------------------
@lru_cache(maxsize=2)
def load_model(path: str | None = None) -> dict[str, np.ndarray]:
    """Load and verify the shipped phone model (``weights/phone_gmm.npz``)."""
    from ..weights import load_weights

    w = load_weights(Path(path) if path else DEFAULT_PATH, expect_type="phone_gmm")
    names = list(w.config.get("phones", []))
    model = {"names": np.array(names), **w.params}
    if len(names) != N_PHONE_SCORES or model["log_weights"].shape[0] != N_PHONE_SCORES:
        raise InputError(f"{path or DEFAULT_PATH}: {len(names)} phones ({N_PHONE_SCORES} expected)")
    return model


def save_model(model: dict[str, np.ndarray], path: str | os.PathLike, source: str) -> str:
    """Write an extracted model as a versioned weights file; returns its sha256."""
    from ..weights import save_weights

    config = {"phones": [str(n) for n in model["names"]], "sample_rate": SAMPLE_RATE, "frame_length": FRAME_LEN,
              "frame_shift": FRAME_SHIFT, "n_filters": N_FILT, "lower_hz": LOWER_HZ, "upper_hz": UPPER_HZ,
              "n_cepstra": N_CEP, "lifter": LIFTER, "features": "1s_c_d_dd", "cmn": "batch"}
    params = {k: model[k] for k in ("means", "variances", "log_weights")}
    return save_weights(path, "phone_gmm", config, params, model_version="en-us-ptm-ci.1",
                        meta={"source": source, "licence": "BSD-style (CMU Sphinx / Alpha Cephei), see "
                                                            "weights/phone_gmm.LICENSE"})


def _mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)


@lru_cache(maxsize=1)
def _filterbank() -> np.ndarray:
    """(N_FFT//2+1, N_FILT) unit-area triangular filters equally spaced in mel between LOWER_HZ and UPPER_HZ."""
    edges = 700.0 * (10 ** (np.linspace(_mel(LOWER_HZ), _mel(UPPER_HZ), N_FILT + 2) / 2595.0) - 1.0)
    f = np.arange(N_FFT // 2 + 1) * SAMPLE_RATE / N_FFT
    fb = np.zeros((f.size, N_FILT))
    for m in range(N_FILT):
        lo, c, hi = edges[m:m + 3]
        fb[:, m] = np.maximum(0.0, np.minimum((f - lo) / (c - lo), (hi - f) / (hi - c))) * 2.0 / (hi - lo)
    return fb


@lru_cache(maxsize=1)
def _dct() -> np.ndarray:
    """(N_FILT, N_CEP) orthonormal DCT-II with Sphinx's lifter folded in."""
    j = np.arange(N_FILT)[:, None] + 0.5
    i = np.arange(N_CEP)[None, :]
    m = np.cos(np.pi * i * j / N_FILT) * np.sqrt(2.0 / N_FILT)
    m[:, 0] = np.sqrt(1.0 / N_FILT)
    lift = 1.0 + LIFTER / 2.0 * np.sin(np.pi * np.arange(N_CEP) / LIFTER)
    return m * lift[None, :]


def mfcc(audio: np.ndarray) -> np.ndarray:
    """(M, 13) mean-removed Sphinx-style cepstra at 100 fps of 16 kHz audio; frame m starts at m*160 samples."""
    a = np.asarray(audio, np.float64).reshape(-1)
    peak = float(np.max(np.abs(a))) if a.size else 0.0
    a = a * (16384.0 / peak) if peak > 0 else a  # a 16-bit-like scale, so LOG_FLOOR means what it does in Sphinx
    # Sphinx's dither: +-1 LSB, so digital silence (TTS) and a quiet room look alike; seeded for reproducibility.
    a = a + np.random.default_rng(a.size).uniform(-1.0, 1.0, a.size)
    a = np.concatenate([a[:1], a[1:] - 0.97 * a[:-1]])
    if a.size < FRAME_LEN:
        a = np.concatenate([a, np.zeros(FRAME_LEN - a.size)])
    n = 1 + (a.size - FRAME_LEN) // FRAME_SHIFT
    win = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(FRAME_LEN) / (FRAME_LEN - 1))
    fb, dct = _filterbank(), _dct()
    out = np.empty((n, N_CEP))
    for s in range(0, n, 4096):  # chunks bound memory on long files
        idx = np.arange(s, min(n, s + 4096))
        frames = a[idx[:, None] * FRAME_SHIFT + np.arange(FRAME_LEN)[None, :]] * win
        spec = np.fft.rfft(frames, N_FFT, axis=1)
        out[idx] = np.log((spec.real ** 2 + spec.imag ** 2) @ fb + LOG_FLOOR) @ dct
    return out - out.mean(axis=0)


def deltas(cep: np.ndarray) -> np.ndarray:
    """(M, 39) Sphinx 1s_c_d_dd: c, c[t+2]-c[t-2], (c[t+3]-c[t-1]) - (c[t+1]-c[t-3]); edges repeat."""
    m = len(cep)
    p = np.concatenate([np.repeat(cep[:1], 3, 0), cep, np.repeat(cep[-1:], 3, 0)])
    c = lambda k: p[3 + k:3 + k + m]  # noqa: E731  (c[t+k])
    return np.concatenate([cep, c(2) - c(-2), (c(3) - c(-1)) - (c(1) - c(-3))], axis=1)


def phone_log_likelihoods(feat: np.ndarray, model: dict[str, np.ndarray], block: int = 256) -> np.ndarray:
    """(M, P) log-likelihood of each CI phone per 100 fps frame: best of its states, streams summed."""
    means, var, logw = model["means"], model["variances"], model["log_weights"]  # (P,F,K,D), (P,S,F,K)
    n_p, n_f, n_k, dim = means.shape
    feat = np.asarray(feat, np.float32)
    streams = []
    for f in range(n_f):  # per stream: GEMM-ready Gaussian terms and linear-domain mixture weights
        iv = 1.0 / var[:, f].reshape(-1, dim)  # (P*K, D)
        mu = means[:, f].reshape(-1, dim)
        const = -0.5 * (np.sum(np.log(2 * np.pi * var[:, f].reshape(-1, dim)), 1) + np.sum(mu * mu * iv, 1))
        streams.append(((mu * iv).T.copy(), (-0.5 * iv).T.copy(), const.astype(np.float32),
                        np.exp(logw[:, :, f, :]).transpose(0, 2, 1).copy()))  # (D,PK), (D,PK), (PK,), (P,K,S)
    out = np.empty((len(feat), n_p), np.float32)
    for s in range(0, len(feat), block):  # blocks keep the (frames, 5376) arrays in cache
        total = 0.0
        for f, (a, b, const, w) in enumerate(streams):
            x = feat[s:s + block, f * dim:(f + 1) * dim]  # (m, D)
            g = (x @ a + (x * x) @ b + const).reshape(len(x), n_p, n_k)  # (m, P, K) Gaussian log densities
            top = g.max(axis=2, keepdims=True)  # the mixture sum runs in the linear domain, shifted per codebook
            np.exp(g - top, out=g)
            mix = np.matmul(g.transpose(1, 0, 2), w)  # (P, m, S)
            total = total + np.log(np.maximum(mix, 1e-30)) + top.transpose(1, 0, 2)
        out[s:s + block] = total.max(axis=2).T
    return out


def phone_posteriors(audio: np.ndarray, num_frames_out: int, model: dict[str, np.ndarray] | None = None
                     ) -> np.ndarray:
    """(T, 42) float32 phone posteriors (flat prior, scaled likelihoods) per 30 fps frame of 16 kHz audio."""
    model = load_model() if model is None else model
    ll = phone_log_likelihoods(deltas(mfcc(audio)), model) * ACOUSTIC_SCALE  # (M, P)
    ll -= ll.max(axis=1, keepdims=True)
    post = np.exp(ll)
    post /= post.sum(axis=1, keepdims=True)
    t = int(num_frames_out)
    # Points inside each 30 fps frame, mapped to the nearest Sphinx frame centre ((m*160 + 205) samples).
    times = (np.arange(t)[:, None] + (np.arange(N_SUB)[None, :] + 0.5) / N_SUB) / FPS
    idx = np.clip(np.round((times * SAMPLE_RATE - FRAME_LEN / 2) / FRAME_SHIFT).astype(np.int64), 0, len(post) - 1)
    return post[idx].mean(axis=1).astype(np.float32)


def phone_names(model: dict[str, np.ndarray] | None = None) -> tuple[str, ...]:
    """The model's CI phone names, column order of :func:`phone_posteriors`."""
    return tuple(str(n) for n in (load_model() if model is None else model)["names"])
