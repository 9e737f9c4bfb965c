"""Wire form of readings (JSON, ``"v": 1``) and its validating codec.

Why msgspec: it decodes JSON straight into typed structs and checks the schema while it parses, in
C — required fields, types, RFC 3339 timestamps with an offset (``Meta(tz=True)``), value bounds
(``Meta(ge=…, le=…)`` from ``limits.py``) and unknown fields — without building the dicts that
``json.loads`` builds. Decoding *and* validating is therefore faster than ``json.loads`` alone
(``bench/bench_codec.py``). Python runs only for what needs the registry or the clock, and on the
failure path, which parses the message again to name the reason precisely.

Wire forms, keyed by station id on Kafka; the topic tells air from water::

    {"v":1,"station":"1356A","ts":1764208800000,"interval":3600,"values":{"pm25":35.0},"flags":{}}
    {"v":1,"station":"1356A","readings":[{"ts":"2026-11-27T10:00:00+08:00","interval":3600,
                                          "values":{…},"flags":{…}}, …]}

``ts`` is epoch milliseconds or RFC 3339 with an offset. Unknown fields are ignored and counted.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Generic

import msgspec
import msgspec.inspect as mi
from msgspec import Meta

from pipeline.messages.readings import VALUES_TYPES, Reading, V
from pipeline.messages.reasons import Reject, RejectReason
from pipeline.registry import Registry, StationKind

VERSION = 1
FUTURE_TOLERANCE_MS = 10 * 60 * 1000
MIN_TS_MS = 946_684_800_000  # 2000-01-01T00:00:00Z: smaller values are epoch seconds or garbage
MAX_INTERVAL_S = 86_400  # a daily mean is the longest averaging interval

Timestamp = int | Annotated[datetime, Meta(tz=True)]
Interval = Annotated[int, Meta(gt=0, le=MAX_INTERVAL_S)]


class _Item(msgspec.Struct, Generic[V], forbid_unknown_fields=True, omit_defaults=True, gc=False):
    """One reading inside an envelope."""

    ts: Timestamp
    interval: Interval
    values: V
    flags: dict[str, str] = {}


class _Message(
    msgspec.Struct, Generic[V], forbid_unknown_fields=True, omit_defaults=True, gc=False
):
    """A single reading (``ts``, ``interval``, ``values`` at the top) or an envelope
    (``readings``); one struct so that either decodes in one pass."""

    v: int
    station: str
    ts: Timestamp | None = None
    interval: Interval | None = None
    values: V | None = None
    flags: dict[str, str] = {}
    readings: list[_Item[V]] | None = None


class _Versioned(msgspec.Struct):
    v: int


_encoder = msgspec.json.Encoder()


def encode_reading(reading: Reading[Any]) -> bytes:
    """The wire form of one reading, ``ts`` in epoch milliseconds."""
    return _encoder.encode(
        _Message(
            v=VERSION,
            station=reading.station,
            ts=reading.ts_ms,
            interval=reading.interval_s,
            values=reading.values,
            flags=reading.flags,
        )
    )


def encode_envelope(station: str, readings: Sequence[Reading[Any]]) -> bytes:
    """The wire form of one station's readings (in time order), ``ts`` in epoch milliseconds."""
    if any(r.station != station for r in readings):
        raise ValueError(f"an envelope holds readings of station {station!r} only")
    items = [_Item(r.ts_ms, r.interval_s, r.values, r.flags) for r in readings]
    return _encoder.encode(_Message(v=VERSION, station=station, readings=items))


class Decoder(Generic[V]):
    """Decodes the messages of one readings topic into readings, or a ``Reject``; never raises.

    ``clock`` returns the current time in epoch seconds (injected for tests and replays).
    ``unknown_fields`` counts ignored fields by path without indices (``values.pm1``,
    ``readings.extra``), for every well-formed v1 message, decoded or rejected.
    """

    def __init__(
        self, kind: StationKind, registry: Registry, clock: Callable[[], float] = time.time
    ) -> None:
        self.kind = kind
        self.unknown_fields: Counter[str] = Counter()
        self._stations = registry.stations
        self._clock = clock
        self._wire = _Message[VALUES_TYPES[kind]]  # type: ignore[valid-type]
        self._decoder = msgspec.json.Decoder(self._wire)
        self._shape = _shape(mi.type_info(self._wire))

    def decode(self, raw: bytes) -> list[Reading[V]] | Reject:
        """The readings of one message (one, or an envelope's, in time order), or why not."""
        try:
            message = self._decoder.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:  # bad UTF-8 in a string
            return self._diagnose(raw, exc)
        return self._check(message)

    def _diagnose(self, raw: bytes, exc: ValueError) -> list[Reading[V]] | Reject:
        """Failure path: parse leniently to name the first problem, version first; if the only
        problem is unknown fields, count them and decode the message without them."""
        try:
            doc = json.loads(raw.decode("utf-8"))  # takes NaN and Infinity; 1e400 becomes inf
        except (ValueError, RecursionError) as err:
            return Reject(RejectReason.MALFORMED_JSON, None, str(err) or type(err).__name__)
        try:
            version = msgspec.convert(doc, _Versioned).v
        except msgspec.ValidationError as err:
            return _reject_from(err)
        if version != VERSION:
            return _unknown_version(version)
        if (path := _first_non_finite(doc)) is not None:
            return Reject(RejectReason.NON_FINITE, path, "NaN or infinite number")
        unknown: list[str] = []
        known = _strip(doc, self._shape, "", unknown)
        self.unknown_fields.update(unknown)
        if not str(exc).startswith("Object contains unknown field"):
            return _reject_from(exc)
        try:
            message = msgspec.convert(known, self._wire)
        except msgspec.ValidationError as err:
            return _reject_from(err)
        return self._check(message)

    def _check(self, message: _Message[V]) -> list[Reading[V]] | Reject:
        """The checks msgspec cannot do: version, station, message shape, time."""
        if message.v != VERSION:
            return _unknown_version(message.v)
        station = self._stations.get(message.station)
        if station is None:
            return Reject(
                RejectReason.UNKNOWN_STATION, "station", f"{message.station!r} is not registered"
            )
        if station.kind is not self.kind:
            return Reject(
                RejectReason.WRONG_STATION_KIND,
                "station",
                f"{message.station!r} is a {station.kind} station, this is the {self.kind} topic",
            )
        if message.readings is None:
            if message.ts is None or message.interval is None or message.values is None:
                name = next(n for n in ("ts", "interval", "values") if getattr(message, n) is None)
                return Reject(RejectReason.MISSING_FIELD, name, f"a reading needs `{name}`")
            return self._single(message)
        if (
            message.ts is not None
            or message.interval is not None
            or message.values is not None
            or message.flags
        ):
            return Reject(
                RejectReason.WRONG_TYPE,
                None,
                "an envelope has ts, interval, values, flags per reading",
            )
        elif not message.readings:
            return Reject(RejectReason.EMPTY_ENVELOPE, "readings", "an envelope without readings")
        return self._envelope(message.station, message.readings)

    def _latest_ms(self) -> int:
        """The latest event time accepted now."""
        return int(self._clock() * 1000) + FUTURE_TOLERANCE_MS

    def _single(self, message: _Message[V]) -> list[Reading[V]] | Reject:
        """A single reading: the live path, kept out of the envelope's loop for speed."""
        ts = message.ts if type(message.ts) is int else _epoch_ms(message.ts)  # type: ignore[arg-type]
        latest = self._latest_ms()
        if ts < MIN_TS_MS or ts > latest:
            return _time_reject(ts, latest, "ts")
        return [Reading(message.station, ts, message.interval, message.values, message.flags)]  # type: ignore[arg-type]

    def _envelope(self, station: str, items: Sequence[_Item[V]]) -> list[Reading[V]] | Reject:
        latest = self._latest_ms()
        previous = 0
        readings: list[Reading[V]] = []
        for i, item in enumerate(items):
            ts = item.ts if type(item.ts) is int else _epoch_ms(item.ts)  # type: ignore[arg-type]
            if ts < MIN_TS_MS or ts > latest or ts <= previous:
                return _time_reject(ts, latest, f"readings[{i}].ts")
            previous = ts
            readings.append(Reading(station, ts, item.interval, item.values, item.flags))  # type: ignore[arg-type]
        return readings


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def _epoch_ms(ts: datetime) -> int:
    return (ts - _EPOCH) // _MS


def _time_reject(ts: int, latest: int, field: str) -> Reject:
    if ts < MIN_TS_MS:
        return Reject(RejectReason.BAD_TIMESTAMP, field, f"{ts} ms is before 2000-01-01")
    if ts > latest:
        ahead = (ts - latest + FUTURE_TOLERANCE_MS) / 1000
        return Reject(RejectReason.FUTURE_TIMESTAMP, field, f"{ahead:.0f} s ahead of the clock")
    return Reject(RejectReason.ENVELOPE_OUT_OF_ORDER, field, "not later than the reading before it")


def _unknown_version(version: int) -> Reject:
    return Reject(RejectReason.UNKNOWN_VERSION, "v", f"v={version}; this decoder reads v={VERSION}")


_MISSING = re.compile(r"Object missing required field `(?P<name>[^`]*)`")
_BOUND = re.compile(r"Expected `\w+` (?P<op>[<>]=?) (?P<bound>\S+)")


def _reject_from(exc: ValueError) -> Reject:
    """Map a msgspec error ("Expected `float` >= 0.0 - at `$.values.pm25`") to a reject."""
    text = str(exc)
    if not isinstance(exc, msgspec.ValidationError):
        return Reject(RejectReason.MALFORMED_JSON, None, text)
    message, _, where = text.partition(" - at `$")
    path = where.rstrip("`").replace("[...]", "").lstrip(".") or None  # [...]: a dict's value
    if missing := _MISSING.fullmatch(message):
        return Reject(RejectReason.MISSING_FIELD, _join(path, missing["name"]), message)
    if path is not None and path.rpartition(".")[2] == "ts":
        return Reject(RejectReason.BAD_TIMESTAMP, path, message)
    if bound := _BOUND.fullmatch(message):
        zero_floor = bound["op"] == ">=" and float(bound["bound"]) == 0
        reason = RejectReason.NEGATIVE_VALUE if zero_floor else RejectReason.IMPLAUSIBLE_VALUE
        return Reject(reason, path, message)
    if message == "Number out of range":
        return Reject(RejectReason.IMPLAUSIBLE_VALUE, path, message)
    return Reject(RejectReason.WRONG_TYPE, path, message)


def _join(path: str | None, key: str) -> str:
    return f"{path}.{key}" if path else key


def _first_non_finite(doc: Any) -> str | None:
    """Path of the first NaN or infinite number in a parsed document (iterative: any depth)."""
    stack: list[tuple[Any, str | None]] = [(doc, None)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return path
        if isinstance(node, dict):
            stack.extend((v, _join(path, k)) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(node))))
    return None


Shape = dict[str, "Shape | None"]


def _shape(t: mi.Type) -> Shape | None:
    """The JSON keys a struct type knows, nested for struct fields (through unions and lists)."""
    if isinstance(t, mi.StructType):
        return {f.encode_name: _shape(f.type) for f in t.fields}
    if isinstance(t, mi.ListType):
        return _shape(t.item_type)
    if isinstance(t, mi.UnionType):
        return next((s for s in map(_shape, t.types) if s is not None), None)
    return None


def _strip(node: Any, shape: Shape, prefix: str, unknown: list[str]) -> Any:
    """``node`` without the keys ``shape`` does not know; their paths are appended to
    ``unknown``. Recursion follows ``shape``, so its depth is the schema's."""
    if isinstance(node, list):
        return [_strip(x, shape, prefix, unknown) if isinstance(x, dict) else x for x in node]
    if not isinstance(node, dict):
        return node
    known = {}
    for key, value in node.items():
        if key not in shape:
            unknown.append(prefix + key)
        else:
            sub = shape[key]
            known[key] = value if sub is None else _strip(value, sub, f"{prefix}{key}.", unknown)
    return known
