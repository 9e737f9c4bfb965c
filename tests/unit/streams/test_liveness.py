from streams.air.liveness import HOUR_MS, PartitionClock

GRACE = 15 * 60_000
T = 100 * HOUR_MS


def test_a_silent_station_is_idle_once_its_partition_moves_past_hour_grace_and_allowance() -> None:
    clock = PartitionClock(GRACE, idle_ms=2 * HOUR_MS)
    clock.saw(0, "quiet", T + 10 * 60_000, T, 60_000)  # open hour [T, T+1h)
    clock.saw(0, "busy", T + 3 * HOUR_MS + GRACE - 1, T + HOUR_MS, 60_000)
    assert clock.idle(0) == []
    assert clock.settled(0) == T + HOUR_MS + GRACE - 1
    clock.saw(0, "busy", T + 3 * HOUR_MS + GRACE, T + HOUR_MS, 60_000)
    assert clock.idle(0) == ["quiet"]
    clock.saw(1, "other", T + 10 * HOUR_MS, T + 9 * HOUR_MS, 60_000)  # another partition
    assert clock.idle(0) == ["quiet"]
    clock.saw(0, "quiet", T + 10 * 60_000, T + HOUR_MS, 60_000)  # closed: nothing open now
    assert clock.idle(0) == []


def test_offline_ticks_are_throttled_and_pick_quiet_stations() -> None:
    clock = PartitionClock(GRACE, tick_ms=15 * 60_000)
    clock.saw(0, "a", T, T, 60_000)
    clock.saw(0, "b", T + 30 * 60_000, T, 60_000)
    now = clock.tick_due(0)
    assert now == T + 30 * 60_000
    assert clock.tick_due(0) is None
    assert clock.quiet(0, now) == {"a": (T, 60_000)}
