"""Readings codec happy paths, encoding, unknown-field counting, limits, dead letters, results."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from pipeline.messages import (
    AIR_LIMITS,
    WATER_LIMITS,
    AirReading,
    AirValues,
    AqiMessage,
    DeadLetter,
    Decoder,
    Named,
    Reading,
    Reject,
    RejectReason,
    WaterReading,
    WaterValues,
    dead_letter_from,
    encode_envelope,
    encode_reading,
)
from pipeline.messages.readings import VALUES_TYPES
from pipeline.registry import Registry, StationKind

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Shenzhen
NOW_MS = int(NOW.timestamp() * 1000)
HOUR_MS = 3_600_000
AIR_VALUES = {"so2": 6.0, "no2": 33.0, "co": 0.58, "o3": 112.0, "pm10": 46.0, "pm25": 28.4}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


@pytest.fixture
def air(registry: Registry) -> Decoder[AirValues]:
    return Decoder(StationKind.AIR, registry, clock=NOW.timestamp)


@pytest.fixture
def water(registry: Registry) -> Decoder[WaterValues]:
    return Decoder(StationKind.WATER, registry, clock=NOW.timestamp)


def wire(**fields: Any) -> bytes:
    return json.dumps({"v": 1, **fields}).encode()


def test_single_reading_with_epoch_ms(air: Decoder[AirValues]) -> None:
    raw = wire(station="1356A", ts=NOW_MS, interval=3600, values=AIR_VALUES, flags={"pm25": "F"})
    assert air.decode(raw) == [
        AirReading("1356A", NOW_MS, 3600, AirValues(**AIR_VALUES), {"pm25": "F"})
    ]


@pytest.mark.parametrize(
    ("ts", "ms"),
    [
        ("2026-11-27T10:00:00+08:00", NOW_MS),
        ("2026-11-27T02:00:00Z", NOW_MS),
        ("2026-11-27T01:59:00.123-00:00", NOW_MS - 59_877),
    ],
)
def test_rfc3339_with_offset(air: Decoder[AirValues], ts: str, ms: int) -> None:
    result = air.decode(wire(station="1356A", ts=ts, interval=60, values={"pm25": 1}))
    assert isinstance(result, list)
    assert result[0].ts_ms == ms


def test_envelope_in_time_order(air: Decoder[AirValues]) -> None:
    items = [
        {"ts": NOW_MS - 2 * HOUR_MS, "interval": 3600, "values": {"pm25": 30}},
        {"ts": "2026-11-27T09:00:00+08:00", "interval": 3600, "values": {"pm25": 31, "co": None}},
        {"ts": NOW_MS, "interval": 3600, "values": {}, "flags": {"pm25": "M"}},
    ]
    result = air.decode(wire(station="3305A", readings=items))
    assert isinstance(result, list)
    assert [r.ts_ms for r in result] == [NOW_MS - 2 * HOUR_MS, NOW_MS - HOUR_MS, NOW_MS]
    assert [r.values.pm25 for r in result] == [30.0, 31.0, None]
    assert result[2].flags == {"pm25": "M"}
    assert {r.station for r in result} == {"3305A"}


def test_water_reading(water: Decoder[WaterValues]) -> None:
    values = {"ph": 7.2, "do": 6.1, "nh3n": 0.8, "tp": 0.12, "temp": -1.5, "turb": 30}
    result = water.decode(wire(station="szh-hekou", ts=NOW_MS, interval=14400, values=values))
    assert result == [WaterReading("szh-hekou", NOW_MS, 14400, WaterValues(**values))]


def test_unknown_fields_are_ignored_and_counted(air: Decoder[AirValues]) -> None:
    item = {"ts": NOW_MS, "interval": 3600, "values": {"pm25": 3, "pm1": 2}, "qc": "ok"}
    raw = wire(station="1356A", source="sim", readings=[item, {**item, "ts": NOW_MS + 1}])
    result = air.decode(raw)
    assert isinstance(result, list)
    assert [r.values for r in result] == [AirValues(pm25=3.0)] * 2
    assert air.unknown_fields == {"source": 1, "readings.qc": 2, "readings.values.pm1": 2}
    air.decode(wire(station="1356A", ts=NOW_MS, interval=60, values={"pm1": 1}))
    assert air.unknown_fields["values.pm1"] == 1


def test_unknown_fields_are_counted_when_the_message_is_rejected(air: Decoder[AirValues]) -> None:
    raw = wire(station="1356A", ts=NOW_MS, interval=60, values={"pm25": -1}, extra=1)
    assert isinstance(air.decode(raw), Reject)
    assert air.unknown_fields == {"extra": 1}


@pytest.mark.parametrize(
    "reading",
    [
        AirReading("1356A", NOW_MS, 3600, AirValues(**AIR_VALUES), {"o3": "C"}),
        AirReading("1356A", NOW_MS, 60, AirValues(pm25=0.0)),
    ],
)
def test_encode_decode_round_trip(air: Decoder[AirValues], reading: AirReading) -> None:
    assert air.decode(encode_reading(reading)) == [reading]
    later = Reading(reading.station, reading.ts_ms + 60_000, 60, reading.values, reading.flags)
    assert air.decode(encode_envelope("1356A", [reading, later])) == [reading, later]


def test_encoded_form_is_compact() -> None:
    raw = encode_reading(AirReading("1356A", NOW_MS, 3600, AirValues(pm25=3.0)))
    assert json.loads(raw) == {
        "v": 1,
        "station": "1356A",
        "ts": NOW_MS,
        "interval": 3600,
        "values": {"pm25": 3.0},
    }


def test_envelope_of_another_station_is_refused() -> None:
    with pytest.raises(ValueError, match="1356A"):
        encode_envelope("1356A", [AirReading("3305A", NOW_MS, 60, AirValues())])


@pytest.mark.parametrize("kind", list(StationKind))
def test_values_structs_follow_the_limits(kind: StationKind) -> None:
    limits = {StationKind.AIR: AIR_LIMITS, StationKind.WATER: WATER_LIMITS}[kind]
    info = msgspec.inspect.type_info(VALUES_TYPES[kind])
    assert isinstance(info, msgspec.inspect.StructType)
    bounds = {f.name: (f.type.types[0].ge, f.type.types[0].le) for f in info.fields}  # type: ignore[attr-defined]
    assert bounds == {k: (lim.low, lim.high) for k, lim in limits.items()}
    assert all(lim.source for lim in limits.values())


@pytest.mark.parametrize(
    ("kind", "station", "key"),
    [(StationKind.AIR, "1356A", k) for k in AIR_LIMITS]
    + [(StationKind.WATER, "mzh-gonghe", k) for k in WATER_LIMITS],
)
def test_limits_are_inclusive(
    registry: Registry, kind: StationKind, station: str, key: str
) -> None:
    decoder = Decoder(kind, registry, clock=NOW.timestamp)
    limit = (AIR_LIMITS | WATER_LIMITS)[key]

    def decode(value: float) -> list[Reading[Any]] | Reject:
        return decoder.decode(wire(station=station, ts=NOW_MS, interval=60, values={key: value}))

    assert isinstance(decode(limit.low), list)
    assert isinstance(decode(limit.high), list)
    assert decode(limit.high * 1.001) == Reject(
        RejectReason.IMPLAUSIBLE_VALUE, f"values.{key}", f"Expected `float` <= {limit.high:.1f}"
    )
    below = decode(limit.low - 0.5)
    assert isinstance(below, Reject)
    expected = RejectReason.NEGATIVE_VALUE if limit.low == 0 else RejectReason.IMPLAUSIBLE_VALUE
    assert (below.reason, below.field) == (expected, f"values.{key}")


def test_dead_letter_keeps_utf8_text() -> None:
    reject = Reject(RejectReason.UNKNOWN_STATION, "station", "'X' is not registered")
    raw = '{"v":1,"station":"X","note":"深圳"}'.encode()
    letter = dead_letter_from(reject, raw, "env.air.readings", 3, 42, b"X", NOW_MS)
    assert (letter.raw, letter.raw_encoding, letter.key) == (raw.decode(), "utf8", "X")
    assert (letter.reason, letter.field, letter.source_topic, letter.partition) == (
        RejectReason.UNKNOWN_STATION,
        "station",
        "env.air.readings",
        3,
    )
    assert msgspec.json.decode(msgspec.json.encode(letter), type=DeadLetter) == letter


def test_dead_letter_base64_for_non_utf8_bytes() -> None:
    reject = Reject(RejectReason.MALFORMED_JSON, None, "invalid start byte")
    raw = b'\xff\xfe{"v":1}\x80'
    letter = dead_letter_from(reject, raw, "env.air.readings", 0, 7, None, NOW_MS)
    assert letter.raw_encoding == "base64"
    assert base64.b64decode(letter.raw) == raw
    assert json.loads(msgspec.json.encode(letter))["reason"] == "malformed_json"


def test_result_messages_round_trip() -> None:
    futian = Named("futian", "福田区", "Futian")
    aqi = AqiMessage(
        scope="station",
        subject="1356A",
        name_zh="通心岭子站",
        name_en="Tongxinling",
        district=futian,
        report="hour",
        period_start_ms=NOW_MS,
        period_label="2026-11-27T10:00+08:00",
        standard="HJ 633-2026",
        aqi=56,
        level=2,
        category_zh="良",
        category_en="Moderate",
        color="#FFFF00",
        primary=["pm25"],
        exceeding=[],
        iaqi={"pm25": 56, "o3": 36},
        concentrations={"pm25": 41.0, "o3": 112.0},
        valid_stations=1,
    )
    raw = msgspec.json.encode(aqi)
    assert json.loads(raw)["v"] == 1
    assert msgspec.json.decode(raw, type=AqiMessage) == aqi
