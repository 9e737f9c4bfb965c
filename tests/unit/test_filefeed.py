"""File feed: column mapping, units, and every bad row ending as a dead letter with a reason."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest

from pipeline.messages import AirValues, Decoder, WaterValues
from pipeline.registry import Registry, StationKind
from pipeline.sources.filefeed import FeedError, map_columns, read_rows
from pipeline.sources.ingest import Ingest
from pipeline.topics import Topics

TZ = ZoneInfo("Asia/Shanghai")
REGISTRY = Registry.load()
TOPICS = Topics("t")


def run(path: Path) -> tuple[Ingest, list[tuple[str, bytes, bytes]]]:
    sent: list[tuple[str, bytes, bytes]] = []
    rows, ignored = read_rows(path, TZ, 3600)
    ingest = Ingest(REGISTRY, TOPICS, lambda t, k, v: sent.append((t, k, v)), path.name)
    ingest.feed(rows)
    ingest.finish()
    ingest.summary.ignored_columns = ignored
    return ingest, sent


def readings_of(sent: list[tuple[str, bytes, bytes]], topic: str, kind: StationKind) -> list:
    decoder = Decoder(kind, REGISTRY)
    out = []
    for t, _, value in sent:
        if t == topic:
            out.extend(decoder.decode(value))
    return out


def test_national_platform_csv_with_units_and_local_time(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "监测时间,站点编码,PM2.5(μg/m³),PM10(ug/m3),SO2,NO2,O3,CO(mg/m3),AQI,质量等级\n"
        "2026-11-27 09:00:00,1356A,35,60,8,40,90,0.8,50,优\n"
        "2026-11-27 10:00:00,1356A,-,70,9,41,95,0.9,60,良\n",
        "utf-8",
    )
    ingest, sent = run(path)
    assert ingest.summary.sent == 2 and not ingest.summary.rejected
    assert ingest.summary.ignored_columns == ["AQI", "质量等级"]
    readings = readings_of(sent, TOPICS.air_readings, StationKind.AIR)
    assert [r.ts_ms for r in readings] == [1795741200000, 1795744800000]  # 09:00 and 10:00 +08:00
    assert readings[0].values == AirValues(so2=8, no2=40, co=0.8, o3=90, pm10=60, pm25=35)
    assert readings[1].values.pm25 is None
    assert all(k == b"1356A" for t, k, _ in sent)
    assert len(sent) == 1  # one envelope for the station


def test_unit_conversion(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text(
        "station,ts,NH3-N (ug/L),cond[mS/cm],pH\n"
        "mzh-gonghe,2026-11-27T08:00:00+08:00,1500,1.2,7.1\n",
        "utf-8",
    )
    _, sent = run(path)
    (reading,) = readings_of(sent, TOPICS.water_readings, StationKind.WATER)
    assert reading.values == WaterValues(ph=7.1, nh3n=1.5, cond=1200.0)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("station,ts,CO(ppm)\n", "column 'CO(ppm)': unknown unit 'ppm'"),
        ("station,ts,pH(mg/L)\n", "cannot be converted"),
        ("ts,pm25\n", "no station column"),
        ("station,pm25\n", "no ts column"),
    ],
)
def test_file_level_errors_name_the_column(tmp_path: Path, header: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(header, "utf-8")
    with pytest.raises(FeedError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_rows(path, TZ, 3600)


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match="unknown format"):
        read_rows(tmp_path / "x.xlsx", TZ, 3600)
    with pytest.raises(FeedError, match="No such file"):
        read_rows(tmp_path / "none.csv", TZ, 3600)


def test_bad_rows_become_dead_letters_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    lines = [
        {"station": "1356A", "ts": "2026-11-27T09:00:00+08:00", "pm25": 30},  # 1 ok
        "{not json",  # 2
        {"station": "XXXX", "ts": "2026-11-27T09:00:00+08:00", "pm25": 30},  # 3 unknown station
        {"station": "1356A", "ts": "2026-11-27T10:00:00+08:00", "pm25": "high"},  # 4 wrong type
        {"station": "1356A", "ts": "yesterday", "pm25": 3},  # 5 bad timestamp
        {"station": "1356A", "ts": "2026-11-27T11:00:00+08:00", "pm25": -3},  # 6 negative
        {"station": "1356A", "pm25": 3},  # 7 no ts
        {"station": "mzh-gonghe", "ts": "2026-11-27T09:00:00+08:00", "pm25": 3},  # 8 kind
        {"station": "1356A", "time": 1795748400000, "PM2.5": 31, "extra": 1},  # 9 ok, epoch ms
    ]
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", "utf-8"
    )
    ingest, sent = run(path)
    s = ingest.summary
    assert s.read == 9 and s.sent == 2 and s.reconciles
    assert [(line, reason) for line, reason, _ in s.rejected_lines] == [
        (2, "malformed_json"),
        (3, "unknown_station"),
        (4, "wrong_type"),
        (5, "bad_timestamp"),
        (6, "negative_value"),
        (7, "missing_field"),
        (8, "wrong_station_kind"),
    ]
    letters = [msgspec.json.decode(v) for t, _, v in sent if t == TOPICS.deadletter]
    assert [(d["offset"], d["reason"]) for d in letters] == [
        (line, r) for line, r, _ in s.rejected_lines
    ]
    assert letters[0]["raw"] == "{not json" and letters[0]["source_topic"] == "file:mixed.jsonl"
    assert "extra" in s.ignored_columns


def test_csv_row_with_wrong_cell_count(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("station,ts,pm25\n1356A,2026-11-27T09:00:00+08:00\n", "utf-8")
    ingest, _ = run(path)
    assert ingest.summary.rejected == {"malformed_row": 1}


def test_unsorted_rows_and_repeated_times_make_valid_envelopes(tmp_path: Path) -> None:
    path = tmp_path / "unsorted.csv"
    path.write_text(
        "station,ts,pm25\n"
        "1356A,2026-11-27T10:00:00+08:00,2\n"
        "1356A,2026-11-27T09:00:00+08:00,1\n"
        "1356A,2026-11-27T10:00:00+08:00,3\n",
        "utf-8",
    )
    ingest, sent = run(path)
    readings = readings_of(sent, TOPICS.air_readings, StationKind.AIR)
    assert len(readings) == 3 and ingest.summary.sent == 3
    assert [r.values.pm25 for r in readings] == [1, 2, 3]


def test_map_columns_aliases() -> None:
    columns, ignored = map_columns(["MN", "DataTime", "pm2_5", "Temp(°C)", "AQI"])
    assert ignored == ["AQI"]
    assert [c.key for c in columns] == ["station", "ts", "pm25", "temp"]
