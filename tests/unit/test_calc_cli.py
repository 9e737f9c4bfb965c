"""`envmon calc` end to end through the real console entry point (Typer's runner)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()


def calc(args: list[str], lines: list[str]) -> tuple[int, list[dict]]:
    result = runner.invoke(app, ["calc", *args], input="\n".join(lines) + "\n")
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines() if line]


def test_aqi_edition_follows_ts_under_hj633() -> None:
    line = {"pm25": 70, "pm25_24h": 70}
    code, out = calc(
        ["aqi", "--standard", "hj633", "--report", "hour"],
        [
            json.dumps({**line, "ts": "2026-02-28T23:00:00+08:00"}),
            json.dumps({**line, "ts": "2026-03-01T00:00:00+08:00"}),
        ],
    )
    assert code == 0
    # 2012: PM2.5 from the 24-h moving average, 50 + (70-35)*50/40 = 93.75 -> 94
    # 2026: PM2.5 1-h value against the revised daily row, 100 + (70-60)*50/55 = 109.09 -> 110
    assert [(o["standard"], o["aqi"], o["level"]) for o in out] == [
        ("hj633-2012", 94, 2),
        ("hj633-2026", 110, 3),
    ]
    assert out[1]["primary"] == ["pm25"] and out[1]["category_zh"] == "轻度污染"


def test_daily_report_and_forced_edition() -> None:
    code, out = calc(
        ["aqi", "--standard", "hj633-2012", "--report", "day"],
        [
            json.dumps(
                {"so2": 10, "no2": 40, "co": 1.0, "pm10": 150, "pm25": 75, "o3": 160, "o3_8h": 100}
            )
        ],
    )
    assert code == 0
    (o,) = out
    # PM10 150 and PM2.5 75 both give exactly 100; NO2 40 -> 50; O3 160 (1-h) -> 50
    assert o["aqi"] == 100 and sorted(o["primary"]) == ["pm10", "pm25"] and o["exceeding"] == []


def test_bad_lines_are_reported_and_the_rest_still_run() -> None:
    code, out = calc(
        ["aqi", "--report", "day"],
        [
            '{"pm25": 10, "ts": 1795741200000}',
            "[1,2]",
            '{"pm25": -1}',
            '{"o3_8h": 10, "pm10_24h": 5}',
        ],
    )
    assert code == 1
    assert out[0]["aqi"] == 15
    assert out[1] == {
        "line": 2,
        "error": "not_an_object",
        "detail": "expected a JSON object, got list",
    }
    assert out[2]["line"] == 3 and out[2]["error"] == "negative_value"
    assert (
        out[3]["line"] == 4 and out[3]["error"] == "unknown_key" and "pm10_24h" in out[3]["detail"]
    )


def test_water_with_target_and_lake() -> None:
    code, out = calc(
        ["water", "--target", "III"], ['{"ph": 7.2, "do": 6.5, "nh3n": 1.2, "tp": 0.15}']
    )
    assert code == 0
    (o,) = out
    assert (o["class"], o["class_num"], o["deciding"]) == ("IV", 4, ["nh3n"])
    assert o["failing"] == [{"key": "nh3n", "value": 1.2, "limit": 1.0, "multiple": 0.2}]
    _, (lake,) = calc(["water", "--lake"], ['{"tp": 0.15}'])
    assert lake["class"] == "V"  # lake TP: 0.1 < 0.15 <= 0.2


def test_bad_target_names_the_option() -> None:
    result = runner.invoke(app, ["calc", "water", "--target", "VII"], input="")
    assert result.exit_code == 2
    assert "--target" in result.output


def test_composite_worked_example() -> None:
    code, out = calc(
        ["composite"], ['{"pm25":21,"pm10":39,"so2":9,"no2":15,"o3":192,"co":0.7}', '{"so2":1}']
    )
    assert code == 1
    assert out[0]["composite_rounded"] == 3.06 and out[0]["primary"] == ["o3"]
    assert out[1]["error"] == "missing_key"
