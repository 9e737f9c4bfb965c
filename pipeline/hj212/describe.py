"""One JSON object per piece of a stream, as ``envmon hj212 decode`` writes it (docs/hj212.md)."""

from __future__ import annotations

from typing import Any

from pipeline.hj212.codes import COMMANDS
from pipeline.hj212.packet import Header
from pipeline.hj212.receiver import Outcome


def header_doc(h: Header) -> dict[str, Any]:
    return {
        "QN": h.qn,
        "ST": h.st,
        "CN": h.cn,
        "PW": h.pw,
        "MN": h.mn,
        "Flag": h.flag,
        "version": h.version,
        "ack_required": h.ack_required,
        "split": h.split,
        "PNUM": h.pnum,
        "PNO": h.pno,
    }


def describe(outcome: Outcome) -> dict[str, Any]:
    """``accept``, ``reason`` and ``detail`` (rejected only), ``kind`` (what the frame is, by
    CN), ``header``, ``data_time`` (RFC 3339, +08:00), ``values`` (factor code -> suffix ->
    value; numbers, flags and texts as strings, empty values null), ``fields`` (plain CP fields),
    ``station`` (with the registry), ``duplicate`` and ``response`` (the exact answer frame, or
    null)."""
    h, packet = outcome.header, outcome.packet
    doc: dict[str, Any] = {"accept": outcome.accepted}
    if outcome.reject is not None:
        doc["reason"] = outcome.reject.reason.value
        doc["detail"] = outcome.reject.detail
    known = h is not None and h.cn in COMMANDS
    doc["kind"] = COMMANDS[h.cn][0] if known else None  # type: ignore[index, union-attr]
    doc["header"] = None if h is None else header_doc(h)
    doc["data_time"] = None
    doc["values"] = None
    doc["fields"] = None
    if packet is not None:
        doc["data_time"] = packet.data_time.isoformat() if packet.data_time else None
        doc["values"] = packet.values
        doc["fields"] = packet.fields
    doc["station"] = outcome.device.station if outcome.device else None
    doc["duplicate"] = outcome.duplicate
    doc["response"] = outcome.response.decode("utf-8") if outcome.response else None
    return doc
