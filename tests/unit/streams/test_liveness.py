from streams.air.liveness import HOUR_MS, PartitionClock, Seen

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


def test_an_idle_partition_follows_the_slowest_active_one_and_its_silent_stations_go_offline() -> (
    None
):
    clock = PartitionClock(GRACE, tick_ms=15 * 60_000)
    clock.saw(0, "silent", T, T, 60_000)
    clock.saw(1, "fast", T + 6 * HOUR_MS, T + 5 * HOUR_MS, 60_000)
    clock.saw(2, "slow", T + 4 * HOUR_MS, T + 3 * HOUR_MS, 60_000)
    for partition in (0, 1, 2):
        clock.heard(partition, 0.0)
    assert clock.tick_due(0) == T
    clock.heard(1, 9.0)
    clock.heard(2, 9.0)
    assert clock.follow_idle(9.9, idle_s=10) == []  # not idle yet
    assert clock.follow_idle(10.0, idle_s=10) == [0]
    assert clock.now(0) == T + 4 * HOUR_MS  # the slowest active partition, not the fastest
    assert clock.idle(0) == ["silent"]  # its open hour closes
    tick = clock.tick_due(0)
    assert tick == T + 4 * HOUR_MS
    assert clock.quiet(0, tick) == {"silent": (T, 60_000)}  # judged by the offline rules
    assert clock.follow_idle(10.0, idle_s=10) == []  # already there: no move, never back


def test_an_idle_partition_stays_put_without_an_active_one_and_wakes_with_a_message() -> None:
    clock = PartitionClock(GRACE)
    clock.saw(0, "a", T, T, 60_000)
    clock.saw(1, "b", T + HOUR_MS, T, 60_000)
    clock.heard(0, 0.0)
    clock.heard(1, 0.0)
    assert clock.follow_idle(100.0, idle_s=10) == []  # all idle: nobody to follow
    clock.heard(1, 100.0)
    clock.saw(1, "b", T + 2 * HOUR_MS, T + HOUR_MS, 60_000)
    assert clock.follow_idle(100.0, idle_s=10) == [0]
    clock.heard(0, 101.0)  # active again: it no longer follows
    clock.saw(1, "b", T + 4 * HOUR_MS, T + 3 * HOUR_MS, 60_000)
    assert clock.follow_idle(105.0, idle_s=10) == []
    assert clock.now(0) == T + 2 * HOUR_MS
    clock.keep({0})  # partition 1 revoked: it can no longer lead or follow
    assert clock.follow_idle(200.0, idle_s=10) == []


def test_a_restarted_clock_learns_a_silent_station_of_its_partitions_from_the_table() -> None:
    table = [  # every station's stored state, whatever its partition (standby copies too)
        ("silent", Seen(0, T + 10 * 60_000, T, 60_000)),  # open hour [T, T+1h), then nothing
        ("busy", Seen(0, T + HOUR_MS, T + HOUR_MS, 60_000)),
        ("elsewhere", Seen(1, T, T, 60_000)),  # another worker's partition
    ]
    clock = PartitionClock(GRACE, tick_ms=15 * 60_000, idle_ms=2 * HOUR_MS)
    assert clock.unseeded({0}) == {0}
    clock.seed({0}, table)
    assert clock.unseeded({0, 1}) == {1}
    assert clock.now(0) == T + HOUR_MS  # the partition's event time is back too
    assert clock.now(1) == 0
    clock.saw(0, "busy", T + 4 * HOUR_MS, T + 4 * HOUR_MS, 60_000)  # only busy sends again
    assert clock.idle(0) == ["silent"]  # its open hour closes
    tick = clock.tick_due(0)
    assert tick is not None
    assert clock.quiet(0, tick) == {"silent": (T + 10 * 60_000, 60_000)}  # and it goes offline
    assert clock.quiet(1, T + 4 * HOUR_MS) == {}


def test_a_revoked_partition_is_read_from_the_table_again_when_it_comes_back() -> None:
    clock = PartitionClock(GRACE)
    clock.seed({0, 1}, [("a", Seen(0, T, T, 60_000)), ("b", Seen(1, T, T, 60_000))])
    clock.revoked({1})
    assert clock.unseeded({0, 1}) == {1}
    clock.seed({1}, [("b", Seen(1, T + HOUR_MS, T + HOUR_MS, 60_000))])  # moved on meanwhile
    assert clock.quiet(1, T + 3 * HOUR_MS) == {"b": (T + HOUR_MS, 60_000)}
