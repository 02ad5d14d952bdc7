"""Figure of one synthetic corpus clip: waveform, phones, mouth track, emotion layer and head pose.

Usage: python tools/plot_clip.py [--text "..."] [--voice flite:slt] [--emotion happy] [--intensity 1]
       [--actor 3] [--seed 0] [--out docs/corpus_clip.png]
Needs matplotlib (a development-only dependency) and a TTS engine (flite/festival/espeak-ng).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

MOUTH_CHANNELS = ("jawOpen", "mouthClose", "mouthPucker", "mouthFunnel", "mouthRollLower", "mouthLowerDownLeft",
                  "tongueOut")
EMOTION_CHANNELS = {
    "happy": ("mouthSmileLeft", "mouthSmileRight", "cheekSquintLeft", "eyeSquintLeft", "browInnerUp", "eyeBlinkLeft"),
    "sad": ("browInnerUp", "browDownLeft", "mouthFrownLeft", "mouthShrugLower", "eyeSquintLeft", "eyeBlinkLeft"),
    "angry": ("browDownLeft", "eyeSquintLeft", "mouthPressLeft", "noseSneerLeft", "eyeBlinkLeft"),
    "surprised": ("browInnerUp", "browOuterUpLeft", "eyeWideLeft", "jawOpen", "eyeBlinkLeft"),
    "fear": ("browInnerUp", "eyeWideLeft", "mouthStretchLeft", "browDownLeft", "eyeBlinkLeft"),
    "disgusted": ("noseSneerLeft", "mouthUpperUpLeft", "mouthFrownLeft", "browDownLeft", "eyeBlinkLeft"),
    "contempt": ("mouthSmileLeft", "mouthSmileRight", "mouthDimpleLeft", "mouthDimpleRight", "eyeBlinkLeft"),
    "neutral": ("browInnerUp", "browOuterUpLeft", "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft"),
}


def main(argv=None) -> int:
    """Render the figure."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--text", default="Maybe we should move the big blue boat. The storm will be here soon, Pam.")
    ap.add_argument("--voice", default="flite:slt")
    ap.add_argument("--emotion", default="happy")
    ap.add_argument("--intensity", type=float, default=1.0)
    ap.add_argument("--actor", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "docs" / "corpus_clip.png"))
    a = ap.parse_args(argv)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from dreamtalk.core.data.face import synthesize_face
    from dreamtalk.core.lips.mouth import lip_gap
    from dreamtalk.core.data.tts import synthesize
    from dreamtalk.core.fileio import atomic_path
    from dreamtalk.core.lips.phones import BILABIALS, SILENCE, VOWELS
    from dreamtalk.rigs.arkit import INDEX

    sp = synthesize(a.voice, a.text)
    audio, sr, phones = sp.audio, sp.sr, sp.phones
    d = synthesize_face(audio, sr, phones, a.emotion, a.intensity, a.actor, a.seed)
    t_frames = (np.arange(d["weights"].shape[0]) + 0.5) / 30.0
    t_audio = np.arange(len(audio)) / sr
    dur = len(audio) / sr

    fig, ax = plt.subplots(5, 1, figsize=(13, 11), sharex=True,
                           gridspec_kw={"height_ratios": [1.1, 0.45, 1.6, 1.6, 1.1]})
    ax[0].plot(t_audio, audio, lw=0.4, color="0.3")
    ax[0].set_ylabel("waveform")
    ax[0].set_title(f'"{a.text}"  ({a.voice}, {a.emotion} {a.intensity:.2f}, actor {a.actor}, seed {a.seed})',
                    fontsize=10)
    for p in phones:
        col = "#f4a6a6" if p.phone in BILABIALS else "#a6c8f4" if p.phone in VOWELS else \
            "white" if p.phone == SILENCE else "#d8d8d8"
        ax[1].axvspan(p.start, p.end, color=col, ec="0.5", lw=0.5)
        if p.phone != SILENCE:
            ax[1].text((p.start + p.end) / 2, 0.5, p.phone, ha="center", va="center", fontsize=7, rotation=90)
        if p.phone in BILABIALS:
            for k in (0, 2, 3):
                ax[k].axvspan(p.start, p.end, color="#f4a6a6", alpha=0.35, lw=0)
    ax[1].set_yticks([])
    ax[1].set_ylabel("phones", rotation=0, ha="right", va="center")

    m = d["mouth"]
    for n in MOUTH_CHANNELS:
        ax[2].plot(t_frames, m[:, INDEX[n]], lw=1.2, label=n)
    ax[2].plot(t_frames, lip_gap(d["weights"]), "k--", lw=1.2, label="lip gap g (full face)")
    ax[2].set_ylabel("mouth track\n(emotion-free)")
    ax[2].legend(fontsize=7, ncol=4, loc="upper right")
    ax[2].set_ylim(0, 1)

    e = d["emotion"]
    for n in EMOTION_CHANNELS.get(a.emotion, EMOTION_CHANNELS["neutral"]):
        ax[3].plot(t_frames, e[:, INDEX[n]], lw=1.2, label=n)
    ax[3].set_ylabel("emotion layer")
    ax[3].legend(fontsize=7, ncol=3, loc="upper right")
    ax[3].set_ylim(0, 1)

    hr = np.degrees(d["head_rotation"])
    for i, n in enumerate(("pitch (+down)", "yaw (+left)", "roll")):
        ax[4].plot(t_frames, hr[:, i], lw=1.2, label=f"head {n}")
    ax[4].plot(t_frames, np.degrees(d["eye_gaze"][:, 0]), lw=0.8, ls=":", label="left eye yaw")
    ax[4].set_ylabel("degrees")
    ax[4].legend(fontsize=7, ncol=4, loc="upper right")
    ax[4].set_xlabel("time (s); red bands: P/B/M")
    ax[4].set_xlim(0, dur)
    fig.tight_layout()
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT.parent))
    sys.exit(main())
