"""Fuzzing the deframer and the parser: no exception escapes, memory stays bounded.

hypothesis mutates the reference packets and draws random bytes; atheris (libFuzzer,
coverage-guided) runs ``atheris_hj212.py`` from the reference packets as its corpus.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.hj212.frame import MAX_FRAME, Deframer, Frame
from pipeline.hj212.packet import Invalid, Packet, parse_frame
from pipeline.hj212.receiver import Receiver
from tests.unit.hj212.vectors import ALL

STREAM = b"".join(ALL)
ALPHABET = b"#0123456789\r\n;=,&-QNSTCPWMFlagDat/\xe6\xb8\x85 "


@st.composite
def mutated_streams(draw: st.DrawFn) -> bytes:
    """The reference packets with bytes replaced, inserted and deleted."""
    data = bytearray(STREAM)
    for _ in range(draw(st.integers(0, 20))):
        i = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["set", "ins", "del"]))
        byte = draw(st.sampled_from(list(ALPHABET)))
        if op == "set" and i < len(data):
            data[i] = byte
        elif op == "ins":
            data.insert(i, byte)
        elif i < len(data):
            del data[i]
    return bytes(data)


streams = st.one_of(
    mutated_streams(),
    st.binary(max_size=3000),
    st.lists(st.sampled_from(list(ALPHABET)), max_size=3000).map(bytes),
)


@settings(max_examples=400, deadline=None)
@given(streams, st.integers(1, 600))
def test_deframer_and_receiver_never_raise_and_stay_bounded(data: bytes, size: int) -> None:
    deframer = Deframer()
    receiver = Receiver(None)
    total = 0
    for i in range(0, len(data), size):
        for piece in deframer.feed(data[i : i + size]):
            total += len(piece.raw)
            outcome = receiver.receive(piece)
            assert outcome.accepted or outcome.response is None
        assert deframer.pending <= MAX_FRAME + size
    for piece in deframer.close():
        total += len(piece.raw)
        receiver.receive(piece)
    assert total == len(data)  # every byte ends in exactly one piece: nothing lost
    assert deframer.pending == 0


@settings(max_examples=400, deadline=None)
@given(mutated_streams())
def test_parser_returns_a_packet_or_a_reason(data: bytes) -> None:
    for piece in Deframer().feed(data):
        if isinstance(piece, Frame):
            result = parse_frame(piece.raw)
            assert isinstance(result, Packet | Invalid)


def test_atheris_finds_no_crash(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, frame in enumerate(ALL):
        (corpus / f"ref{i}").write_bytes(b"\x40" + frame)
    (corpus / "stream").write_bytes(b"\x07" + STREAM)
    harness = Path(__file__).with_name("atheris_hj212.py")
    run = subprocess.run(
        [sys.executable, str(harness), "-runs=5000", "-max_len=4096", str(corpus)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[3],
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Done 5000 runs" in run.stderr
