"""The platform side of HJ 212 without I/O: what becomes of each piece of a connection's stream.

``Receiver.receive`` validates a frame (:mod:`packet`), checks it against the device map (MN
registered, PW, Flag version), decides the answer (:mod:`response`), sets duplicates apart and
reassembles split records (:mod:`split`). The gateway and ``envmon hj212 decode`` share it.

Duplicates (../shared/reference/hj212_2017.md §5.4, envmon rule): a data frame is identified by
(MN, CN, DataTime, PNO), not by QN, since some loggers make a new QN for a resend. A frame whose
key was *committed* (its reading delivered) is answered again but yields nothing. The caller
commits the keys of an outcome once its reading is safe (the gateway: after the broker
acknowledged it), so a frame whose reading was lost is processed again when the logger resends.
Committed keys are kept up to ``dedupe_capacity``, oldest dropped first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.hj212.devices import Device, DeviceMap
from pipeline.hj212.frame import MAX_SEGMENT, Frame, Piece
from pipeline.hj212.packet import Header, Invalid, Packet, parse_frame
from pipeline.hj212.response import response_for
from pipeline.hj212.split import Reassembler, SplitStatus
from pipeline.messages.reasons import Reject, RejectReason

DedupeKey = tuple[str | None, str | None, str, int | None]


@dataclass(slots=True)
class Outcome:
    """One piece of the stream: accepted (``reject`` None) or rejected, with what is known."""

    raw: bytes
    offset: int  # in the connection's stream; -1 for parts of an expired split record
    reject: Reject | None = None
    header: Header | None = None
    packet: Packet | None = None
    device: Device | None = None
    response: bytes | None = None  # the frame to send back
    record: Packet | None = None  # a complete record to convert (the frame, or merged parts)
    keys: tuple[DedupeKey, ...] = ()  # commit these once the record's reading is safe
    duplicate: bool = False  # answered again, no output

    @property
    def accepted(self) -> bool:
        return self.reject is None


class Receiver:
    """``devices`` None: no registry checks (``envmon hj212 decode --no-registry``)."""

    def __init__(
        self,
        devices: DeviceMap | None,
        *,
        max_segment: int = MAX_SEGMENT,
        split_timeout_s: float = 120.0,
        dedupe_capacity: int = 200_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.devices = devices
        self.max_segment = max_segment
        self.splits = Reassembler(split_timeout_s, clock)
        self.dedupe_capacity = dedupe_capacity
        self._seen: dict[DedupeKey, None] = {}

    def receive(self, piece: Piece) -> Outcome:
        if not isinstance(piece, Frame):
            return Outcome(piece.raw, piece.offset, piece.reject)
        parsed = parse_frame(piece.raw, self.max_segment)
        if isinstance(parsed, Invalid):
            return Outcome(piece.raw, piece.offset, parsed.reject, parsed.header)
        out = Outcome(piece.raw, piece.offset, header=parsed.header, packet=parsed)
        out.reject = self._check_device(out)
        if out.reject is not None:
            return out
        out.response = response_for(parsed)
        self._route(out, parsed)
        if out.reject is not None:
            out.response = None  # rejected frames are never answered
        return out

    def _check_device(self, out: Outcome) -> Reject | None:
        header = out.header
        assert header is not None and header.mn is not None
        if self.devices is None:
            if header.version > 1:
                return _version_reject(header, "no station is configured for it")
            return None
        device = self.devices.get(header.mn)
        if device is None:
            return Reject(RejectReason.UNKNOWN_STATION, "MN", f"MN={header.mn} is not registered")
        out.device = device
        if header.pw != device.password:
            return Reject(RejectReason.BAD_PASSWORD, "PW", f"PW differs from MN={header.mn}'s")
        if header.version not in device.versions:
            return _version_reject(header, f"MN={header.mn} accepts {sorted(device.versions)}")
        return None

    def _route(self, out: Outcome, packet: Packet) -> None:
        """Duplicate, split part or record: sets ``record``, ``keys``, ``duplicate``."""
        key = dedupe_key(packet)
        if key is not None and key in self._seen:
            out.duplicate = True
            return
        if not packet.header.split:
            out.record = packet
            out.keys = () if key is None else (key,)
            return
        result = self.splits.add(packet)
        if result.status is SplitStatus.RETRANSMIT:
            out.duplicate = True
        elif result.status is SplitStatus.CONFLICT:
            out.reject = result.reject
        elif result.status is SplitStatus.COMPLETE:
            assert result.record is not None
            out.record = result.record
            parts = range(1, (packet.header.pnum or 1) + 1)
            out.keys = tuple((*key[:3], pno) for pno in parts) if key else ()

    def commit(self, keys: tuple[DedupeKey, ...]) -> None:
        """Remember ``keys`` as delivered: frames with them are duplicates from now on."""
        seen = self._seen
        for key in keys:
            seen[key] = None
        while len(seen) > self.dedupe_capacity:
            del seen[next(iter(seen))]

    def expire(self, now: float | None = None) -> list[Outcome]:
        """``split_incomplete`` for every part of every record that waited too long."""
        out = []
        for parts in self.splits.expire(now):
            have = ",".join(str(p.header.pno) for p in parts)
            for part in parts:
                reject = Reject(
                    RejectReason.SPLIT_INCOMPLETE,
                    "PNO",
                    f"parts {have} of PNUM={part.header.pnum} after the reassembly timeout",
                )
                out.append(Outcome(part.raw, -1, reject, part.header, part))
        return out


def dedupe_key(packet: Packet) -> DedupeKey | None:
    """(MN, CN, DataTime, PNO) of a data frame; None for frames without DataTime."""
    data_time = packet.fields.get("DataTime")
    if data_time is None:
        return None
    h = packet.header
    return (h.mn, h.cn, data_time, h.pno)


def _version_reject(header: Header, why: str) -> Reject:
    return Reject(
        RejectReason.BAD_HEADER_FIELD,
        "Flag",
        f"Flag={header.flag}: version {header.version} (HJ 212-2025) not accepted; {why}",
    )
