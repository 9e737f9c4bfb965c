from zoneinfo import ZoneInfo

import pytest

from pipeline.timeutil import HOUR_MS, day_start, hour_start, label, next_day_start, parse_timestamp
from pipeline.topics import TopicRole, Topics

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_topic_names_carry_the_namespace() -> None:
    t = Topics("replay-42")
    assert t.air_readings == "replay-42.air.readings"
    assert t.deadletter == "replay-42.deadletter"
    assert len(set(t.names())) == 12
    assert all(name.startswith("replay-42.") for name in t.names())
    assert {s.role for s in t.specs() if s.name == t.silences} == {TopicRole.STATE}


def test_parse_timestamp_forms() -> None:
    ms = parse_timestamp("2026-03-01T00:00:00+08:00")
    assert ms == parse_timestamp("2026-02-28T16:00:00Z") == 1772294400000
    assert parse_timestamp(1772294400000) == ms
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_timestamp("2026-03-01T00:00:00")


def test_hours_and_days_are_shanghai_clock_time() -> None:
    ts = parse_timestamp("2026-11-27T00:30:00+08:00")  # 16:30 UTC the day before
    assert label(hour_start(ts, SHANGHAI), SHANGHAI) == "2026-11-27T00:00+08:00"
    assert label(day_start(ts, SHANGHAI), SHANGHAI) == "2026-11-27T00:00+08:00"
    assert next_day_start(ts, SHANGHAI) - day_start(ts, SHANGHAI) == 24 * HOUR_MS
    assert label(ts, SHANGHAI, minutes=False) == "2026-11-27"


def test_parse_when_forms() -> None:
    from pipeline.timeutil import parse_when

    now = parse_timestamp("2026-11-27T12:00:00+08:00")
    assert parse_when("now", now, SHANGHAI) == now
    assert parse_when("now-6h", now, SHANGHAI) == now - 6 * HOUR_MS
    assert parse_when("-30m", now, SHANGHAI) == now - 30 * 60_000
    assert parse_when("+1d", now, SHANGHAI) == now + 24 * HOUR_MS
    assert parse_when("2026-11-27", now, SHANGHAI) == now - 12 * HOUR_MS  # local midnight
    assert parse_when("2026-11-27T04:00:00Z", now, SHANGHAI) == now
    with pytest.raises(ValueError, match="not a time"):
        parse_when("yesterday", now, SHANGHAI)
