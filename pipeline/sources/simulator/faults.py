"""Faults on purpose, and the records a station's stream is made of.

Per-reading faults hit a reading with their rate: ``spike`` (one value × 5–10),
``out_of_order`` (emitted just after its successor), ``duplicate`` (emitted twice; the copy carries
the fault), ``malformed`` (sent as bad bytes, one of several kinds). Episodic faults start at a
reading with their rate and last a while: ``flatline`` (one value stuck for N readings),
``drift`` (one value drifting linearly), ``offline`` (no readings at all). Each faulted record
names its fault, so tests can count them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

import msgspec
import numpy as np

from pipeline.messages.codec import VERSION
from pipeline.messages.readings import VALUES_TYPES, Reading
from pipeline.registry import StationKind
from pipeline.sources.simulator.stations import (
    CellDraws,
    Model,
    StationGroup,
    event_days,
    keyed_rng,
)
from pipeline.timeutil import DAY_MS


class Fault(StrEnum):
    SPIKE = "spike"
    OUT_OF_ORDER = "out_of_order"
    DUPLICATE = "duplicate"
    FLATLINE = "flatline"
    DRIFT = "drift"
    OFFLINE = "offline"
    TRUNCATED_JSON = "truncated_json"
    NAN_VALUE = "nan_value"
    NEGATIVE_VALUE = "negative_value"
    UNKNOWN_STATION = "unknown_station"
    MISSING_FIELD = "missing_field"


MALFORMED_KINDS = (
    Fault.TRUNCATED_JSON,
    Fault.NAN_VALUE,
    Fault.NEGATIVE_VALUE,
    Fault.UNKNOWN_STATION,
    Fault.MISSING_FIELD,
)
CODES: tuple[Fault | None, ...] = (None, *Fault)
"""Fault codes of :attr:`Series.fault`: an index into this tuple, 0 for none."""
_CODE = {f: i for i, f in enumerate(CODES)}
_PER_READING = (Fault.SPIKE, Fault.OUT_OF_ORDER, Fault.DUPLICATE)  # then malformed


class SimReading(Reading, frozen=True, gc=False, kw_only=True):
    """A simulated reading — a :class:`Reading`, so the codec encodes it as it is — with its
    station kind and the fault (if any) it carries."""

    kind: StationKind
    fault: Fault | None = None


class MalformedMessage(msgspec.Struct, frozen=True, gc=False):
    """Bad bytes to send as they are, keyed by ``station``."""

    station: str
    kind: StationKind
    raw: bytes
    fault: Fault


Record = SimReading | MalformedMessage


@dataclass(frozen=True)
class FaultConfig:
    """Rates per reading (for flatline, drift and offline: that an episode starts); 0 disables."""

    spike: float = 1e-4
    out_of_order: float = 2e-4
    duplicate: float = 2e-4
    malformed: float = 1e-4
    flatline: float = 2e-5
    drift: float = 1e-6
    offline: float = 2e-5
    spike_factor: tuple[float, float] = (5.0, 10.0)
    flatline_readings: tuple[int, int] = (10, 60)
    drift_s: int = 2 * 86_400
    drift_max: float = 0.5  # relative change reached at the end of a drift
    offline_s: tuple[int, int] = (1800, 6 * 3600)
    malformed_kinds: tuple[Fault, ...] = MALFORMED_KINDS

    def __post_init__(self) -> None:
        if bad := [name for name in _RATES if not 0 <= getattr(self, name) <= 1]:
            raise ValueError(f"fault rates {bad} must be within 0..1")
        if self.spike + self.out_of_order + self.duplicate + self.malformed > 1:
            raise ValueError("per-reading fault rates add up to more than 1")
        if not self.malformed_kinds or not set(self.malformed_kinds) <= set(MALFORMED_KINDS):
            raise ValueError(f"malformed_kinds must be some of {[str(k) for k in MALFORMED_KINDS]}")

    @classmethod
    def disabled(cls) -> FaultConfig:
        return cls(**dict.fromkeys(_RATES, 0.0))


_RATES = ("spike", "out_of_order", "duplicate", "malformed", "flatline", "drift", "offline")


class FaultEpisode(NamedTuple):
    fault: Fault
    station: int  # index in the group
    start_ms: int
    end_ms: int
    key: int  # index of the affected value (flatline, drift)
    drift: float  # relative change at the end (drift)


@dataclass(frozen=True)
class Series:
    """A group's readings on a time grid, faults injected: what the records are made of."""

    group: StationGroup
    keys: tuple[str, ...]
    ts_ms: np.ndarray  # (steps,)
    values: np.ndarray  # (keys, stations, steps)
    fault: np.ndarray  # (stations, steps) index into CODES; offline cells are not emitted

    def __getitem__(self, key: str) -> np.ndarray:
        """(stations, steps) values of one key."""
        return self.values[self.keys.index(key)]

    def has(self, fault: Fault | None) -> np.ndarray:
        """(stations, steps) mask of the cells with ``fault`` (None: without a fault)."""
        return self.fault == _CODE[fault]


class FaultInjector:
    """Draws the episodic faults (per group and day) and applies all faults to a group's values."""

    def __init__(self, config: FaultConfig, seed: int) -> None:
        self.config = config
        self._seed = seed

    def episodes(
        self, group: StationGroup, n_keys: int, t0_ms: int, t1_ms: int
    ) -> list[FaultEpisode]:
        """Flatline, drift and offline episodes of ``group`` overlapping [t0, t1)."""
        c, interval_ms = self.config, group.interval_s * 1000
        kinds = {  # rate, shortest and longest duration, in units of ms
            Fault.DRIFT: (c.drift, c.drift_s, c.drift_s, 1000),
            Fault.FLATLINE: (c.flatline, *c.flatline_readings, interval_ms),
            Fault.OFFLINE: (c.offline, *c.offline_s, 1000),
        }
        lookback = max(hi * unit for _, _, hi, unit in kinds.values())
        per_day, n = max(DAY_MS // interval_ms, 1), len(group.stations)
        found: list[FaultEpisode] = []
        for day in event_days(t0_ms, t1_ms, lookback):
            rng = keyed_rng(self._seed, "fault-episodes", group.key, day)
            for fault, (rate, lo, hi, unit) in kinds.items():
                stations = np.repeat(np.arange(n), rng.binomial(per_day, rate, n))
                m = len(stations)
                starts = day * DAY_MS + rng.integers(per_day, size=m) * interval_ms
                ends = starts + rng.integers(lo, hi + 1, size=m) * unit
                keys = rng.integers(n_keys, size=m)
                drifts = rng.choice([-c.drift_max, c.drift_max], size=m)
                found += [
                    FaultEpisode(fault, *map(int, (s, t, e, k)), float(d))
                    for s, t, e, k, d in zip(stations, starts, ends, keys, drifts, strict=True)
                    if t < t1_ms and e > t0_ms
                ]
        return found

    def apply(
        self,
        group: StationGroup,
        model: Model,
        ts_ms: np.ndarray,
        values: np.ndarray,
        draws: CellDraws,
    ) -> np.ndarray:
        """Inject faults into ``values`` (keys, stations, steps) in place; the fault codes."""
        n_keys = values.shape[0]
        code = self._per_reading(draws.u, draws.aux)
        t1 = int(ts_ms[-1]) + group.interval_s * 1000
        for e in self.episodes(group, n_keys, int(ts_ms[0]), t1):
            j0, j1 = np.searchsorted(ts_ms, (e.start_ms, e.end_ms))
            cells = values[e.key, e.station, j0:j1]
            if e.fault is Fault.DRIFT:
                cells *= 1 + e.drift * (ts_ms[j0:j1] - e.start_ms) / (e.end_ms - e.start_ms)
            elif e.fault is Fault.FLATLINE:  # stuck at the noise-free value of its first reading
                quiet = np.zeros((n_keys, len(group.stations), 1))
                cells[:] = model.evaluate(group, np.array([e.start_ms]), quiet)[e.key, e.station, 0]
            code[e.station, j0:j1] = _CODE[e.fault]
        s, t = np.nonzero(code == _CODE[Fault.SPIKE])
        lo, hi = self.config.spike_factor
        pick = draws.aux[s, t] * n_keys
        values[pick.astype(int), s, t] *= lo + (hi - lo) * (pick % 1)
        return code

    def _per_reading(self, u: np.ndarray, aux: np.ndarray) -> np.ndarray:
        c = self.config
        code = np.zeros(u.shape, dtype=np.int8)
        bounds = np.cumsum([c.spike, c.out_of_order, c.duplicate, c.malformed])
        hit = np.nonzero(u < bounds[-1])
        which = np.searchsorted(bounds, u[hit], side="right")
        kinds = np.array([_CODE[k] for k in c.malformed_kinds], dtype=np.int8)
        malformed = kinds[(aux[hit] * len(kinds)).astype(int)]
        per_reading = np.array([*(_CODE[f] for f in _PER_READING), 0], dtype=np.int8)
        code[hit] = np.where(which < len(_PER_READING), per_reading[which], malformed)
        return code


# --- emission ----------------------------------------------------------------------------------

_EMITTED_FAULT = tuple(None if f is Fault.DUPLICATE else f for f in CODES)  # the copy carries it
_MALFORMED_CODES = np.array([_CODE[k] for k in MALFORMED_KINDS], dtype=np.int8)


def emit(series: Series, t0_ms: int, t1_ms: int) -> tuple[list[Record], np.ndarray]:
    """The records of ``series`` emitted in [t0, t1), and their order keys (emission time × 4 +
    tie-break). A reading is emitted at its timestamp; a duplicate copy right after it, an
    out-of-order reading right after its successor."""
    g, interval_ms = series.group, series.group.interval_s * 1000
    code_t = series.fault.T  # time-major: records come out in time order
    t_idx, s_idx = np.nonzero(code_t != _CODE[Fault.OFFLINE])
    code = code_t[t_idx, s_idx]
    late = code == _CODE[Fault.OUT_OF_ORDER]
    ts = series.ts_ms[t_idx]
    emitted = ts + late * interval_ms
    keep = (emitted >= t0_ms) & (emitted < t1_ms)
    t_idx, s_idx, code, late, ts, emitted = (
        a[keep] for a in (t_idx, s_idx, code, late, ts, emitted)
    )

    ids, kind, interval_s = g.ids, g.kind, g.interval_s
    values_type = VALUES_TYPES[kind]
    assert values_type.__struct_fields__ == series.keys  # rows fill the struct positionally
    rows = series.values[:, s_idx, t_idx].T.tolist()
    readings = [
        SimReading(ids[s], t, interval_s, values_type(*row), {}, kind=kind, fault=_EMITTED_FAULT[c])
        for s, t, row, c in zip(s_idx.tolist(), ts.tolist(), rows, code.tolist(), strict=False)
    ]
    dups = np.flatnonzero(code == _CODE[Fault.DUPLICATE])
    copies = [msgspec.structs.replace(readings[i], fault=Fault.DUPLICATE) for i in dups.tolist()]
    records: list[Record] = [*readings, *copies]
    for i in np.flatnonzero(np.isin(code, _MALFORMED_CODES)).tolist():
        records[i] = _malformed(readings[i], Fault(CODES[code[i]]))
    order = np.concatenate([emitted * 4 + late * 2, emitted[dups] * 4 + 1])
    return records, order


def _malformed(r: SimReading, fault: Fault) -> MalformedMessage:
    """The reading as bad bytes of the kind ``fault``."""
    doc: dict = {"v": VERSION, "station": r.station, "ts": r.ts_ms, "interval": r.interval_s}
    values = {k: v for k, v in msgspec.structs.asdict(r.values).items() if v is not None}
    first = next(iter(values))  # so2 or ph: zero is their floor
    if fault is Fault.NAN_VALUE:
        values[first] = float("nan")
    elif fault is Fault.NEGATIVE_VALUE:
        values[first] = -(abs(values[first]) + 1.0)
    elif fault is Fault.UNKNOWN_STATION:
        doc["station"] = f"unregistered-{r.station}"
    elif fault is Fault.MISSING_FIELD:
        del doc["ts"]
    raw = json.dumps(doc | {"values": values, "flags": r.flags}, separators=(",", ":")).encode()
    if fault is Fault.TRUNCATED_JSON:
        raw = raw[: len(raw) // 2]
    return MalformedMessage(doc["station"], r.kind, raw, fault)
