"""Live audio inputs: a file played at real-time pace, raw PCM (or WAV) from stdin or a TCP socket, a microphone.

Every source runs its own thread and calls ``on_audio((N,) float32 16 kHz, perf_counter arrival time)`` per block
and ``on_end(reason)`` once when the input is over for good. Problems become one-line ``log`` messages.
"""
from __future__ import annotations

import socket
import struct
import sys
import threading
import time
from typing import Callable

import numpy as np

from ..audio import MAX_RATE, MIN_RATE, SAMPLE_RATE, _polyphase_filters, load_audio
from ..errors import InputError, MissingDependency

PCM_FORMATS = {"s16le": "<i2", "s32le": "<i4", "f32le": "<f4", "u8": "u1"}
BLOCK_SECONDS = 0.01  # pacing granularity of file input (10 ms, a typical audio callback)


class StreamResampler:
    """Rate conversion of a signal that arrives in pieces, with ``audio.resample``'s polyphase filters: the
    samples out equal the offline conversion of everything so far, except the last filter reach still pending."""

    def __init__(self, sr_in: int, sr_out: int = SAMPLE_RATE):
        import math
        self.sr_in, self.sr_out = int(sr_in), int(sr_out)
        g = math.gcd(self.sr_in, self.sr_out)
        self.up, self.down = self.sr_out // g, self.sr_in // g
        self.identity = self.sr_in == self.sr_out
        if not self.identity:
            self.h, self.left = _polyphase_filters(self.up, self.down)  # (up, taps), reach before
        self.buf = np.zeros(0 if self.identity else self.left, np.float32)  # offline pads `left` zeros first
        self.buf0 = 0  # padded-input index of buf[0]
        self.n_out = 0

    def push(self, a: np.ndarray) -> np.ndarray:
        """Input samples in, every output sample whose filter support has arrived out."""
        a = np.asarray(a, np.float32)
        if self.identity:
            return a
        self.buf = np.concatenate([self.buf, a])
        taps = self.h.shape[1]
        avail = self.buf0 + self.buf.size  # padded samples received
        # Output n reads padded input [n*down//up, n*down//up + taps).
        n_hi = max(self.n_out, ((avail - taps) * self.up) // self.down + 1)
        while n_hi > self.n_out and (n_hi - 1) * self.down // self.up + taps > avail:
            n_hi -= 1
        n = np.arange(self.n_out, n_hi, dtype=np.int64)
        if n.size == 0:
            return np.zeros(0, np.float32)
        base = n * self.down // self.up - self.buf0
        idx = base[:, None] + np.arange(taps)[None, :]
        out = np.einsum("ij,ij->i", self.buf[idx], self.h[n * self.down % self.up]).astype(np.float32)
        self.n_out = n_hi
        drop = int(self.n_out * self.down // self.up) - self.buf0
        if drop > 0:
            self.buf, self.buf0 = self.buf[drop:], self.buf0 + drop
        return out


class PcmDecoder:
    """Bytes of raw PCM (format from flags) or of a WAV stream -> float32 16 kHz blocks; keeps partial samples
    for the next read, replaces non-finite samples, and follows a new WAV header's rate and format."""

    def __init__(self, rate: int = SAMPLE_RATE, fmt: str = "s16le", channels: int = 1, log=None):
        if fmt not in PCM_FORMATS:
            raise InputError(f"PCM format must be one of {', '.join(PCM_FORMATS)}, got {fmt!r}")
        if not MIN_RATE <= int(rate) <= MAX_RATE:
            raise InputError(f"PCM rate {rate} Hz is not supported (use {MIN_RATE}..{MAX_RATE} Hz)")
        if not 1 <= int(channels) <= 16:
            raise InputError(f"PCM channels must be 1..16, got {channels}")
        self.log = log or (lambda line: None)
        self.dtype, self.channels, self.rate = np.dtype(PCM_FORMATS[fmt]), int(channels), int(rate)
        self.resampler = StreamResampler(self.rate)
        self.pending = b""
        self.header_checked = False
        self.bad = 0

    def _set_format(self, rate: int, dtype: np.dtype, channels: int) -> None:
        if rate != self.rate:
            self.log(f"input: sample rate {self.rate} -> {rate} Hz; resampling from here on")
            self.resampler = StreamResampler(rate)
        self.rate, self.dtype, self.channels = rate, dtype, channels

    def _wav_header(self) -> bool:
        """Consume a RIFF/WAVE header at the start of ``pending``; False while it is incomplete."""
        d = self.pending
        pos, fmt = 12, None
        while pos + 8 <= len(d):
            cid, size = d[pos:pos + 4], struct.unpack("<I", d[pos + 4:pos + 8])[0]
            if cid == b"fmt ":
                if pos + 8 + size > len(d):
                    return False
                fmt = d[pos + 8:pos + 8 + size]
            elif cid == b"data":
                if fmt is None or len(fmt) < 16:
                    raise ValueError("WAV stream has no format chunk before its data")
                tag, ch, sr, _, block, bits = struct.unpack("<HHIIHH", fmt[:16])
                if tag == 0xFFFE and len(fmt) >= 26:
                    tag = struct.unpack("<H", fmt[24:26])[0]
                kinds = {(1, 8): "u1", (1, 16): "<i2", (1, 32): "<i4", (3, 32): "<f4"}
                if (tag, bits) not in kinds or ch == 0:
                    raise ValueError(f"WAV stream encoding {tag:#x}/{bits} bit is not supported")
                if not MIN_RATE <= sr <= MAX_RATE:
                    raise ValueError(f"WAV stream rate {sr} Hz is not supported")
                self._set_format(sr, np.dtype(kinds[(tag, bits)]), ch)
                self.pending = d[pos + 8:]
                return True
            pos += 8 + size + (size & 1)
        if len(d) > 1 << 16:
            raise ValueError("WAV stream header is longer than 64 KiB")
        return False

    def feed(self, data: bytes) -> np.ndarray:
        """(N,) float32 16 kHz samples decoded from ``data`` (possibly none yet)."""
        self.pending += data
        if not self.header_checked:
            if len(self.pending) < 12 and b"RIFF".startswith(self.pending[:4]):
                return np.zeros(0, np.float32)
            if self.pending[:4] in (b"RIFF", b"RF64") and self.pending[8:12] == b"WAVE":
                try:
                    if not self._wav_header():
                        return np.zeros(0, np.float32)
                except ValueError as e:
                    self.log(f"input: {e}; reading it as raw PCM")
            self.header_checked = True
        frame = self.dtype.itemsize * self.channels
        n = len(self.pending) // frame
        raw, self.pending = self.pending[:n * frame], self.pending[n * frame:]
        if n == 0:
            return np.zeros(0, np.float32)
        a = np.frombuffer(raw, self.dtype).reshape(n, self.channels)
        if self.dtype.kind == "u":
            x = (a.astype(np.float32) - 128.0) / 128.0
        elif self.dtype.kind == "i":
            x = a.astype(np.float32) / np.float32(2 ** (8 * self.dtype.itemsize - 1))
        else:
            x = a.astype(np.float32)
        x = x.mean(axis=1) if self.channels > 1 else x[:, 0]
        bad = ~np.isfinite(x) | (np.abs(x) > 1e6)
        if bad.any():
            if not self.bad:
                self.log(f"input: {int(bad.sum())} malformed samples (not finite) replaced by silence")
            self.bad += int(bad.sum())
            x = np.where(bad, 0.0, x).astype(np.float32)
        return self.resampler.push(np.clip(x, -4.0, 4.0))


class Source:
    """Base: a thread that delivers audio to ``on_audio`` and calls ``on_end`` once."""

    live = True  # audio arrives on someone else's clock: gaps are filled with silence
    clocked = False  # a capture device: its sample clock is followed, and audio arriving late was late, not new
    name = "input"

    def __init__(self, log: Callable[[str], None] | None = None):
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.duration: float | None = None  # seconds, when known (files)

    def start(self, on_audio, on_end) -> None:
        """Start delivering."""
        self.on_audio, self.on_end = on_audio, on_end
        self.thread = threading.Thread(target=self._guarded, name=f"dreamtalk-{self.name}", daemon=True)
        self.thread.start()

    def _guarded(self) -> None:
        try:
            self.run()
        except Exception as e:  # an input failure ends the input with one line; the stream stops cleanly
            self.on_end(f"{self.name}: {e}")

    def run(self) -> None:
        """Deliver audio until the input ends or ``stop`` is asked (in the source's thread)."""
        raise NotImplementedError

    def stop(self) -> None:
        """Ask the thread to finish."""
        self.stop_event.set()


class FileSource(Source):
    """A WAV/FLAC/MP3 file played at real-time pace in 10 ms blocks (``speed`` > 1 plays faster, for tests)."""

    live = False
    name = "file"

    def __init__(self, path, speed: float = 1.0, log=None):
        super().__init__(log)
        self.audio, _ = load_audio(path)  # (N,) 16 kHz; a bad file fails here, before anything starts
        self.duration = self.audio.size / SAMPLE_RATE
        self.speed = float(speed)

    def run(self) -> None:
        """Deliver audio until the input ends or ``stop`` is asked (in the source's thread)."""
        block = int(BLOCK_SECONDS * SAMPLE_RATE)
        t0 = time.perf_counter()
        for k, i in enumerate(range(0, self.audio.size, block)):
            due = t0 + (i + block) / SAMPLE_RATE / self.speed  # a block exists once its last sample has played
            wait = due - time.perf_counter()
            if wait > 0 and self.stop_event.wait(wait):
                break
            self.on_audio(self.audio[i:i + block], time.perf_counter())
        self.on_end("file played")


class StreamSource(Source):
    """Raw PCM or WAV bytes from stdin (``-``) or a binary file object."""

    name = "stdin"

    def __init__(self, stream=None, rate: int = SAMPLE_RATE, fmt: str = "s16le", channels: int = 1, log=None):
        super().__init__(log)
        self.stream = stream if stream is not None else sys.stdin.buffer
        self.args = (rate, fmt, channels)
        PcmDecoder(*self.args)  # check the flags now

    def run(self) -> None:
        """Deliver audio until the input ends or ``stop`` is asked (in the source's thread)."""
        dec = PcmDecoder(*self.args, log=self.log)
        read = getattr(self.stream, "read1", self.stream.read)
        while not self.stop_event.is_set():
            data = read(4096)
            if not data:
                break
            a = dec.feed(data)
            if a.size:
                self.on_audio(a, time.perf_counter())
        self.on_end("input closed")


class TcpSource(Source):
    """Listens on HOST:PORT; one client at a time sends raw PCM or a WAV stream; a client leaving is not the end."""

    name = "tcp"

    def __init__(self, host: str, port: int, rate: int = SAMPLE_RATE, fmt: str = "s16le", channels: int = 1,
                 log=None):
        super().__init__(log)
        self.args = (rate, fmt, channels)
        PcmDecoder(*self.args)
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.server.bind((host, int(port)))
        except OSError as e:
            self.server.close()
            raise InputError(f"tcp://{host}:{port}: cannot listen ({e.strerror or e}; another dreamtalk live "
                             "on this port?)") from None
        self.server.listen(1)
        self.server.settimeout(0.2)
        self.address = self.server.getsockname()

    def run(self) -> None:
        """Deliver audio until the input ends or ``stop`` is asked (in the source's thread)."""
        try:
            while not self.stop_event.is_set():
                try:
                    conn, peer = self.server.accept()
                except socket.timeout:
                    continue
                self.log(f"tcp: client {peer[0]}:{peer[1]} connected")
                dec = PcmDecoder(*self.args, log=self.log)
                conn.settimeout(0.2)
                with conn:
                    while not self.stop_event.is_set():
                        try:
                            data = conn.recv(8192)
                        except socket.timeout:
                            continue
                        except OSError as e:
                            self.log(f"tcp: client connection failed ({e.strerror or e})")
                            break
                        if not data:
                            break
                        a = dec.feed(data)
                        if a.size:
                            self.on_audio(a, time.perf_counter())
                self.log("tcp: client closed; waiting for the next one")
        finally:
            self.server.close()
        self.on_end("stopped")


class MicSource(Source):
    """The default microphone through the optional ``sounddevice`` package."""

    name = "mic"
    clocked = True

    def __init__(self, rate: int | None = None, log=None):
        super().__init__(log)
        try:
            import sounddevice as sd
        except ImportError:
            raise MissingDependency("microphone input needs the optional package sounddevice "
                                    "(pip install sounddevice)") from None
        except OSError as e:  # the package is there but PortAudio is not
            raise MissingDependency(f"microphone input needs PortAudio for sounddevice ({e})") from None
        self.sd = sd
        try:
            dev = sd.query_devices(kind="input")
        except Exception as e:
            raise InputError(f"no microphone available ({e})") from None
        self.rate = int(rate or dev.get("default_samplerate", SAMPLE_RATE) or SAMPLE_RATE)

    def run(self) -> None:
        """Deliver audio until the input ends or ``stop`` is asked (in the source's thread)."""
        res = StreamResampler(self.rate)

        def callback(indata, frames, t, status):
            if status:
                self.log(f"mic: {status}")
            self.on_audio(res.push(indata[:, 0].copy()), time.perf_counter())

        with self.sd.InputStream(samplerate=self.rate, channels=1, dtype="float32", blocksize=int(self.rate / 100),
                                 callback=callback) as stream:
            while not self.stop_event.wait(0.2):
                if not stream.active:  # PortAudio ended the stream itself: the device or its audio server is gone
                    self.on_end("mic: the input stream stopped (the device went away or its audio server exited)")
                    return
        self.on_end("stopped")


def parse_input(spec: str, rate: int = SAMPLE_RATE, fmt: str = "s16le", channels: int = 1, log=None,
                speed: float = 1.0) -> Source:
    """``mic``, ``stdin`` (or ``-``), ``tcp://HOST:PORT`` or an audio file path -> a Source."""
    if spec == "mic":
        return MicSource(None if rate == SAMPLE_RATE else rate, log=log)
    if spec in ("stdin", "-"):
        return StreamSource(None, rate, fmt, channels, log=log)
    if spec.startswith("tcp://"):
        host, port = parse_hostport(spec[len("tcp://"):], None, "--input tcp://")
        return TcpSource(host, port, rate, fmt, channels, log=log)
    return FileSource(spec, speed=speed, log=log)


def parse_hostport(text: str, default_port: int | None, what: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT``, ``PORT`` or ``HOST`` (with a default port) -> (host, port)."""
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "")
    if not _ and text.isdigit():
        host, port = "", text
    host = host or "127.0.0.1"
    if not port:
        if default_port is None:
            raise InputError(f"{what}{text}: give HOST:PORT")
        port = str(default_port)
    try:
        p = int(port)
    except ValueError:
        raise InputError(f"{what}{text}: port {port!r} is not a number") from None
    if not 0 <= p <= 65535:
        raise InputError(f"{what}{text}: port {p} is out of range")
    return host, p
