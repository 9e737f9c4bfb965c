"""Records to envmon readings: intervals by command, units, flags, codes (reference §2.6–§4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.hj212.convert import to_reading
from pipeline.hj212.devices import DeviceMap, DeviceMapError
from pipeline.hj212.packet import Packet, parse_frame
from pipeline.hj212.response import encode_frame
from pipeline.messages import AirValues, WaterValues
from pipeline.registry import Registry
from tests.unit.hj212.vectors import AIR_HOURLY_2061, AIR_RTD_2011, LEGACY_2005, WATER_2061

TS_0900 = 1_748_739_600_000  # 2025-06-01T09:00:00+08:00


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


@pytest.fixture(scope="module")
def devices(registry: Registry) -> DeviceMap:
    return DeviceMap.load(registry)


def packet(frame: bytes) -> Packet:
    p = parse_frame(frame)
    assert isinstance(p, Packet), p
    return p


def test_real_time_becomes_a_minute_reading(devices: DeviceMap) -> None:
    p = packet(AIR_RTD_2011)
    conv = to_reading(p, devices.devices[p.header.mn])  # type: ignore[index]
    assert conv is not None and conv.reading is not None
    r = conv.reading
    assert (r.station, r.ts_ms, r.interval_s) == ("1356A", TS_0900 + 3_600_000, 60)
    assert r.values == AirValues(pm25=28.4, pm10=46.0, so2=6.0, no2=33.0, co=0.58, o3=112.0)
    assert r.flags == dict.fromkeys(("pm25", "pm10", "so2", "no2", "co", "o3"), "N")


def test_hourly_uses_avg_and_keeps_flags(devices: DeviceMap) -> None:
    p = packet(AIR_HOURLY_2061)
    conv = to_reading(p, devices.devices[p.header.mn])  # type: ignore[index]
    assert conv is not None and conv.reading is not None
    r = conv.reading
    assert (r.ts_ms, r.interval_s) == (TS_0900, 3600)
    assert r.values.pm25 == 27.9 and r.values.o3 == 104.0  # type: ignore[attr-defined]
    assert r.flags["o3"] == "C" and r.flags["pm25"] == "N"


def test_water_record(devices: DeviceMap) -> None:
    p = packet(WATER_2061)
    conv = to_reading(p, devices.devices[p.header.mn])  # type: ignore[index]
    assert conv is not None and conv.reading is not None
    assert conv.reading.values == WaterValues(
        ph=7.36, temp=26.4, do=6.12, cond=388.0, turb=18.2, codmn=3.4, nh3n=0.286, tp=0.112, tn=1.86
    )


def test_legacy_codes_are_normalised(devices: DeviceMap) -> None:
    p = packet(LEGACY_2005)
    conv = to_reading(p, devices.devices[p.header.mn])  # type: ignore[index]
    assert conv is not None and conv.reading is not None
    assert conv.reading.values == WaterValues(cod=45.2, nh3n=2.31)
    assert conv.reading.flags == {"cod": "N", "nh3n": "N"}  # B01 (flow) has no flag and no key
    assert conv.unmapped == ("B01",)


def test_units_flags_and_vendor_codes_from_the_device_map(
    registry: Registry, tmp_path: Path
) -> None:
    path = tmp_path / "devices.yaml"
    path.write_text(
        """schema_version: 1
units: {a34004: ug/m3, a34002: ug/m3, a21026: ug/m3, a21004: ug/m3, a21005: mg/m3, a05024: ug/m3}
devices:
  - {mn: "M1", station: 1356A, password: "1", units: {a34004: ng/m³, a21026: mg/m3},
     codes: {o31104: a05024}}
""",
        "utf-8",
    )
    device = DeviceMap.load(registry, path).devices["M1"]
    frame = encode_frame(
        "QN=20250601100000123;ST=27;CN=2011;PW=1;MN=M1;Flag=5;CP=&&DataTime=20250601100000;"
        "a34004-Rtd=75600.000,a34004-Flag=T;a21026-Rtd=0.006,a21026-Flag=X;"
        "o31104-Rtd=120,o31104-Flag=M;a21004-Rtd=;a01001-Rtd=25.1&&"
    )
    conv = to_reading(packet(frame), device)
    assert conv is not None and conv.reading is not None
    assert conv.reading.values == AirValues(pm25=75.6, so2=6.0, o3=120.0)
    assert conv.reading.flags == {"pm25": "T", "so2": "X", "o3": "M"}
    assert conv.unmapped == ("a01001",)


def test_no_reading_for_other_commands(devices: DeviceMap) -> None:
    frame = encode_frame(
        "QN=20250601100000123;ST=22;CN=3020;PW=123456;MN=440300A0990001A000000009;Flag=5;"
        "CP=&&DataTime=20250601100000;i12001-Info=1&&"
    )
    assert to_reading(packet(frame), devices.devices["440300A0990001A000000009"]) is None


def test_unconvertible_unit_is_a_load_error_naming_the_device(
    registry: Registry, tmp_path: Path
) -> None:
    path = tmp_path / "devices.yaml"
    path.write_text(
        'schema_version: 1\nunits: {}\ndevices:\n  - {mn: "M1", station: szh-hekou, '
        'password: "1", units: {w01009: ppm}}\n',
        "utf-8",
    )
    with pytest.raises(DeviceMapError, match=r"'M1'.*(w01009|w01001)"):
        DeviceMap.load(registry, path)
