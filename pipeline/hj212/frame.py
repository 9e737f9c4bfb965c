"""Deframing an HJ 212 byte stream: ``##`` LLLL segment CCCC CR LF, in pieces or several per read.

Implements ../shared/reference/hj212_2017.md §1.5 (an envmon rule; the standard defines one frame
only): junk before ``##`` is ``missing_header``; LLLL must be 4 digits (``bad_length_field``,
discarded through the next CR LF or up to the next ``##``); a CR LF before the declared end, or
after it when the bytes at the end are not CR LF, is ``length_mismatch``; no CR LF before the next
``##`` is ``bad_terminator``; partial bytes at close or idle are ``truncated``. Complete frames are
returned as bytes for :mod:`pipeline.hj212.packet` to validate.

Memory is bounded: the buffer holds at most one frame of the largest declarable size (LLLL is 4
digits) plus one read, junk is cut into records of at most ``MAX_FRAME`` bytes, and a frame whose
end cannot be found within that size is rejected at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.messages.reasons import Reject, RejectReason

HEAD = b"##"
CRLF = b"\r\n"
MAX_SEGMENT = 1024  # HJ 212-2017 table 2
MAX_DECLARABLE = 9999  # LLLL has 4 digits
MAX_FRAME = 2 + 4 + MAX_DECLARABLE + 4 + 2
_DIGITS = frozenset(b"0123456789")


@dataclass(frozen=True, slots=True)
class Rejected:
    """Bytes that are not a frame, or a frame that failed a check, and why."""

    reject: Reject
    raw: bytes
    offset: int  # of the first byte in the connection's stream


@dataclass(frozen=True, slots=True)
class Frame:
    """A complete frame (``##`` through CR LF) whose framing is right; not yet validated."""

    raw: bytes
    offset: int


Piece = Frame | Rejected


def _rejected(reason: RejectReason, detail: str, raw: bytes, offset: int) -> Rejected:
    return Rejected(Reject(reason, None, detail), raw, offset)


def _mismatch(n: int, found: int) -> str:
    return f"LLLL={n}: expected {n + 4} bytes (segment and CRC) before CR LF, found {found}"


class Deframer:
    """Cuts one connection's byte stream into frames and rejected pieces; never raises.

    ``lenient_terminator`` also ends a frame with a lone LF or CR at the declared end (some
    loggers send those; the reference's default is strict).
    """

    def __init__(self, lenient_terminator: bool = False) -> None:
        self.lenient = lenient_terminator
        self._buf = bytearray()
        self._offset = 0  # stream offset of _buf[0]
        self._closing = False  # no more bytes will come: decide instead of waiting

    @property
    def pending(self) -> int:
        """Bytes held, waiting for the rest of a frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Piece]:
        """The frames and rejected pieces completed by ``data``."""
        self._buf += data
        out: list[Piece] = []
        while self._buf:
            piece = self._next()
            if piece is None:
                break
            out.append(piece)
        return out

    def close(self) -> list[Piece]:
        """At connection close or idle timeout: what is left, as ``truncated`` (a started frame)
        or ``missing_header`` (junk). The deframer can be fed again afterwards."""
        self._closing = True
        try:
            out = self.feed(b"")
        finally:
            self._closing = False
        if self._buf:  # a started frame: junk and decidable frames were cut above
            n = len(self._buf)
            out.append(self._cut(RejectReason.TRUNCATED, f"stream ended {n} bytes into a frame", n))
        return out

    # --- one step ----------------------------------------------------------------------------
    def _take(self, n: int) -> bytes:
        raw = bytes(self._buf[:n])
        del self._buf[:n]
        self._offset += n
        return raw

    def _cut(self, reason: RejectReason, detail: str, n: int) -> Rejected:
        offset = self._offset
        return _rejected(reason, detail, self._take(n), offset)

    def _next(self) -> Piece | None:
        buf = self._buf
        start = buf.find(HEAD)
        if start != 0:
            if start > 0:
                return self._cut(RejectReason.MISSING_HEADER, f"{start} bytes before '##'", start)
            # no '##' yet: keep a trailing '#', report junk in bounded records
            n = len(buf) - (1 if buf.endswith(b"#") and not self._closing else 0)
            if n >= MAX_FRAME or (self._closing and n):
                return self._cut(RejectReason.MISSING_HEADER, f"{n} bytes without '##'", n)
            return None
        if len(buf) < 6:
            return None
        length_field = buf[2:6]
        if not all(b in _DIGITS for b in length_field):
            return self._bad_length(length_field)
        n = int(length_field)
        end = 6 + n + 4  # where CR LF must start
        early = buf.find(CRLF, 6, end + 1)  # a CR LF starting before `end`
        if 0 <= early < end:
            return self._cut(
                RejectReason.LENGTH_MISMATCH,
                _mismatch(n, early - 6),
                early + 2,
            )
        if len(buf) < end + 2:
            return None
        if buf[end : end + 2] == CRLF:
            offset = self._offset
            return Frame(self._take(end + 2), offset)
        if self.lenient and buf[end] in (0x0A, 0x0D):
            offset = self._offset
            return Frame(self._take(end + 1), offset)
        return self._bad_end(n, end)

    def _bad_length(self, field: bytearray) -> Piece | None:
        buf = self._buf
        crlf = buf.find(CRLF, 2)
        head = buf.find(HEAD, 2)
        ends = [i + 2 for i in (crlf,) if i >= 0] + [i for i in (head,) if i >= 0]
        if not ends:
            if len(buf) < MAX_FRAME and not self._closing:
                return None
            ends = [len(buf)]
        return self._cut(
            RejectReason.BAD_LENGTH_FIELD,
            f"LLLL is {bytes(field)!r}, not 4 digits",
            min(ends),
        )

    def _bad_end(self, n: int, end: int) -> Piece | None:
        buf = self._buf
        crlf = buf.find(CRLF, end)
        head = buf.find(HEAD, end)
        if crlf >= 0 and (head < 0 or crlf < head):
            return self._cut(
                RejectReason.LENGTH_MISMATCH,
                _mismatch(n, crlf - 6),
                crlf + 2,
            )
        if head >= 0:
            return self._cut(
                RejectReason.BAD_TERMINATOR,
                f"no CR LF after the CRC (found {bytes(buf[end : end + 2])!r})",
                head,
            )
        if len(buf) < MAX_FRAME and not self._closing:
            return None
        return self._cut(
            RejectReason.BAD_TERMINATOR,
            f"no CR LF after the CRC (found {bytes(buf[end : end + 2])!r})",
            len(buf),
        )
