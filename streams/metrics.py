"""The worker's counters, shown on its web port as JSON health and Prometheus text."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True, slots=True)
class Lag:
    """One topic-partition of the worker's consumer: end offset, committed offset, lag."""

    end: int
    committed: int | None  # None until the group committed the partition
    lag: int


@dataclass
class Metrics:
    started: float = field(default_factory=time.time)
    messages: int = 0  # Kafka messages consumed from the readings topics
    readings: int = 0  # readings accepted (an envelope holds many)
    redelivered: int = 0  # messages read again after a crash whose readings were already taken
    results: int = 0  # result messages produced (incl. dead letters)
    rejects: Counter[str] = field(default_factory=Counter)

    def rejected(self, reason: str) -> None:
        self.rejects[reason] += 1

    def health(self, lag: dict[str, Lag], table_sizes: dict[str, int]) -> dict[str, object]:
        return {
            "status": "ok",
            "uptime_s": round(time.time() - self.started, 1),
            "messages": self.messages,
            "readings": self.readings,
            "redelivered": self.redelivered,
            "results": self.results,
            "rejects": dict(self.rejects),
            "table_sizes": table_sizes,
            "lag": {tp: asdict(v) for tp, v in lag.items()},
        }

    def prometheus(self, lag: dict[str, Lag], table_sizes: dict[str, int]) -> str:
        counters = {
            "messages": self.messages,
            "readings": self.readings,
            "redelivered": self.redelivered,
            "results": self.results,
        }
        lines = [
            line
            for name, value in counters.items()
            for line in (
                f"# TYPE envmon_worker_{name}_total counter",
                f"envmon_worker_{name}_total {value}",
            )
        ]
        lines += [
            "# TYPE envmon_worker_rejects_total counter",
            *(
                f'envmon_worker_rejects_total{{reason="{r}"}} {n}'
                for r, n in sorted(self.rejects.items())
            ),
            "# TYPE envmon_worker_table_size gauge",
            *(
                f'envmon_worker_table_size{{table="{t}"}} {n}'
                for t, n in sorted(table_sizes.items())
            ),
            "# TYPE envmon_worker_lag gauge",
        ]
        for tp, value in lag.items():
            topic, _, partition = tp.rpartition(":")
            lines.append(
                f'envmon_worker_lag{{topic="{topic}",partition="{partition}"}} {value.lag}'
            )
        return "\n".join(lines) + "\n"
