"""Rebuild the portrait example: flite speech -> synthetic faces (happy, sad, surprised) -> warp renders.

The model pipeline is not used: the animations come from ``core.data.face.synthesize_face`` (the corpus
face synthesizer) driven by flite's own phone timings. Run: python docs/portrait/make_example.py
"""
from __future__ import annotations

import os
import sys

import numpy as np

from dreamtalk.core.animation import FaceAnimation
from dreamtalk.core.data.face import synthesize_face
from dreamtalk.core.data.tts import synthesize
from dreamtalk.core.render.portrait import PortraitRenderer, astronaut, prepare_portrait, render_portrait
from dreamtalk.core.render.video import write_video

HERE = os.path.dirname(os.path.abspath(__file__))
TEXT = "Hello! We made it to orbit, and the view is wonderful."
EMOTIONS = ("happy", "sad", "surprised")


def main() -> int:
    from PIL import Image
    speech = synthesize("flite:slt", TEXT)
    portrait = prepare_portrait(astronaut(), 512)
    renderer = PortraitRenderer(portrait)
    clips, stills = [], []
    for emo in EMOTIONS:
        face = synthesize_face(speech.audio, speech.sr, speech.phones, emo, 0.9, actor=3, seed=7)
        anim = FaceAnimation(30.0, face["weights"], face["head_rotation"], metadata={"emotion": emo})
        clips.append(anim)
        # A mid-utterance open-mouth frame and a frame with the eyes closed most (a blink) when there is one.
        jaw = anim.channel("jawOpen")
        blink = 0.5 * (anim.channel("eyeBlinkLeft") + anim.channel("eyeBlinkRight"))
        picks = [int(np.argmax(jaw)), int(np.argmax(blink))]
        for k in picks:
            stills.append(renderer.frame(anim.weights[k], anim.head_rotation[k]))
        print(f"{emo}: {anim.num_frames} frames, max jawOpen {jaw.max():.2f}, max blink {blink.max():.2f}")
    # Contact sheet: one row per emotion (rest, widest mouth, most-closed eyes), cropped to the head.
    rest = portrait.image
    rows = []
    for i in range(len(EMOTIONS)):
        row = [rest, stills[2 * i], stills[2 * i + 1]]
        rows.append(np.concatenate([f[40:424, 64:448] for f in row], 1))
    sheet = Image.fromarray(np.concatenate(rows, 0))
    sheet = sheet.resize((sheet.width * 2 // 3, sheet.height * 2 // 3), Image.LANCZOS)  # keep the PNG small
    sheet.save(os.path.join(HERE, "astronaut_frames.png"), optimize=True)
    # One short MP4 with the three emotions back to back, speech repeated, 384x384 to stay small.
    frames = []
    for anim in clips:
        for k in range(anim.num_frames):
            f = renderer.frame(anim.weights[k], anim.head_rotation[k])
            frames.append(np.asarray(Image.fromarray(f[32:480, 32:480]).resize((384, 384), Image.LANCZOS)))
    audio = np.concatenate([speech.audio[: int(round(a.num_frames / 30.0 * speech.sr))] for a in clips])
    out = os.path.join(HERE, "astronaut_emotions.mp4")
    write_video(out, frames, 30.0, (384, 384), audio=(audio, speech.sr), num_frames=len(frames), crf=26)
    print(f"wrote {out}: {os.path.getsize(out) / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
