"""``replay diff``'s comparison: by keys and content, the last message of a key winning."""

from __future__ import annotations

from typing import Any

from pipeline.replay.diff import collect, diff


def aqi(subject: str, hour: int, value: int) -> tuple[str, dict[str, Any]]:
    return "aqi", {
        "scope": "station", "subject": subject, "report": "hour", "period_start_ms": hour,
        "period_label": f"h{hour}", "aqi": value, "level": 2, "primary": [], "iaqi": {},
        "concentrations": {}, "valid_stations": 1, "standard": "HJ 633-2026",
    }  # fmt: skip


def alert(tid: str, subject: str, state: str, event: int, threshold: float = 75) -> tuple[str, Any]:
    return "alerts", {
        "transition_id": tid, "rule": "pm25_hourly", "state": state, "severity": "warning",
        "value": 90.0, "threshold": threshold, "started_ms": 0, "ended_ms": None,
        "event_ms": event, "subject": {"scope": "station", "id": subject},
    }  # fmt: skip


def ranking(ts: int, ranks: dict[str, int]) -> tuple[str, dict[str, Any]]:
    entries = [
        {"subject": s, "rank": r, "score": 1.0, "valid_stations": 1} for s, r in ranks.items()
    ]
    return "rankings", {
        "board": "district_aqi_hour",
        "period": f"h{ts}",
        "ts_ms": ts,
        "entries": entries,
    }


def test_equal_results_in_another_order_and_with_copies() -> None:
    a = collect([aqi("S1", 1, 50), aqi("S1", 1, 60), alert("t1", "S1", "firing", 3)], 0, 10)
    b = collect(
        [alert("t1", "S1", "firing", 3), aqi("S1", 1, 60), alert("t1", "S1", "firing", 3)], 0, 10
    )
    assert diff(a, b)["equal"]


def test_differences_are_listed() -> None:
    a = collect(
        [
            aqi("S1", 1, 50), aqi("S2", 1, 50), alert("t1", "S1", "firing", 3),
            ranking(1, {"x": 1, "y": 2}),
        ],
        0, 10,
    )  # fmt: skip
    b = collect(
        [
            aqi("S1", 1, 55), alert("t1", "S1", "firing", 3, threshold=45),
            alert("t2", "S7", "firing", 1, threshold=45), ranking(1, {"x": 2, "y": 1}),
            aqi("S3", 20, 1),  # outside the range
        ],
        0, 10,
    )  # fmt: skip
    report = diff(a, b)
    assert not report["equal"]
    assert report["aqi"]["only_a"] == ["station:S2|hour|h1"] and report["aqi"]["only_b"] == []
    assert (
        report["aqi"]["differ"][0]["a"]["aqi"] == 50
        and report["aqi"]["differ"][0]["b"]["aqi"] == 55
    )
    assert [t["transition_id"] for t in report["alerts"]["only_b"]] == ["t2"]
    assert report["alerts"]["differ"][0]["b"]["threshold"] == 45
    assert report["alerts"]["first_fire"] == [
        {"alert": "pm25_hourly|station:S7", "a": None, "b": 1}
    ]
    assert len(report["rankings"]["differ"]) == 1
