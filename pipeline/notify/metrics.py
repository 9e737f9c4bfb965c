"""The notifier's counters, per channel type, and their renderings: health JSON, Prometheus text
and the ``notifier`` measurement (tags ``namespace``, ``channel``; fields ``delivered failed
retried suppressed pending``, integers, counted since the process started)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pipeline.sinks.lineprotocol import encode

FIELDS = ("delivered", "failed", "retried", "suppressed")


@dataclass
class NotifierMetrics:
    namespace: str
    group: str
    counts: dict[str, Counter[str]] = field(default_factory=dict)  # field -> channel -> n
    pending: Counter[str] = field(default_factory=Counter)  # channel -> deliveries pending now
    events_read: int = 0
    deliveries_recorded: int = 0
    acks_read: int = 0
    silences_active: int = 0
    assigned: int = 0
    configured: set[str] = field(default_factory=set)  # channel types with a series from start

    def add(self, name: str, channel: str, n: int = 1) -> None:
        self.counts.setdefault(name, Counter())[channel] += n

    def get(self, name: str, channel: str | None = None) -> int:
        counter = self.counts.get(name, Counter())
        return counter.total() if channel is None else counter[channel]

    def channels(self) -> list[str]:
        names = set(self.pending) | self.configured
        for counter in self.counts.values():
            names.update(counter)
        return sorted(names)

    def health(self) -> dict[str, object]:
        return {
            "status": "ok" if self.assigned else "starting",
            "namespace": self.namespace,
            "group": self.group,
            "assigned_partitions": self.assigned,
            "events_read": self.events_read,
            "deliveries_recorded": self.deliveries_recorded,
            "acks_read": self.acks_read,
            "silences_active": self.silences_active,
            "pending": self.pending.total(),
            **{name: self.get(name) for name in FIELDS},
            "by_channel": {
                ch: {name: self.get(name, ch) for name in FIELDS} | {"pending": self.pending[ch]}
                for ch in self.channels()
            },
        }

    def prometheus(self) -> str:
        ns = self.namespace.replace('"', "")
        out = []
        for name in FIELDS:
            out.append(f"# TYPE envmon_notifier_{name}_total counter")
            out += [
                f'envmon_notifier_{name}_total{{namespace="{ns}",channel="{ch}"}} '
                f"{self.get(name, ch)}"
                for ch in self.channels()
            ]
        out.append("# TYPE envmon_notifier_pending gauge")
        out += [
            f'envmon_notifier_pending{{namespace="{ns}",channel="{ch}"}} {self.pending[ch]}'
            for ch in self.channels()
        ]
        for name in ("events_read", "deliveries_recorded", "acks_read"):
            out.append(f"# TYPE envmon_notifier_{name}_total counter")
            out.append(f'envmon_notifier_{name}_total{{namespace="{ns}"}} {getattr(self, name)}')
        return "\n".join(out) + "\n"

    def points(self, now_ns: int) -> list[str]:
        """One ``notifier`` point per channel type."""
        return [
            encode(
                "notifier",
                {"namespace": self.namespace, "channel": ch},
                {name: self.get(name, ch) for name in FIELDS} | {"pending": self.pending[ch]},
                now_ns,
            )
            for ch in self.channels()
        ]
