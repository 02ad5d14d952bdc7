"""Typed model configurations, stored inside every weights file and rebuilt from it."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...rigs.arkit import INDEX, MOUTH_SET
from ..audio import FEATURE_DIM, N_LEVELS, SUBFRAME_FEATURE_DIM
from ..lips.phone_scores import N_PHONE_SCORES
from ..lips.speech_states import STATE_DIM
from ..prosody import PROSODY_DIM
from ..sampler import SOLVERS, SPACINGS, alphas_cumprod, betas_for

MOTION_DIM = 55  # 52 ARKit weights + head [pitch, yaw, roll]


def _from_dict(cls, d: dict[str, Any]):
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys: {', '.join(unknown)}")
    kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()}
    return cls(**kw)


def gaussian_taps(sigma: float) -> np.ndarray:
    """(2r + 1,) float32 normalised Gaussian taps of std ``sigma`` frames, r = ceil(3 sigma) (at least 1)."""
    r = max(1, int(np.ceil(3.0 * sigma)))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


@dataclass(frozen=True)
class EmoDiffConfig:
    """EmoDiff: transformer denoiser over a window of frames plus a style encoder."""

    motion_dim: int = MOTION_DIM
    audio_dim: int = FEATURE_DIM
    window: int = 80  # frames generated per window (30 fps)
    prefix: int = 10  # frames of the previous window given as clean context (initial state)
    lookahead: int = 10  # frames of future audio after the window (coarticulation)
    d_model: int = 128
    n_layers: int = 3
    n_heads: int = 4
    ff_mult: int = 2
    audio_kernel: int = 5  # temporal conv over audio features
    # Temporal conv over the noisy window frames, added to the per-frame input projection: each token sees its
    # neighbours, so frame-level noise is told from motion (1 = none, as in weights before 0.2).
    motion_kernel: int = 1
    style_dim: int = 128
    style_d_model: int = 96
    style_layers: int = 2
    style_heads: int = 4
    style_max_frames: int = 150  # training crops 60..this; longer references are encoded in chunks, averaged
    diffusion_steps: int = 1000
    schedule: str = "cosine"  # or "linear"
    beta_start: float = 1e-4  # linear schedule only
    beta_end: float = 0.02
    clip_x0: float = 6.0  # sampler clips the x0 estimate in normalised units
    # Clip each blendshape's estimate to its own range, [0, 1] raw, instead of +-clip_x0 (the head keeps clip_x0):
    # a sparse channel's 6 standard deviations can lie inside its range (a full blink is 8.9 of them).
    clip_range: bool = False
    # What the network outputs: "eps" (the noise, DDPM), "x0" (the clean window, as MDM does for motion) or "v"
    # (v = sqrt(abar) eps - sqrt(1 - abar) x0, Salimans & Ho), which the model turns into the clean window
    # x0 = sqrt(abar) x_t - sqrt(1 - abar) v at once, so losses, low-pass and sampler see x0 as with "x0". "v" is
    # EDM's preconditioning at sigma_data = 1: a nearly clean input passes through the skip sqrt(abar) x_t, so
    # small slow details (cheek and smile drift) survive without network effort. The sampler always receives
    # noise; a clean-window output is converted, so errors are not amplified by 1/sqrt(abar).
    prediction: str = "eps"
    dropout: float = 0.1
    p_drop_style: float = 0.1  # classifier-free guidance training
    p_drop_prefix: float = 0.3
    # Training only: extra weight on the first and second temporal differences of the error (of the noise, or of
    # the clean window with prediction "x0": velocity and acceleration losses on the denoised estimate). They
    # single out the frame-to-frame part of the error that makes heads tremble and blinks flicker.
    vel_weight: float = 0.0
    acc_weight: float = 0.0
    # DDIM steps these weights are made for (the default of `generate`); a distilled student runs at its own.
    sample_steps: int = 10
    # ODE solver these weights sample with by default: "ddim" (first order), "dpmpp2m" (DPM-Solver++ 2M) or
    # "unipc" (UniPC: DPM-Solver++'s predictor plus a corrector at no extra network call).
    solver: str = "ddim"
    # Their timestep grid (core/sampler.py: ddim_timesteps): "leading" (DDIM's), "trailing" or "cubic" (dense at
    # high noise, where an x0 model decides whether a blink happens; eps models need "leading").
    sample_spacing: str = "leading"
    # Classifier-free guidance on the style with an emotion label when the caller names none, applied only at
    # training steps within guidance_interval (lo, hi) (None = every step). An explicit scale applies everywhere.
    sample_guidance: float = 1.0
    guidance_interval: tuple[int, int] | None = None
    # Guidance at every step with a reference clip's style when the caller names none: a clip sits outside the
    # training styles and needs it to carry through (docs/training.md). A distilled student has it built in (1).
    style_guidance: float = 2.0
    # Pitch, voicing and loudness (core/prosody.py, 3 columns) appended to the audio features; audio_dim must
    # match. Brow raises and nods ride on pitch accents, which the mel features show only indirectly.
    prosody: bool = False
    # Per-channel temporal conv (edge-padded) on the network's output window. The clean motion is band-limited,
    # so the best estimate of it is too: the conv lets the network filter what a per-frame output head cannot.
    # 1 = none; it starts as the identity, so fine-tuning starts from the same function.
    out_kernel: int = 1
    # Training only, prediction "x0" or "v": the loss of each example is weighted by min(SNR + 1, cap) (the weighting of
    # v-prediction, capped as in Min-SNR): nearly clean inputs, where blinks and brow raises are sharpened,
    # count up to ``cap`` times more than with a plain clean-window loss. 0 = unweighted.
    snr_cap: float = 0.0
    # Training only, prediction "x0" or "v": weight of a loss matching each window's maximum and standard deviation of
    # the channels in stat_channels between the clean estimate and the target. A squared error
    # alone blurs events whose timing is uncertain into half-height bumps (half blinks, flat brows); matching
    # the height and the spread of the window asks for the event itself. 0 = off.
    stat_weight: float = 0.0
    # The channels that loss reads (ARKit names; None = the blink and brow channels, STAT_CHANNELS).
    stat_channels: tuple[str, ...] | None = None
    # Prediction "x0" or "v": a fixed Gaussian low-pass (std in frames; 0 = none) on the head channels of the clean
    # estimate, after out_conv. Real and corpus heads wander below ~1 Hz; the network's estimates carried a
    # 1-2 Hz wobble that its learned conv kept. Fixed, so training can only pre-emphasise under the cutoff.
    head_lowpass: float = 0.0
    # Training only: the fraction of training clips given up to 1.2 s of silence before and after
    # (core/training/dataset.py: pad_silence). The TTS corpus starts speaking within 0.3 s; real takes often do not.
    p_pad_silence: float = 0.0
    # Per-channel factors on the data std that normalises the motion ((ARKit name, factor) pairs; 1 = the std).
    # Under 1, a channel's small motions grow in model units, so the loss sees them and the sampler decides them
    # at noise levels its steps reach: at rest the cheeks and smile drift by 0.05 of the std that the emotional
    # clips set, far under the noise of the last sampler step.
    norm_scale: tuple[tuple[str, float], ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "norm_scale", tuple((str(n), float(f)) for n, f in self.norm_scale))
        bad = [n for n, f in self.norm_scale if n not in INDEX or not 0 < f <= 10]
        if bad:
            raise ValueError(f"EmoDiffConfig: norm_scale needs ARKit names and factors in (0, 10]: {', '.join(bad)}")
        if not 1 <= self.sample_steps <= self.diffusion_steps:
            raise ValueError(f"EmoDiffConfig: sample_steps must be in 1..{self.diffusion_steps}")
        want = FEATURE_DIM + (PROSODY_DIM if self.prosody else 0)
        if self.audio_dim != want:
            raise ValueError(f"EmoDiffConfig: audio_dim {self.audio_dim} does not match prosody={self.prosody} "
                             f"(needs {want})")
        if self.solver not in SOLVERS:
            raise ValueError(f"EmoDiffConfig: solver must be one of {', '.join(SOLVERS)}, got {self.solver!r}")
        if self.sample_spacing not in SPACINGS:
            raise ValueError(f"EmoDiffConfig: sample_spacing must be one of {', '.join(SPACINGS)}, "
                             f"got {self.sample_spacing!r}")
        gi = self.guidance_interval
        if gi is not None and not (len(gi) == 2 and 0 <= gi[0] <= gi[1] < self.diffusion_steps):
            raise ValueError(f"EmoDiffConfig: guidance_interval must be (lo, hi) within the diffusion steps, got {gi}")
        if not 0.0 <= self.style_guidance <= 20.0:
            raise ValueError(f"EmoDiffConfig: style_guidance must be in 0..20, got {self.style_guidance}")
        if self.out_kernel < 1 or self.out_kernel % 2 == 0:
            raise ValueError(f"EmoDiffConfig: out_kernel must be odd and >= 1, got {self.out_kernel}")
        if self.prediction not in ("eps", "x0", "v"):
            raise ValueError(f"EmoDiffConfig: prediction must be 'eps', 'x0' or 'v', got {self.prediction!r}")
        bad = [n for n in (self.stat_channels or ()) if n not in INDEX]
        if bad:
            raise ValueError(f"EmoDiffConfig: stat_channels are not ARKit blendshapes: {', '.join(bad)}")
        if self.head_lowpass < 0 or (self.head_lowpass > 0 and not self.predicts_clean):
            raise ValueError(f"EmoDiffConfig: head_lowpass must be >= 0 and needs prediction 'x0' or 'v', "
                             f"got {self.head_lowpass} with {self.prediction!r}")

    def alphas_cumprod(self) -> np.ndarray:
        """(diffusion_steps,) float64 abar_t of this config's noise schedule."""
        return alphas_cumprod(betas_for(self.schedule, self.diffusion_steps, self.beta_start, self.beta_end))

    @property
    def predicts_clean(self) -> bool:
        """Whether the model's output is the clean window (prediction "x0" or "v") rather than the noise."""
        return self.prediction != "eps"

    def head_lowpass_kernel(self) -> np.ndarray | None:
        """(K,) float32 normalised Gaussian taps of :attr:`head_lowpass` (None when off)."""
        return gaussian_taps(self.head_lowpass) if self.head_lowpass > 0 else None

    @property
    def seq_len(self) -> int:
        """Tokens per window: prefix + window + lookahead."""
        return self.prefix + self.window + self.lookahead

    def norm_factors(self) -> np.ndarray:
        """(motion_dim,) float32 factor on each channel's data std (:attr:`norm_scale`; 1 elsewhere)."""
        f = np.ones(self.motion_dim, np.float32)
        for name, k in self.norm_scale:
            f[INDEX[name]] = k
        return f

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "EmoDiffConfig":
        """Rebuild from :meth:`to_dict` output; unknown keys are an error."""
        return _from_dict(cls, d)


@dataclass(frozen=True)
class LipsConfig:
    """Lip refinement: a dilated residual conv stack predicting the mouth set (deterministic)."""

    motion_dim: int = MOTION_DIM
    audio_dim: int = FEATURE_DIM
    style_dim: int = 128
    mouth_names: tuple[str, ...] = MOUTH_SET
    channels: int = 128
    kernel: int = 3
    dilations: tuple[int, ...] = (1, 2, 4, 8, 1, 2, 4, 8)
    dropout: float = 0.1
    p_drop_style: float = 0.1
    closure_weight: float = 4.0  # extra loss weight on frames where the target lips are closed
    # Extra loss weight on frames where the target lips are open but the prediction is closed. With only
    # closure_weight w the weighted-median optimum closes whenever P(closed) > 1/(1+w) (0.11 at w=8), which on
    # unfamiliar voices means closing on every doubtful consonant; an equal weight here moves that to 1/2.
    false_closure_weight: float = 0.0
    # False hides the mouth-set channels of the face input: the network must read the lips from the audio
    # instead of polishing EmoDiff's (softer) mouth; the face still tells it the emotion (smile, press...).
    mouth_input: bool = False
    # Further face channels hidden from the network. Lip press is one: the corpus presses the lips harder the
    # more closed they are, so a visible press leaks the closure timing the network must learn from the audio
    # (and EmoDiff's press is not timed to real speech): the angry style then stopped closing the lips.
    hidden_face: tuple[str, ...] = ()
    # Audio input: the frame features (82) or the sub-frame features (242, core/audio.py); audio_dim must match.
    subframe_audio: bool = False
    # Phone posteriors of the real-speech acoustic model (core/lips/phone_scores.py, 42 columns) appended to the
    # audio features: evidence learnt from thousands of real voices, where the rest was learnt from synthetic ones.
    phone_scores: bool = False
    # Moonshine's encoder states (core/lips/speech_states.py, STATE_DIM columns) appended to the audio input: learnt
    # from real speech, so what the network reads from them carries over from synthetic voices to real ones.
    speech_states: bool = False
    # Read the states after this encoder layer (0-based; the encoder stops there) instead of the last hidden state
    # (None): layer 3 of 6 separates the sounds as well on real speech and costs about half as much.
    speech_layer: int | None = None
    # False leaves the mel features out (the input is then the speech states alone).
    mel_input: bool = True
    # With mel_input off: still read the loudness and spectral-flux columns of the frame features (2). The speech
    # states of a real take's trailing silence look like its last vowel's; the loudness says the voice has stopped.
    level_input: bool = False
    # Training-only auxiliary head: per-frame phone classes (40) from the hidden state, weighted in the loss.
    # It makes the stack learn which sound is which (P/B/M vs T/D/K); inference never runs it.
    phone_classes: int = 0
    phone_weight: float = 0.0

    def __post_init__(self):
        from ...rigs.arkit import INDEX
        unknown = [n for n in (*self.mouth_names, *self.hidden_face) if n not in INDEX]
        if unknown:
            raise ValueError(f"LipsConfig: not ARKit names: {', '.join(unknown)}")
        if self.mel_input and self.level_input:
            raise ValueError("LipsConfig: level_input is for mel_input off (the frame features hold the levels)")
        want = (SUBFRAME_FEATURE_DIM if self.subframe_audio else FEATURE_DIM) if self.mel_input else 0
        want += N_LEVELS if self.level_input else 0
        want += (N_PHONE_SCORES if self.phone_scores else 0) + (STATE_DIM if self.speech_states else 0)
        if self.audio_dim != want:
            raise ValueError(f"LipsConfig: audio_dim {self.audio_dim} does not match subframe_audio="
                             f"{self.subframe_audio}, phone_scores={self.phone_scores}, speech_states="
                             f"{self.speech_states}, mel_input={self.mel_input}, level_input={self.level_input} "
                             f"(needs {want})")
        if self.speech_states and self.phone_scores:
            raise ValueError("LipsConfig: speech_states and phone_scores are two kinds of phone evidence; pick one")
        if want == 0:
            raise ValueError("LipsConfig: no audio input (mel_input is off and no speech_states)")
        if self.speech_layer is not None and not (self.speech_states and 0 <= self.speech_layer <= 5):
            raise ValueError("LipsConfig: speech_layer (0-5, a layer of the tiny encoder) needs speech_states")

    @property
    def out_dim(self) -> int:
        """Mouth channels predicted."""
        return len(self.mouth_names)

    @property
    def receptive_field(self) -> int:
        """Frames each output sees (odd; centred)."""
        return 1 + (self.kernel - 1) * (sum(self.dilations) + 1)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        d = dataclasses.asdict(self)
        d["mouth_names"], d["dilations"] = list(self.mouth_names), list(self.dilations)
        d["hidden_face"] = list(self.hidden_face)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "LipsConfig":
        """Rebuild from :meth:`to_dict` output; unknown keys are an error."""
        return _from_dict(cls, d)


@dataclass(frozen=True)
class ClosureProbeConfig:
    """Closure check: a frame classifier on the speech states (P, B, M, F, V or other speech) and the rule that opens
    a lip-network closure with no such evidence near it."""

    state_dim: int = STATE_DIM
    speech_layer: int | None = None  # must match the lip network's, whose states it reads
    context: int = 3  # frames of states on each side, stacked
    hidden: int = 256
    dropout: float = 0.2
    threshold: float = 0.0  # a closure is kept where the logit reaches this within ``pad`` frames of it
    pad: int = 2

    def __post_init__(self):
        if self.state_dim < 1 or self.hidden < 1 or not 0 <= self.context <= 15 or not 0 <= self.pad <= 15:
            raise ValueError("ClosureProbeConfig: state_dim and hidden must be >= 1, context and pad in 0..15")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"ClosureProbeConfig: dropout must be in [0, 1), got {self.dropout}")

    @property
    def input_dim(self) -> int:
        """Width of one stacked input frame."""
        return self.state_dim * (2 * self.context + 1)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ClosureProbeConfig":
        """Rebuild from :meth:`to_dict` output; unknown keys are an error."""
        return _from_dict(cls, d)


@dataclass
class TrainConfig:
    """Optimisation settings shared by both trainers (stored in the run directory, not the weights)."""

    batch_size: int = 32
    lr: float = 3e-4
    weight_decay: float = 0.01
    warmup_steps: int = 200
    max_steps: int = 20000
    ema_decay: float = 0.999
    grad_clip: float = 1.0
    checkpoint_every: int = 500
    val_every: int = 250
    val_batches: int = 8
    log_every: int = 25
    seed: int = 0
    threads: int = 2
    init: str | None = None  # weights file (.npz) to start from; new parameters keep their initialisation
    freeze: tuple[str, ...] = ()  # parameter name prefixes kept fixed (e.g. "style_encoder.")
    # Trainer-specific settings: "distill" (EmoDiff trajectory distillation: core/training/distill_emodiff.py;
    # keys windows, p_label, intermediate, stat, seed, teacher, clip_guidance), "version_tag" (appended to the
    # exported weights' version, so fine-tunes of equal length stay apart: 0.1.0+emodiff.s5000.pad).
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        """Rebuild; unknown keys are an error."""
        return _from_dict(cls, d)
