"""MP4 writing (H.264, yuv420p, AAC audio) by piping raw frames to an ffmpeg process.

The ffmpeg binary comes from the system PATH, or else from the ``imageio-ffmpeg`` wheel (which bundles one).
Output is written to a temporary file beside the target and moved into place only when ffmpeg succeeds,
so an error never leaves a half-written video behind.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import wave
from fractions import Fraction
from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import DreamTalkError, InputError


def find_ffmpeg() -> str:
    """Path of an ffmpeg executable (system PATH first, then imageio-ffmpeg's bundled binary)."""
    exe = os.environ.get("DREAMTALK_FFMPEG") or shutil.which("ffmpeg")
    if exe:
        return exe
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # not installed, or its binary is missing for this platform
        pass
    raise DreamTalkError("no ffmpeg found: install ffmpeg or `pip install imageio-ffmpeg`")


def fit_audio(audio: np.ndarray, sr: int, seconds: float) -> np.ndarray:
    """(N,) float32 mono audio trimmed or zero-padded to exactly round(seconds * sr) samples."""
    a = np.asarray(audio, dtype=np.float32).reshape(-1)
    n = int(round(seconds * sr))
    if len(a) >= n:
        return a[:n]
    return np.concatenate([a, np.zeros(n - len(a), np.float32)])


def write_wav16(path, audio: np.ndarray, sr: int) -> None:
    """Write (N,) float mono audio as 16-bit PCM WAV."""
    pcm = (np.clip(np.asarray(audio, np.float64), -1.0, 1.0) * 32767).round().astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sr))
        w.writeframes(pcm.tobytes())


def write_video(path, frames: Iterable[np.ndarray], fps: float, size: tuple[int, int],
                audio: tuple[np.ndarray, int] | None = None, num_frames: int | None = None,
                crf: int = 20, preset: str = "veryfast") -> dict:
    """Encode (H, W, 3) uint8 RGB ``frames`` at ``fps`` to an MP4 at ``path``, atomically.

    ``size`` is (width, height); ``audio`` (samples, sample_rate) is trimmed or padded to the video's length.
    ``num_frames`` (optional) is checked against the frames actually written.
    """
    from ..fileio import atomic_path

    w, h = int(size[0]), int(size[1])
    if w % 2 or h % 2 or w < 2 or h < 2:
        raise InputError(f"video size must be even, got {w}x{h}")
    if not (fps > 0 and np.isfinite(fps)):
        raise InputError(f"fps must be positive, got {fps}")
    out = Path(path)
    if out.suffix.lower() not in (".mp4", ".m4v", ".mov"):
        raise InputError(f"video output must end in .mp4, .m4v or .mov, got {out.name!r}")
    if out.is_dir():
        raise InputError(f"video output is a directory: {out}")
    ffmpeg = find_ffmpeg()
    rate = Fraction(float(fps)).limit_denominator(1001)
    with tempfile.TemporaryDirectory(prefix="dreamtalk_video_") as tmpdir, atomic_path(out) as tmp:
        cmd = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-framerate", str(rate), "-i", "pipe:0"]
        wav = None
        if audio is not None:
            wav = Path(tmpdir) / "audio.wav"
            cmd += ["-i", str(wav)]
        cmd += ["-map", "0:v:0"]
        if wav is not None:
            cmd += ["-map", "1:a:0", "-c:a", "aac", "-b:a", "128k"]
        cmd += ["-c:v", "libx264", "-preset", preset, "-crf", str(int(crf)), "-pix_fmt", "yuv420p",
                "-movflags", "+faststart", "-f", "mp4", str(tmp)]
        log_path = Path(tmpdir) / "ffmpeg.log"
        count = 0
        proc = None
        # ffmpeg reads the audio file only after the first frames arrive; frames are counted as they come, so
        # audio is written once the frame count is known (from num_frames, or after all frames when absent).
        pending: list[np.ndarray] = []
        try:
            with open(log_path, "wb") as log:
                it = iter(frames)
                if wav is not None and num_frames is None:
                    pending = list(it)  # need the length before ffmpeg starts reading audio
                    it = iter(pending)
                    n_expected = len(pending)
                else:
                    n_expected = num_frames
                if wav is not None:
                    if not n_expected:
                        raise InputError("no frames to write")
                    a, sr = audio
                    write_wav16(wav, fit_audio(a, sr, n_expected / float(rate)), sr)
                proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
                for f in it:
                    f = np.asarray(f)
                    if f.shape != (h, w, 3) or f.dtype != np.uint8:
                        raise ValueError(f"frame {count} is {f.shape} {f.dtype}, expected ({h}, {w}, 3) uint8")
                    try:
                        proc.stdin.write(np.ascontiguousarray(f).tobytes())
                    except BrokenPipeError:
                        break
                    count += 1
                proc.stdin.close()
                rc = proc.wait()
            if rc != 0:
                msg = log_path.read_text(errors="replace").strip().splitlines()
                raise DreamTalkError(f"ffmpeg failed (exit {rc}): {msg[-1] if msg else 'no message'}")
            if count == 0:
                raise InputError("no frames to write")
            if num_frames is not None and count != num_frames:
                raise DreamTalkError(f"wrote {count} frames but {num_frames} were expected")
        except BaseException:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
            raise
    return {"path": str(out), "frames": count, "fps": float(fps), "width": w, "height": h,
            "audio": audio is not None}


def probe(path) -> dict:
    """Streams of a media file via ffprobe (next to ffmpeg): codec, frames, duration per stream."""
    import json
    ffmpeg = find_ffmpeg()
    ffprobe = shutil.which("ffprobe") or str(Path(ffmpeg).with_name(Path(ffmpeg).name.replace("ffmpeg", "ffprobe")))
    if not Path(ffprobe).exists() and not shutil.which(ffprobe):
        raise DreamTalkError("ffprobe not found")
    r = subprocess.run([ffprobe, "-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json",
                        str(path)], capture_output=True, text=True)
    if r.returncode != 0:
        raise InputError(f"not a readable video: {path}: {r.stderr.strip()[:200]}")
    return json.loads(r.stdout)
