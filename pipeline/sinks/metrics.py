"""The sink's counters and gauges, and their three renderings: health JSON, Prometheus text and
the ``pipeline`` measurement written to InfluxDB every report interval.

Counters run from process start (Prometheus semantics: Grafana takes
``non_negative_difference``). Each counter has one writer (the event loop or the write thread),
so plain integers suffice; readers see a value at most one update old.
"""

from __future__ import annotations

import socket
import time
from collections import Counter
from dataclasses import dataclass, field

from pipeline.sinks.lineprotocol import FieldValue, encode

COUNTERS = (
    "records_read",
    "records_skipped",
    "records_dead_lettered",
    "points_written",
    "requests",
    "batches_written",
    "batches_retried",
    "batches_split",
    "outages",
)


@dataclass
class SinkMetrics:
    namespace: str
    group: str
    records_read: int = 0
    records_skipped: int = 0  # invalid raw readings: the validating agents dead-letter those
    records_dead_lettered: int = 0  # by the sink: unconvertible, or rejected by InfluxDB
    points_written: int = 0
    requests: int = 0  # successful write requests
    batches_written: int = 0  # batches acknowledged and committed
    batches_retried: int = 0  # write requests retried after a transient failure
    batches_split: int = 0  # rejected requests split to isolate bad records
    outages: int = 0
    outage_since: float | None = None  # time.monotonic() when InfluxDB went away
    last_error: str = ""
    assigned: int = 0  # partitions assigned to this sink
    latency_sum: float = 0.0
    lag: dict[tuple[str, str], int] = field(default_factory=dict)  # (group, topic) -> records
    dead_letters: Counter[str] = field(default_factory=Counter)  # seen on {ns}.deadletter
    _window: list[float] = field(default_factory=lambda: [0, 0.0, 0.0])  # count, sum, max

    def written(self, points: int, seconds: float) -> None:
        """One successful write request of ``points`` points that took ``seconds``."""
        self.points_written += points
        self.requests += 1
        self.latency_sum += seconds
        window = self._window
        window[0] += 1
        window[1] += seconds
        window[2] = max(window[2], seconds)

    @property
    def paused(self) -> bool:
        return self.outage_since is not None

    @property
    def own_lag(self) -> int:
        return sum(n for (group, _), n in self.lag.items() if group == self.group)

    def health(self) -> dict[str, object]:
        """The health endpoint's document."""
        outage = time.monotonic() - self.outage_since if self.outage_since is not None else 0.0
        return {
            "status": "paused" if self.paused else ("ok" if self.assigned else "starting"),
            "namespace": self.namespace,
            "group": self.group,
            "influx": {
                "available": not self.paused,
                "outage_s": round(outage, 1),
                "last_error": self.last_error,
            },
            "assigned_partitions": self.assigned,
            "lag": self.own_lag,
            **{name: getattr(self, name) for name in COUNTERS},
            "write_latency_s_sum": round(self.latency_sum, 6),
            "dead_letters_by_reason": dict(self.dead_letters),
        }

    def prometheus(self) -> str:
        """Prometheus text exposition format (version 0.0.4)."""
        base = f'namespace="{_label(self.namespace)}"'
        out = []
        for name in COUNTERS:
            out += [f"# TYPE envmon_sink_{name}_total counter"]
            out += [f"envmon_sink_{name}_total{{{base}}} {getattr(self, name)}"]
        out += [
            "# TYPE envmon_sink_write_latency_seconds summary",
            f"envmon_sink_write_latency_seconds_sum{{{base}}} {self.latency_sum:.6f}",
            f"envmon_sink_write_latency_seconds_count{{{base}}} {self.requests}",
            "# TYPE envmon_sink_paused gauge",
            f"envmon_sink_paused{{{base}}} {int(self.paused)}",
            "# TYPE envmon_consumer_lag gauge",
        ]
        out += [
            f'envmon_consumer_lag{{{base},group="{_label(g)}",topic="{_label(t)}"}} {n}'
            for (g, t), n in sorted(self.lag.items())
        ]
        out += ["# TYPE envmon_dead_letters_seen_total counter"]
        out += [
            f'envmon_dead_letters_seen_total{{{base},reason="{_label(r)}"}} {n}'
            for r, n in sorted(self.dead_letters.items())
        ]
        return "\n".join(out) + "\n"

    def pipeline_points(self, now_ns: int) -> list[str]:
        """The ``pipeline`` measurement: one ``kind=sink`` point with the counters and the write
        latency of the interval since the last call, one ``kind=lag`` point per group and topic,
        one ``kind=deadletter`` point per reason."""
        count, total, longest = self._window
        self._window = [0, 0.0, 0.0]
        base = {"namespace": self.namespace, "host": socket.gethostname()}
        fields: dict[str, FieldValue | None] = {name: getattr(self, name) for name in COUNTERS}
        fields |= {
            "paused": int(self.paused),
            "lag": self.own_lag,
            "write_latency_ms": round(1000 * total / count, 3) if count else None,
            "write_latency_max_ms": round(1000 * longest, 3) if count else None,
        }
        lines = [encode("pipeline", base | {"kind": "sink"}, fields, now_ns)]
        lines += [
            encode("pipeline", base | {"kind": "lag", "group": g, "topic": t}, {"lag": n}, now_ns)
            for (g, t), n in sorted(self.lag.items())
        ]
        lines += [
            encode("pipeline", base | {"kind": "deadletter", "reason": r}, {"count": n}, now_ns)
            for r, n in sorted(self.dead_letters.items())
        ]
        return lines


def _label(value: str) -> str:
    return value.replace("\\", r"\\").replace('"', r"\"").replace("\n", r"\n")
