"""QC-flagged values: the messages of ``{ns}.qc`` and their InfluxDB points."""

from __future__ import annotations

from collections import Counter

import msgspec

from pipeline.messages import AirReading, AirValues, QcFlagMessage, WaterReading, WaterValues
from pipeline.registry import Registry, StationKind
from pipeline.sinks.points import routes
from pipeline.topics import Topics
from streams.air.qc import QcFlag
from streams.qc import QcMessages
from streams.water.quality import device_flags

REGISTRY = Registry.load()
AIR = next(iter(REGISTRY.of_kind(StationKind.AIR)))
WATER = next(iter(REGISTRY.of_kind(StationKind.WATER)))
TS = 1_795_104_000_000


def test_one_message_per_flagged_value_with_all_its_flags() -> None:
    reading = AirReading(AIR.id, TS, 60, AirValues(pm25=120.0, pm10=80.0, no2=20.0))
    flags = {"pm25": [QcFlag.SPIKE, QcFlag.PM_INCONSISTENT], "pm10": [QcFlag.PM_INCONSISTENT]}
    messages = QcMessages("air", REGISTRY).of(reading, flags)
    assert [(m.parameter, m.value, m.flags) for m in messages] == [
        ("pm25", 120.0, ["pm_inconsistent", "spike"]),
        ("pm10", 80.0, ["pm_inconsistent"]),
    ]
    first = messages[0]
    assert (first.station, first.kind, first.ts_ms) == (AIR.id, "air", TS)
    assert first.district.id == AIR.district and first.name_zh == AIR.name_zh


def test_water_values_with_an_unusable_device_flag_are_flagged() -> None:
    values = WaterValues(nh3n=1.2, do=6.0, ph=7.1)
    reading = WaterReading(WATER.id, TS, 14_400, values, {"nh3n": "D", "do": "N", "tp": "M"})
    assert device_flags(reading) == {"nh3n": ["device"]}  # tp was not measured
    (message,) = QcMessages("water", REGISTRY).of(reading, device_flags(reading))
    assert (message.kind, message.parameter, message.value) == ("water", "nh3n", 1.2)


def test_the_sink_writes_one_qc_point_per_flag() -> None:
    reading = AirReading(AIR.id, TS, 60, AirValues(pm25=120.0, pm10=80.0))
    (message,) = QcMessages("air", REGISTRY).of(reading, {"pm25": ["spike", "range"]})
    topics = Topics("t")
    lines = routes(topics, REGISTRY, Counter())[topics.qc].convert(msgspec.json.encode(message))
    assert lines == [  # tags sorted by key, as InfluxDB recommends
        f"qc,district={AIR.district},flag={flag},parameter=pm25,station={AIR.id} "
        f'value=120.0,kind="air" {TS * 1_000_000}'
        for flag in ("range", "spike")
    ]
    assert msgspec.json.decode(msgspec.json.encode(message), type=QcFlagMessage) == message
