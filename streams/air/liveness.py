"""Event time per partition: closes the hours of silent stations and times offline checks.

A station that stops sending never moves its own watermark, so its open hour would never close.
The agent's partition watermark — the latest event time seen on that partition — less an
allowance ``idle_ms`` stands in for "now" (:meth:`PartitionClock.settled`): when it passes a
silent station's open hour plus the grace, the hour is closed as if the station's clock had moved
on. The allowance lets the stations of one partition be that far apart, as they are in a bulk
load sent station by station in envelopes (100 minutes of minute data each, say); a station
further behind its partition than that finds its hours closed (``late``). Using event time, not
the wall clock, keeps a replay's results equal to the live ones. Offline checks run at most every
``tick_ms`` of partition event time, over the stations that may be offline (no reading for two
intervals) or are alerting.

A partition whose stations all went silent has no event time of its own any more. Like Flink's
idle sources, a partition without a message for a wall-clock timeout (:meth:`follow_idle`, called
by the agent's timer) follows the slowest active partition's event time, never going back; its
silent stations' hours then close and their offline alerts fire. It is active again with its
next message.

The clock lives in memory. A worker that starts, or is handed a partition by a rebalance, reads
the partition's stations from the agent's table on its first batch of it (:meth:`seed`), so that
a station already silent, or silent from then on, is still closed and judged offline.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

HOUR_MS = 3_600_000


@dataclass(slots=True)
class Seen:
    """A station's partition (of its latest message), event time, closed hours and interval."""

    partition: int
    watermark_ms: int
    closed_until_ms: int
    interval_ms: int


@dataclass
class PartitionClock:
    grace_ms: int
    tick_ms: int = 15 * 60_000
    idle_ms: int = 2 * HOUR_MS
    _stations: dict[str, Seen] = field(default_factory=dict)
    _watermarks: dict[int, int] = field(default_factory=dict)
    _ticked: dict[int, int] = field(default_factory=dict)
    _heard: dict[int, float] = field(default_factory=dict)
    _seeded: set[int] = field(default_factory=set)

    def saw(
        self,
        partition: int,
        station: str,
        watermark_ms: int,
        closed_until_ms: int,
        interval_ms: int,
    ) -> None:
        """Record a station's state after a batch (and its partition's event time)."""
        self.learn(station, Seen(partition, watermark_ms, closed_until_ms, interval_ms))

    def learn(self, station: str, seen: Seen) -> None:
        """:meth:`saw`, the state given as a :class:`Seen`."""
        self._stations[station] = seen
        self._watermarks[seen.partition] = max(self.now(seen.partition), seen.watermark_ms)

    def unseeded(self, partitions: Collection[int]) -> set[int]:
        """Those of ``partitions`` whose stations were not read from the table since assigned."""
        return set(partitions) - self._seeded

    def seed(self, partitions: set[int], stations: Iterable[tuple[str, Seen]]) -> None:
        """Learn the stations of ``partitions`` from the table (every station's latest state,
        whatever its partition) after the partitions were assigned."""
        for station, seen in stations:
            if seen.partition in partitions:
                self.learn(station, seen)
        self._seeded |= partitions

    def heard(self, partition: int, at_s: float) -> None:
        """A message of ``partition`` arrived at wall-clock (monotonic) time ``at_s``."""
        self._heard[partition] = at_s

    def follow_idle(self, at_s: float, idle_s: float) -> list[int]:
        """Move the event time of every partition silent for ``idle_s`` up to the slowest active
        partition's (the slowest, so that data still to come from any active partition is not
        overtaken); the partitions moved."""
        active = [
            self._watermarks[p]
            for p, heard in self._heard.items()
            if at_s - heard < idle_s and p in self._watermarks
        ]
        if not active:
            return []
        lead = min(active)
        moved = sorted(
            p
            for p, heard in self._heard.items()
            if at_s - heard >= idle_s and self._watermarks.get(p, 0) < lead
        )
        for p in moved:
            self._watermarks[p] = lead
        return moved

    def keep(self, partitions: Collection[int]) -> None:
        """Stop following any partition but ``partitions`` (those assigned after a rebalance)."""
        for p in [p for p in self._heard if p not in partitions]:
            del self._heard[p]

    def revoked(self, partitions: Collection[int]) -> None:
        """``partitions`` were taken from this worker: read their stations from the table again
        when they come back (another worker may have moved them on)."""
        self._seeded -= set(partitions)

    def now(self, partition: int) -> int:
        return self._watermarks.get(partition, 0)

    def settled(self, partition: int) -> int:
        """The partition's event time less the allowance for stations behind it."""
        return self.now(partition) - self.idle_ms

    def idle(self, partition: int) -> list[str]:
        """Stations of ``partition`` holding an open hour that ended more than the grace before
        :meth:`settled`."""
        boundary = self.settled(partition) - self.grace_ms - HOUR_MS
        return sorted(
            s
            for s, seen in self._stations.items()
            if seen.partition == partition
            and seen.closed_until_ms <= boundary
            and seen.watermark_ms >= seen.closed_until_ms
        )

    def tick_due(self, partition: int) -> int | None:
        """The partition's event time when an offline check is due, else None."""
        now = self.now(partition)
        if now - self._ticked.get(partition, 0) < self.tick_ms:
            return None
        self._ticked[partition] = now
        return now

    def quiet(self, partition: int, now_ms: int) -> dict[str, tuple[int, int]]:
        """Stations of ``partition`` without a reading for two intervals: (last seen, interval)."""
        return {
            s: (seen.watermark_ms, seen.interval_ms)
            for s, seen in self._stations.items()
            if seen.partition == partition and now_ms - seen.watermark_ms >= 2 * seen.interval_ms
        }


def all_passed(clocks: Mapping[int, int], partitions: int | None) -> int | None:
    """The time every readings partition has passed (``hours.PeriodBatch.clocks`` gathered), or
    None until clocks of ``partitions`` of them (None: of any) have come. A clock 0 is an empty
    partition's (caught up without a message): it counts as come and holds nothing back."""
    if not clocks or (partitions is not None and len(clocks) < partitions):
        return None
    return min((t for t in clocks.values() if t > 0), default=None)
