"""The generation pipeline: audio + emotion -> FaceAnimation, in numpy only.

EmoDiff samples the whole face window by window (each window conditioned on the previous window's tail), lip
refinement re-predicts the mouth set, an optional transcript sharpens the mouth through forced alignment, and
the result is resampled to the requested frame rate.
"""
from __future__ import annotations

import hashlib
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..rigs.arkit import INDEX, MOUTH_SET
from .animation import FaceAnimation
from .emotions import canonical_emotion, check_intensity
from .errors import Cancelled, InputError
from .lips.pauses import pause_weights
from .models.bundle import Models, load_models

MAX_SECONDS = 4 * 3600  # refuse longer inputs (memory and patience)
_BLINKS = (INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"])


def _read_audio(audio: Any, sr: int | None) -> tuple[np.ndarray, str | None, str | None]:
    from .audio import load_audio, prepare_audio

    if isinstance(audio, (str, os.PathLike)):
        path = Path(audio)
        a, _ = load_audio(path)
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return a, str(path), h.hexdigest()
    if sr is None:
        raise InputError("audio given as an array needs its sample rate (sr=...)")
    a, _ = prepare_audio(np.asarray(audio), sr)
    return a, None, hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def _style_vector(models: Models, style: Any, emotion: str, intensity: float) -> tuple[np.ndarray, dict]:
    from .formats import read_animation

    if style is None:
        emo = canonical_emotion(emotion)
        return models.emodiff.emotion_style(emo, intensity), {"emotion": emo, "intensity": intensity}
    anim = style if isinstance(style, FaceAnimation) else read_animation(style)
    if anim.num_frames < 2:
        raise InputError("style clip needs at least 2 frames")
    vec = models.emodiff.style_from_animation(anim)
    label = str(style) if not isinstance(style, FaceAnimation) else anim.metadata.get("source_audio", "clip")
    return vec, {"emotion": anim.metadata.get("emotion", "style"), "intensity": intensity, "style": label}


def _track_styles(models: Models, keys, num_frames: int, transition: float) -> tuple[np.ndarray, dict]:
    """(T, Ds) per-frame style of parsed emotion-track ``keys`` at 30 fps, and its metadata."""
    from .emotions import track_weights

    table = np.stack([models.emodiff.emotion_style(k.emotion, k.intensity) for k in keys])  # (K, Ds)
    styles = (track_weights(keys, num_frames, 30.0, transition) @ table).astype(np.float32)
    top = max(keys, key=lambda k: k.intensity)
    return styles, {"emotion": "track" if len(keys) > 1 else keys[0].emotion, "intensity": top.intensity,
                    "emotion_track": ",".join(k.label() for k in keys), "transition": transition}


def _suppress_blinks(weights: np.ndarray) -> np.ndarray:
    """Clamp each eyeBlink channel to its slow baseline so no blink events remain. (T, 52) in place."""
    for i in _BLINKS:
        ch = weights[:, i]
        base = float(np.percentile(ch, 40))
        weights[:, i] = np.minimum(ch, base)
    return weights


def _phones_mouth(phones, feats: np.ndarray) -> np.ndarray:
    """(T, 52) emotion-free mouth track at 30 fps for aligned phones."""
    from .audio import N_MELS
    from .lips.mouth import mouth_track

    loudness = np.clip(feats[:, N_MELS], 0.0, 1.0)  # energy feature: 1 = the clip's loud frames
    return mouth_track(phones, feats.shape[0], 30.0, loudness=loudness).weights


def generate(audio: Any, sr: int | None = None, *, emotion: str = "neutral", intensity: float = 1.0,
             style: Any = None, seed: int = 0, steps: int | None = None, guidance: float | None = None,
             fps: float = 30.0, transcript: str | None = None, head: bool = True, blink: bool = True,
             progress: bool | Callable[[float], None] | None = None, cancel: Callable[[], bool] | None = None,
             weights_dir: str | os.PathLike | None = None, recognize: bool = False, emotion_track: Any = None,
             transition: float | None = None) -> FaceAnimation:
    """Speech audio (path, or array with ``sr``) + emotion or style clip -> FaceAnimation at ``fps``.

    ``transcript`` (what is said) is force-aligned to sharpen the mouth; without one, ``recognize`` gets the words
    from English speech recognition (Moonshine where installed, else pocketsphinx) and uses them the same way.
    ``emotion_track`` (``"0:neutral,2.5:happy@0.8"``, a .json/.csv file or a list of (time, emotion, intensity))
    changes the emotion within the take, cross-fading over ``transition`` seconds (default 0.5); it replaces
    ``emotion`` and ``intensity``.
    """
    from .audio import N_MELS, is_silent, num_frames

    intensity, guidance, fps, emotion_track, transition, seed = _checked_options(
        emotion, intensity, style, seed, steps, guidance, fps, transcript, recognize, emotion_track, transition)
    a16, source, sha = _read_audio(audio, sr)
    if a16.size / 16000 > MAX_SECONDS:
        raise InputError(f"audio is {a16.size / 16000 / 3600:.1f} h long; the limit is {MAX_SECONDS // 3600} h")
    models = load_models(weights_dir)
    steps, guidance = _sampler_options(models, steps, guidance, style)
    t = num_frames(a16.size)
    if emotion_track is not None:
        style_vec, style_meta = _track_styles(models, emotion_track, t, transition)  # (T, Ds)
    else:
        style_vec, style_meta = _style_vector(models, style, emotion, intensity)  # (Ds,)

    silent = is_silent(a16)
    # (M, 80) mel, (T, 82) features, EmoDiff's (T, 85); the encoder's and the recogniser's jobs, under way
    mel, feats, emo_feats, states, job = _features_and_jobs(models, a16, t, silent, recognize, progress)
    report = progress if callable(progress) else None
    from .blas import blas_threads_for
    # One BLAS thread: the networks' GEMMs are small; a second made 60 s of speech take 1.05 s, not 0.81 s.
    with blas_threads_for(1), _cancelling(job), _cancelling(states):
        motion = _sample_motion(models, emo_feats, style_vec, seed, steps, guidance, progress, cancel)  # (T, 55)
        weights = np.clip(motion[:, :52], 0.0, 1.0)
        head_rot = motion[:, 52:55].astype(np.float32)
        pause = pause_weights(feats[:, N_MELS])  # (T,) where the take is quiet, from the loudness column
        weights = _lips(models, a16, mel, feats, weights, style_vec, silent, pause, states)
        phones, share, aligned, recognized, engine = _timed_phones(a16, transcript, job, t, pause)
    idx = [INDEX[n] for n in MOUTH_SET]
    if share is not None:
        mt = _phones_mouth(phones, feats)
        share = np.asarray(share, np.float32).reshape(-1, 1)  # (1, 1) or (T, 1)
        weights[:, idx] = share * mt[:, idx] + (1 - share) * weights[:, idx]
    if not blink:
        weights = _suppress_blinks(weights)
    if not head:
        head_rot[:] = 0.0
    if cancel is not None and cancel():
        raise Cancelled("generation cancelled")
    scale, interval = models.emodiff.guidance_for(guidance)
    meta = dict(style_meta, seed=seed, steps=steps, guidance=scale, model_version=models.version,
                source_audio=source, source_audio_sha256=sha, audio_duration=a16.size / 16000,
                transcript=bool(transcript), head=head, blink=blink)
    if interval is not None:
        meta["guidance_interval"] = list(interval)
    if aligned is not None:
        meta["transcript_aligned"] = aligned
    if recognize and not transcript:
        meta.update(recognized_text=recognized or "", recognizer=engine)  # engine None: silent, nothing was run
    anim = FaceAnimation(30.0, weights, head_rot, metadata=meta)
    if abs(fps - 30.0) > 1e-9:
        anim = anim.resample(fps)
    if report is not None:
        report(1.0)
    return anim


@contextmanager
def _cancelling(job):
    """Cancel a job (recognition, encoder states; if any) when the block ends, however it ends."""
    try:
        yield
    finally:
        if job is not None:
            job.cancel()


def _features(models, a16: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(M, 80) mel power, (T, 82) frame features and EmoDiff's features (the frame features, with prosody where
    its weights read it); the prosody runs in a helper thread beside the mel (numpy's FFTs release the GIL)."""
    from .audio import features_from_mel, mel_power_numpy
    from .models.emodiff_numpy import helper_thread
    job = None
    if models.emodiff.cfg.prosody:
        from .prosody import prosody_features
        job = helper_thread().submit(prosody_features, a16, t)
    mel = mel_power_numpy(a16)  # (M, 80) at 100 fps, shared by both feature kinds
    feats = features_from_mel(mel, t)
    return mel, feats, feats if job is None else np.concatenate([feats, job.result()], axis=1)


def _features_and_jobs(models, a16: np.ndarray, t: int, silent: bool, recognize: bool, progress) -> tuple:
    """:func:`_features`, and the jobs that run beside the rest of generate (None where not needed): speech
    recognition in worker processes, and the encoder's speech states where the lip network reads them, in worker
    threads (the encoder is three quarters of the work). The recognition workers are forked first, while no thread of ours is
    inside onnxruntime: a fork copies the other threads' locks but not the threads that would release them."""
    states = job = None
    try:
        if recognize and not silent:
            from .lips.align import start_recognition
            if progress is True:
                print("recognizing speech ...", file=sys.stderr, flush=True)
            job = start_recognition(a16, 16000)
        if models.lips is not None and models.lips.cfg.speech_states and not silent:
            from .lips.speech_states import start_speech_states
            states = start_speech_states(a16, t, layer=models.lips.cfg.speech_layer)
        return (*_features(models, a16, t), states, job)
    except BaseException:
        for j in (states, job):
            if j is not None:
                j.cancel()
        raise


def _sampler_options(models, steps, guidance, style) -> tuple[int, float | None]:
    """The weights' own step count where none is given, and their guidance for a reference clip (every step)."""
    cfg = models.emodiff.cfg
    steps = cfg.sample_steps if steps is None else int(steps)
    if guidance is None and style is not None:
        guidance = float(cfg.style_guidance)
    return steps, guidance


def _checked_options(emotion, intensity, style, seed, steps, guidance, fps, transcript, recognize, emotion_track,
                     transition) -> tuple:
    """Validate generate()'s options before any audio is read; returns the normalised values that change."""
    from .emotions import DEFAULT_TRANSITION, parse_emotion_track

    intensity = check_intensity(intensity)
    if steps is not None and not 1 <= int(steps) <= 1000:
        raise InputError(f"steps must be in 1..1000, got {steps}")
    if guidance is not None:  # None: the weights' own (their style_guidance with a clip, else guidance_for)
        guidance = float(guidance)
        if not 0.0 <= guidance <= 20.0:
            raise InputError(f"guidance must be in 0..20, got {guidance}")
    fps = float(fps)
    if not 0 < fps <= 240:
        raise InputError(f"fps must be in (0, 240], got {fps}")
    if emotion_track is not None:
        if style is not None:
            raise InputError("give a style clip or an emotion track, not both")
        emotion_track = parse_emotion_track(emotion_track)  # read once; fails before the audio is read
    transition = DEFAULT_TRANSITION if transition is None else float(transition)
    if not 0.0 <= transition <= 60.0:
        raise InputError(f"transition must be in 0..60 seconds, got {transition}")
    if style is None:
        canonical_emotion(emotion)
    try:
        seed = int(seed)
    except (TypeError, ValueError):
        raise InputError(f"seed must be an integer, got {seed!r}") from None
    if recognize and transcript is not None and str(transcript).strip():
        raise InputError("give a transcript or ask for speech recognition, not both")
    return intensity, guidance, fps, emotion_track, transition, seed


def _sample_motion(models, feats, style_vec, seed, steps, guidance, progress, cancel) -> np.ndarray:
    """(T, 55) EmoDiff motion with the progress bar or callback (up to 0.9) and cancellation between windows."""
    from .progress import Progress

    t = len(feats)
    bar = Progress(t, "generate") if progress is True else None
    report = progress if callable(progress) else None
    done = [0]

    def on_frames(k: int) -> None:
        if cancel is not None and cancel():
            raise Cancelled("generation cancelled")
        if bar is not None:
            bar.update(k)
        if report is not None:
            done[0] += k
            report(min(1.0, 0.9 * done[0] / t))

    try:
        # Blinks and head moves come from the noise, not the audio: a noise seeded by the seed alone made every
        # clip of a seed blink at the same moments (and seed 0 not at all for 30 s). Mixing in the clip's length
        # (exact on every machine, unlike a hash of resampled samples) gives each take its own performance.
        rng = np.random.default_rng([int(seed) & 0xFFFFFFFFFFFFFFFF, len(feats)])
        return models.emodiff.sample_sequence(feats, style_vec, rng=rng, steps=steps, guidance=guidance,
                                              progress=on_frames)
    finally:
        if bar is not None:
            bar.close()


def _lips(models, a16, mel, feats, weights, style_vec, silent: bool, pause: np.ndarray, states) -> np.ndarray:
    """(T, 52) weights with the lip network's mouth (if shipped), resting where ``pause`` (T,) says; a silent file
    gets the resting mouth. ``states``: the encoder's job (:func:`_features_and_jobs`) where the network reads it."""
    from .audio import features_from_mel, frame_columns
    from .lips.mouth import mouth_track

    t = len(feats)
    idx = [INDEX[n] for n in MOUTH_SET]
    if silent:
        # Nothing is said: the mouth rests. (The gain-free features of a silent file look like flat loud noise,
        # which no network has heard; the face above the mouth, blinks and head still come from EmoDiff.)
        weights[:, idx] = mouth_track([], t).weights[:, idx]
        return weights
    if models.lips is not None:
        cfg = models.lips.cfg
        lips_feats = features_from_mel(mel, t, subframes=True) if cfg.subframe_audio else feats
        lips_feats = frame_columns(lips_feats, cfg.mel_input, cfg.level_input)
        if cfg.phone_scores:
            from .lips.phone_scores import phone_posteriors
            lips_feats = np.concatenate([lips_feats, phone_posteriors(a16, t)], axis=1)  # (T, A + 42)
        if cfg.speech_states:
            lips_feats = np.concatenate([lips_feats, states.result()], axis=1)  # (T, A + 288)
        from .blas import blas_threads_for
        with blas_threads_for(2):  # its convolutions' GEMMs are large enough for two threads (-30% time)
            weights = np.clip(models.lips.apply(lips_feats, weights, style_vec), 0.0, 1.0)
            if models.closure_probe is not None:
                from .lips.closures import check_closures
                states_only = lips_feats[:, -models.closure_probe.cfg.state_dim:]  # (T, 288)
                weights, _ = check_closures(weights, states_only, models.closure_probe, rest=pause)
        rest = pause[:, None]  # (T, 1)
        if rest.any():
            weights[:, idx] = (1 - rest) * weights[:, idx] + rest * mouth_track([], t).weights[:, idx]
    return weights


def _timed_phones(a16, transcript, job, num_frames: int, pause: np.ndarray) -> tuple:
    """Phone timings for the mouth from a transcript or a recognition job: (phones, share of their mouth track in
    the blend (a number or (T,) per frame; None: the network's mouth alone), aligned, recognised text, recognition
    engine); a transcript that cannot be aligned warns and leaves the network's mouth."""
    from .lips.blend import RECOGNIZED_SHARE, TRANSCRIPT_SHARE, recognized_share

    if transcript is not None and str(transcript).strip():
        from .lips.align import align_transcript
        from .errors import DreamTalkError, DreamTalkWarning, MissingDependency
        try:
            return align_transcript(a16, 16000, str(transcript)), TRANSCRIPT_SHARE, True, None, None
        except (InputError, MissingDependency):
            raise
        except DreamTalkError as e:
            # A transcript must never make generation fail where the audio alone works: keep the network's mouth.
            import warnings
            warnings.warn(DreamTalkWarning(f"{e}; the lips follow the audio alone"), stacklevel=3)
            return None, None, False, None, None
    if job is not None:
        phones, recognized, words, engine = job.result()
        if not recognized:
            return phones, None, None, recognized, engine  # nothing heard: no blend
        lo, hi = RECOGNIZED_SHARE[engine]
        # Silence between words is believed where the take is quiet (``pause``).
        return phones, recognized_share(words, num_frames, lo=lo, hi=hi, pause=pause), None, recognized, engine
    return None, None, None, None, None
