"""Dead letters: a rejected input with its reason, its Kafka coordinates and its raw bytes."""

from __future__ import annotations

import base64
from typing import Literal

import msgspec

from pipeline.messages.reasons import Reject, RejectReason


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    v: int = 1
    reason: RejectReason
    field: str | None
    detail: str
    source_topic: str
    partition: int
    offset: int
    key: str | None
    raw: str  # the message as received: text, or base64 when not valid UTF-8
    raw_encoding: Literal["utf8", "base64"]
    rejected_ms: int


def dead_letter_from(
    reject: Reject,
    raw: bytes,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | str | None,
    now_ms: int,
) -> DeadLetter:
    """The dead letter for ``raw``; bytes that are not UTF-8 are kept intact as base64."""
    try:
        text, encoding = raw.decode("utf-8"), "utf8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(raw).decode("ascii"), "base64"
    if isinstance(key, bytes):
        key = key.decode("utf-8", errors="backslashreplace")
    return DeadLetter(
        reason=reject.reason,
        field=reject.field,
        detail=reject.detail,
        source_topic=topic,
        partition=partition,
        offset=offset,
        key=key,
        raw=text,
        raw_encoding=encoding,  # type: ignore[arg-type]
        rejected_ms=now_ms,
    )
