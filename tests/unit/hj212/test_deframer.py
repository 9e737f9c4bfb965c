"""Deframing a TCP stream (reference §1.5): pieces, several frames per read, every reject."""

from __future__ import annotations

import pytest

from pipeline.hj212.frame import MAX_FRAME, Deframer, Frame, Rejected
from pipeline.hj212.response import encode_frame
from pipeline.messages import RejectReason as R
from tests.unit.hj212.vectors import AIR_HOURLY_2061, AIR_RTD_2011, ALL, WATER_SPLIT_1

STREAM = b"".join(ALL)


def frames_of(pieces: list[Frame | Rejected]) -> list[bytes]:
    assert all(isinstance(p, Frame) for p in pieces), pieces
    return [p.raw for p in pieces]


def test_several_frames_in_one_read() -> None:
    assert frames_of(Deframer().feed(STREAM)) == ALL


@pytest.mark.parametrize("size", [1, 2, 7, 100, 1035])
def test_frames_split_across_reads(size: int) -> None:
    deframer = Deframer()
    pieces = []
    for i in range(0, len(STREAM), size):
        pieces += deframer.feed(STREAM[i : i + size])
    pieces += deframer.close()
    assert frames_of(pieces) == ALL
    assert [p.offset for p in pieces] == [STREAM.index(f) for f in ALL]


def reasons(data: bytes, close: bool = True) -> list[tuple[str, bytes]]:
    deframer = Deframer()
    pieces = deframer.feed(data) + (deframer.close() if close else [])
    return [("frame" if isinstance(p, Frame) else p.reject.reason.value, p.raw) for p in pieces]


def test_junk_before_a_frame_is_missing_header() -> None:
    assert reasons(b"AT+CSQ\r\nOK\r\n" + AIR_RTD_2011) == [
        ("missing_header", b"AT+CSQ\r\nOK\r\n"),
        ("frame", AIR_RTD_2011),
    ]


def test_junk_alone_at_close_is_missing_header() -> None:
    assert reasons(b"HEARTBEAT#") == [("missing_header", b"HEARTBEAT#")]


def test_length_field_not_digits() -> None:
    bad = b"##01A1QN=1;CP=&&&&1234\r\n"
    assert reasons(bad + AIR_RTD_2011) == [("bad_length_field", bad), ("frame", AIR_RTD_2011)]


def test_length_field_not_digits_up_to_next_header() -> None:
    assert reasons(b"##x" + AIR_RTD_2011) == [("bad_length_field", b"##x"), ("frame", AIR_RTD_2011)]


def test_declared_length_too_big() -> None:
    n = int(AIR_RTD_2011[2:6])
    bad = b"##%04d" % (n + 5) + AIR_RTD_2011[6:]
    assert reasons(bad + AIR_HOURLY_2061) == [
        ("length_mismatch", bad),
        ("frame", AIR_HOURLY_2061),
    ]


def test_declared_length_too_small() -> None:
    n = int(AIR_RTD_2011[2:6])
    bad = b"##%04d" % (n - 3) + AIR_RTD_2011[6:]
    assert reasons(bad + AIR_HOURLY_2061) == [
        ("length_mismatch", bad),
        ("frame", AIR_HOURLY_2061),
    ]


def test_no_crlf_before_next_header_is_bad_terminator() -> None:
    bad = AIR_RTD_2011[:-2] + b"XX"
    assert reasons(bad + AIR_HOURLY_2061) == [("bad_terminator", bad), ("frame", AIR_HOURLY_2061)]


def test_lf_only_is_bad_terminator_unless_lenient() -> None:
    bad = AIR_RTD_2011[:-2] + b"\n"
    assert reasons(bad + AIR_HOURLY_2061)[0] == ("bad_terminator", bad)
    lenient = Deframer(lenient_terminator=True).feed(bad + AIR_HOURLY_2061)
    assert frames_of(lenient) == [bad, AIR_HOURLY_2061]


def test_partial_frame_at_close_is_truncated() -> None:
    assert reasons(WATER_SPLIT_1[:100]) == [("truncated", WATER_SPLIT_1[:100])]
    assert reasons(WATER_SPLIT_1[:100], close=False) == []


def test_close_then_feed_again() -> None:
    deframer = Deframer()
    deframer.feed(AIR_RTD_2011[:50])
    assert [p.reject.reason for p in deframer.close()] == [R.TRUNCATED]  # type: ignore[union-attr]
    assert frames_of(deframer.feed(AIR_RTD_2011)) == [AIR_RTD_2011]


def test_utf8_segment_length_counts_bytes() -> None:
    frame = encode_frame("QN=1;ST=22;CN=3020;MN=M1;CP=&&i11001-Info=//清洗管路//&&")
    n = int(frame[2:6])
    assert n == len(frame) - 12 and n > len(frame.decode()) - 12
    assert frames_of(Deframer().feed(frame)) == [frame]


def test_buffer_stays_bounded_without_header() -> None:
    deframer = Deframer()
    out = []
    for _ in range(50):
        out += deframer.feed(b"x" * 4096)
        assert deframer.pending < MAX_FRAME
    assert {p.reject.reason for p in out} == {R.MISSING_HEADER}  # type: ignore[union-attr]
    assert sum(len(p.raw) for p in out) + deframer.pending == 50 * 4096
