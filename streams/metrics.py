"""The worker's counters, shown on its web port as JSON health and Prometheus text."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Metrics:
    started: float = field(default_factory=time.time)
    messages: int = 0  # Kafka messages consumed from the readings topics
    readings: int = 0  # readings accepted (an envelope holds many)
    results: int = 0  # result messages produced (incl. dead letters)
    rejects: Counter[str] = field(default_factory=Counter)
    table_sizes: dict[str, int] = field(default_factory=dict)
    lag: dict[str, int] = field(default_factory=dict)  # topic-partition -> messages behind

    def rejected(self, reason: str) -> None:
        self.rejects[reason] += 1

    def health(self) -> dict[str, object]:
        return {
            "status": "ok",
            "uptime_s": round(time.time() - self.started, 1),
            "messages": self.messages,
            "readings": self.readings,
            "results": self.results,
            "rejects": dict(self.rejects),
            "table_sizes": self.table_sizes,
            "lag": self.lag,
        }

    def prometheus(self) -> str:
        lines = [
            "# TYPE envmon_worker_messages_total counter",
            f"envmon_worker_messages_total {self.messages}",
            "# TYPE envmon_worker_readings_total counter",
            f"envmon_worker_readings_total {self.readings}",
            "# TYPE envmon_worker_results_total counter",
            f"envmon_worker_results_total {self.results}",
            "# TYPE envmon_worker_rejects_total counter",
            *(
                f'envmon_worker_rejects_total{{reason="{r}"}} {n}'
                for r, n in sorted(self.rejects.items())
            ),
            "# TYPE envmon_worker_table_size gauge",
            *(
                f'envmon_worker_table_size{{table="{t}"}} {n}'
                for t, n in sorted(self.table_sizes.items())
            ),
            "# TYPE envmon_worker_lag gauge",
            *(f'envmon_worker_lag{{partition="{p}"}} {n}' for p, n in sorted(self.lag.items())),
        ]
        return "\n".join(lines) + "\n"
