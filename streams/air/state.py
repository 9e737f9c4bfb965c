"""Table values of the air agents: what one station (``StationState``) and one city
(``ScopeState``) carry from message to message.

All are msgspec structs, so a Faust table can store them with ``msgspec.msgpack`` (or JSON);
``array_like`` keeps the small repeated ones compact. Times are epoch milliseconds (UTC).
"""

from __future__ import annotations

import msgspec


class Track(msgspec.Struct, array_like=True, gc=False):
    """Recent usable values of one pollutant at one station, oldest first (bounded by the QC
    window), and the length of the run of identical values ending with the last one."""

    recent: list[float]
    run: int = 0


class QcState(msgspec.Struct, gc=False):
    """Quality-control memory of one station, per pollutant key."""

    tracks: dict[str, Track] = {}


class Acc(msgspec.Struct, array_like=True, gc=False):
    """One pollutant in one open hour: the sum of unflagged values × their interval, the seconds
    of sampling they cover, and how many values were flagged."""

    weighted: float = 0.0
    seconds: int = 0
    flagged: int = 0


class Bucket(msgspec.Struct, array_like=True, gc=False):
    """One open clock hour of one station: event times taken (ms after the hour's start, for
    duplicate detection) and the accumulators per pollutant."""

    seen: set[int] = set()
    accs: dict[str, Acc] = {}


class StationState(msgspec.Struct, gc=False):
    """Everything one air station needs between readings.

    ``watermark_ms``: the latest event time taken.
    ``closed_until_ms``: every clock hour starting before it is closed (0: none yet).
    ``history``: per pollutant the valid hourly means of the 24 closed hours ending at
    ``closed_until_ms``, oldest first, None where missing; a key without any value is dropped.
    ``source``: (partition, offset) of the last message whose readings are in this state, so
    that a message read again after a crash is recognised and not taken twice.
    ``accepted``: readings taken in total (the reconciliation of readings and dead letters).
    ``interval_ms``: the reporting interval of its latest reading (0: none yet), for the offline
    rule.
    """

    station: str
    qc: QcState = msgspec.field(default_factory=QcState)
    watermark_ms: int = 0
    closed_until_ms: int = 0
    buckets: dict[int, Bucket] = {}
    history: dict[str, list[float | None]] = {}
    source: tuple[int, int] = (-1, -1)
    accepted: int = 0
    interval_ms: int = 0


class Periods(msgspec.Struct, gc=False):
    """Open periods (hours or days) of one city: period start -> station id -> concentrations
    (AQI input keys). Periods starting before ``closed_until_ms`` are closed; ``closed`` keeps
    the recent ones so that a station's late period updates them."""

    waiting: dict[int, dict[str, dict[str, float]]] = {}
    closed_until_ms: int = 0
    closed: dict[int, dict[str, dict[str, float]]] = {}


class ScopeState(msgspec.Struct, gc=False):
    """Station values waiting for the district and city aggregates of one city;
    ``max_hour_ms`` is the latest station hour seen (a day counts as its last hour);
    ``clocks``: per readings partition, every station period starting before it has arrived."""

    hour: Periods = msgspec.field(default_factory=Periods)
    day: Periods = msgspec.field(default_factory=Periods)
    max_hour_ms: int = 0
    clocks: dict[int, int] = {}


class PeriodIndex(msgspec.Struct, gc=False):
    """The period starts of a ``Periods``, without their station values (stored apart)."""

    waiting: list[int] = []
    closed: list[int] = []
    closed_until_ms: int = 0


class ScopeIndex(msgspec.Struct, gc=False):
    """A ``ScopeState`` without the station values of its periods: what ``air-scopes`` stores
    under the city key; the station values of each period are values of their own
    (``air-scope-periods``, in buckets of stations: ``scopestore``),
    so that a table value stays far below Kafka's message limit whatever the number of stations,
    and a batch writes only the periods it changed."""

    hour: PeriodIndex = msgspec.field(default_factory=PeriodIndex)
    day: PeriodIndex = msgspec.field(default_factory=PeriodIndex)
    max_hour_ms: int = 0
    clocks: dict[int, int] = {}
    buckets: int = 1  # station buckets per period (``scopestore.STATIONS_PER_BUCKET``)
    inline: ScopeState | None = None  # the whole state, in a small city (no period values apart)
