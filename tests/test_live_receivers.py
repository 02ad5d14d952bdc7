"""`dreamtalk live` against real receivers on 127.0.0.1: a Live Link Face decoder written from the packet layout
(independent of the encoder), and python-osc's server for the VMC protocol."""
from __future__ import annotations

import socket
import struct
import threading
import time

import numpy as np
import pytest

from conftest import SHARED


def decode_livelink(pkt: bytes) -> dict:
    """Parse one Live Link Face packet (version 6): big-endian fields as the iPhone app sends them."""
    pos = 0

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from(fmt, pkt, pos)
        pos += struct.calcsize(fmt)
        return vals

    (version,) = take(">B")
    (n,) = take(">I")
    device = pkt[pos:pos + n].decode()
    pos += n
    (n,) = take(">I")
    subject = pkt[pos:pos + n].decode()
    pos += n
    frame, sub, num, den = take(">ifii")
    (count,) = take(">B")
    values = np.array(take(f">{count}f"))
    assert pos == len(pkt), "trailing bytes"
    return {"version": version, "device": device, "subject": subject, "frame": frame, "subframe": sub,
            "rate": (num, den), "values": values}


def _udp_server():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.05)
    return s


def _drain(sock, stop, got):
    while not stop.is_set():
        try:
            got.append((sock.recv(65536), time.perf_counter()))
        except socket.timeout:
            pass


def test_livelink_packets_decode_in_live_link_order():
    from dreamtalk.exporters.livelink_udp import LiveLinkSender
    from dreamtalk.rigs.arkit import ARKIT_NAMES, INDEX, LLF_COLUMNS

    srv = _udp_server()
    port = srv.getsockname()[1]
    s = LiveLinkSender([("127.0.0.1", port)], subject="Anna")
    w = np.linspace(0.0, 1.0, 52).astype(np.float32)  # every channel a distinct value
    head = np.array([0.1, -0.2, 0.3], np.float32)  # pitch, yaw, roll
    s.send(w, head, frame_number=123456, subframe=0.0, rate=60)
    s.close()
    p = decode_livelink(srv.recv(65536))
    srv.close()
    assert p["version"] == 6 and p["subject"] == "Anna" and len(p["device"]) == 36
    assert p["frame"] == 123456 and p["rate"] == (60, 1)
    assert len(p["values"]) == 61
    cols = list(LLF_COLUMNS)
    assert cols.index("JawRight") < cols.index("JawLeft") and cols.index("MouthRight") < cols.index("MouthLeft")
    for name in ARKIT_NAMES:  # every value sits under its own name
        col = cols.index(name[0].upper() + name[1:])
        assert p["values"][col] == pytest.approx(w[INDEX[name]], abs=1e-6), name
    assert p["values"][cols.index("HeadYaw")] == pytest.approx(-0.2)
    assert p["values"][cols.index("HeadPitch")] == pytest.approx(0.1)
    assert p["values"][cols.index("HeadRoll")] == pytest.approx(0.3)


def test_livelink_channel_order_matches_a_real_take_header():
    from dreamtalk.rigs.arkit import LLF_COLUMNS
    csv = SHARED / "data" / "livelink_sample.csv"
    if not csv.is_file():
        pytest.skip("../shared not available")
    header = csv.read_text().splitlines()[0].split(",")
    assert tuple(header[2:]) == LLF_COLUMNS


def _speech(path, seconds=1.5):
    from dreamtalk.core.audio import write_wav
    from dreamtalk.core.audio import speechlike_audio
    a, sr = speechlike_audio(seconds)
    write_wav(path, a, sr)
    return path


def test_live_cli_streams_livelink_frames_on_a_steady_clock(run_cli, tmp_path):
    srv = _udp_server()
    port = srv.getsockname()[1]
    wav = _speech(tmp_path / "s.wav", 1.5)
    got, stop = [], threading.Event()
    t = threading.Thread(target=_drain, args=(srv, stop, got))
    t.start()
    r = run_cli("live", "--input", wav, "--livelink", f"127.0.0.1:{port}", "--subject", "Tester",
                "--fps", "60", "--record", tmp_path / "rec.csv")
    time.sleep(0.1)
    stop.set()
    t.join()
    srv.close()
    assert r.returncode == 0, r.stderr
    pk = [decode_livelink(d) for d, _ in got]
    assert len(pk) in (90, 91)  # 1.5 s x 60 fps (+-1)
    assert {p["subject"] for p in pk} == {"Tester"} and {p["rate"] for p in pk} == {(60, 1)}
    frames = np.array([p["frame"] for p in pk])
    assert np.all(np.diff(frames) == 1)  # timecode frames from the sender's clock, none skipped
    arrival = np.array([a for _, a in got])
    gaps = np.diff(arrival)
    assert abs(np.median(gaps) - 1 / 60) < 0.003 and (arrival[-1] - arrival[0]) == pytest.approx(len(pk) / 60, abs=0.1)
    # the recording holds exactly what was sent, by name
    from dreamtalk.core.formats import read_animation, livelink_values
    rec = read_animation(tmp_path / "rec.csv", fps=60)
    assert rec.num_frames == len(pk)
    sent = np.stack([p["values"] for p in pk])
    rows = livelink_values(rec.weights, rec.head_rotation)
    assert np.abs(rows[:, :55] - sent[:, :55]).max() < 1e-6


def test_vmc_messages_reach_python_osc_server(run_cli, tmp_path):
    pytest.importorskip("pythonosc")
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import ThreadingOSCUDPServer
    from dreamtalk.rigs.arkit import ARKIT_NAMES

    log = []
    d = Dispatcher()
    d.set_default_handler(lambda addr, *args: log.append((addr, args)))
    server = ThreadingOSCUDPServer(("127.0.0.1", 0), d)
    port = server.server_address[1]
    th = threading.Thread(target=server.serve_forever, daemon=True)
    th.start()
    wav = _speech(tmp_path / "s.wav", 1.0)
    r = run_cli("live", "--input", wav, "--vmc", f"127.0.0.1:{port}", "--fps", "30", "--speed", "2")
    time.sleep(0.2)
    server.shutdown()
    server.server_close()
    assert r.returncode == 0, r.stderr
    applies = [i for i, (a, _) in enumerate(log) if a == "/VMC/Ext/Blend/Apply"]
    assert 25 <= len(applies) <= 31  # 1 s at 30 fps
    # each frame: Bone/Pos Head, then 52 Blend/Val by ARKit name in [0, 1], then Apply
    first = log[:applies[0] + 1]
    vals = [args for a, args in first if a == "/VMC/Ext/Blend/Val"]
    assert [v[0] for v in vals] == list(ARKIT_NAMES)
    assert all(0.0 <= v[1] <= 1.0 for v in vals)
    bone = [args for a, args in first if a == "/VMC/Ext/Bone/Pos"][0]
    assert bone[0] == "Head" and len(bone) == 8
    assert np.linalg.norm(bone[4:8]) == pytest.approx(1.0, abs=1e-5)
    assert first[-1][0] == "/VMC/Ext/Blend/Apply"
    last_val = max(i for i, (a, _) in enumerate(first) if a == "/VMC/Ext/Blend/Val")
    assert last_val < applies[0]


def test_unity_head_quaternion_turns_the_right_way():
    from dreamtalk.exporters.vmc import unity_head_quaternion
    # +yaw turns the face to the subject's left = the avatar's -X in Unity: a negative rotation about Unity's Y
    q = unity_head_quaternion(np.array([0.0, 0.4, 0.0]))
    assert q[1] < 0 and q[3] > 0
    # +pitch is chin down: Unity's positive X rotation looks down
    q = unity_head_quaternion(np.array([0.4, 0.0, 0.0]))
    assert q[0] > 0


def test_a_closed_receiver_port_is_one_line_and_the_stream_goes_on():
    from dreamtalk.exporters.livelink_udp import LiveLinkSender
    srv = _udp_server()
    port = srv.getsockname()[1]
    srv.close()  # nothing listens there now
    lines = []
    s = LiveLinkSender([("127.0.0.1", port)], log=lines.append)
    for n in range(20):
        s.send(np.zeros(52), np.zeros(3), n, 0.0, 60)
        time.sleep(0.002)
    s.close()
    assert s.sent == 20 and len(lines) == 1 and "still sending" in lines[0]


def test_stdin_pcm_from_a_pipe_is_streamed_and_recorded(tmp_path):
    import subprocess
    from conftest import dreamtalk_command
    from dreamtalk.core.audio import speechlike_audio
    from dreamtalk.core.formats import read_animation
    a, _ = speechlike_audio(1.0)
    pcm = (a * 30000).astype("<i2").tobytes()
    r = subprocess.run(dreamtalk_command() + ["live", "--input", "stdin", "--fps", "30", "--record",
                                              str(tmp_path / "r.json")], input=pcm, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    rec = read_animation(tmp_path / "r.json")
    assert rec.fps == 30 and rec.num_frames >= 25 and rec.metadata["live"] is True


def test_emotion_commands_on_the_cli_stdin(tmp_path):
    import subprocess
    from conftest import dreamtalk_command
    from dreamtalk.core.formats import read_animation
    wav = _speech(tmp_path / "s.wav", 1.0)
    r = subprocess.run(dreamtalk_command() + ["live", "--input", str(wav), "--record", str(tmp_path / "r.json"),
                                              "--fps", "30"],
                       input=b"emotion happy 0.8\nemotion grumpy\n", capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    err = r.stderr.decode()
    assert "emotion happy intensity 0.8" in err and "unknown emotion" in err.lower()
    assert read_animation(tmp_path / "r.json").metadata["emotion"] == "happy"
