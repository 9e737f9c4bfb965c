"""Reassembling split records (拆分包, Flag bit D): ../shared/reference/hj212_2017.md §2.5.

Envmon rules: the parts of one record share (MN, CN, DataTime, PNUM); they may come in any order;
a repeated PNO with the same items is a retransmission (answered again, no second output); an
item with different values in two parts is ``bad_cp``; when every PNO is there the items merge
into one record; parts still waiting after the timeout (default 120 s) are ``split_incomplete``.
The clock is injected, so tests advance it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from pipeline.hj212.packet import Packet
from pipeline.messages.reasons import Reject, RejectReason

SplitKey = tuple[str | None, str | None, str | None, int | None]


class SplitStatus(Enum):
    PENDING = "pending"  # stored; more parts to come
    RETRANSMIT = "retransmit"  # a part already stored, same items
    COMPLETE = "complete"  # the last part: ``record`` is the merged record
    CONFLICT = "conflict"  # rejected: ``reject`` says why


@dataclass(frozen=True, slots=True)
class SplitResult:
    status: SplitStatus
    record: Packet | None = None
    reject: Reject | None = None


@dataclass
class _Record:
    since: float
    parts: dict[int, Packet] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)


def split_key(packet: Packet) -> SplitKey:
    h = packet.header
    return (h.mn, h.cn, packet.fields.get("DataTime"), h.pnum)


class Reassembler:
    def __init__(self, timeout_s: float = 120.0, clock: Callable[[], float] = time.monotonic):
        self.timeout_s = timeout_s
        self.clock = clock
        self._records: dict[SplitKey, _Record] = {}

    @property
    def waiting(self) -> int:
        """Records with parts missing."""
        return len(self._records)

    def add(self, part: Packet) -> SplitResult:
        key = split_key(part)
        record = self._records.get(key)
        if record is None:
            record = self._records[key] = _Record(self.clock())
        pno = part.header.pno or 0
        known = record.parts.get(pno)
        if known is not None:
            if known.items == part.items:
                return SplitResult(SplitStatus.RETRANSMIT)
            return SplitResult(
                SplitStatus.CONFLICT,
                reject=Reject(RejectReason.BAD_CP, "PNO", f"PNO={pno} again with other items"),
            )
        for name, value in part.items.items():
            other = record.items.get(name)
            if other is not None and other != value:
                return SplitResult(
                    SplitStatus.CONFLICT,
                    reject=Reject(
                        RejectReason.BAD_CP, name, f"{name}={value!r}, another part has {other!r}"
                    ),
                )
        record.parts[pno] = part
        record.items.update(part.items)
        if len(record.parts) < (part.header.pnum or 1):
            return SplitResult(SplitStatus.PENDING)
        del self._records[key]
        return SplitResult(SplitStatus.COMPLETE, record=merge(record.parts))

    def expire(self, now: float | None = None) -> list[list[Packet]]:
        """The parts of every record that waited longer than the timeout (all of them when
        ``now`` is infinite), each record's parts in PNO order; those records are dropped."""
        now = self.clock() if now is None else now
        expired = [k for k, r in self._records.items() if now - r.since >= self.timeout_s]
        return [[p for _, p in sorted(self._records.pop(k).parts.items())] for k in expired]


def merge(parts: dict[int, Packet]) -> Packet:
    """One record from all its parts: part 1's header, items and values merged in PNO order."""
    ordered = [parts[pno] for pno in sorted(parts)]
    first = ordered[0]
    items: dict[str, str] = {}
    values: dict[str, dict[str, float | str | None]] = {}
    fields: dict[str, str] = {}
    for part in ordered:
        items.update(part.items)
        fields.update(part.fields)
        for code, suffixes in part.values.items():
            values.setdefault(code, {}).update(suffixes)
    raw = b"".join(p.raw for p in ordered)
    return Packet(raw, first.header, items, values, fields, first.data_time)
