"""The gateway's counters and gauges, rendered as health JSON and Prometheus text.

All are written by the event loop only, so plain integers suffice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

COUNTERS = (
    "connections_opened",
    "connections_refused",  # over the per-address limit
    "connections_idle_closed",
    "bytes_received",
    "frames_accepted",
    "frames_rejected",
    "duplicates",  # answered again, no reading
    "responses_sent",
    "responses_withheld",  # the reading was not acknowledged by the broker: no answer
    "readings_produced",
    "dead_letters_produced",
    "values_unmapped",  # factor codes without an envmon value key
    "values_implausible",  # converted values outside the physical limits
    "produce_failures",
)


@dataclass
class GatewayMetrics:
    namespace: str
    connections_opened: int = 0
    connections_refused: int = 0
    connections_idle_closed: int = 0
    bytes_received: int = 0
    frames_accepted: int = 0
    frames_rejected: int = 0
    duplicates: int = 0
    responses_sent: int = 0
    responses_withheld: int = 0
    readings_produced: int = 0
    dead_letters_produced: int = 0
    values_unmapped: int = 0
    values_implausible: int = 0
    produce_failures: int = 0
    connections_open: int = 0
    splits_waiting: int = 0
    broker_ok: bool = True
    rejected_by_reason: Counter[str] = field(default_factory=Counter)

    def health(self) -> dict[str, object]:
        return {
            "status": "ok" if self.broker_ok else "degraded",
            "namespace": self.namespace,
            "connections_open": self.connections_open,
            "splits_waiting": self.splits_waiting,
            **{name: getattr(self, name) for name in COUNTERS},
            "rejected_by_reason": dict(self.rejected_by_reason),
        }

    def prometheus(self) -> str:
        base = f'namespace="{self.namespace}"'
        out = []
        for name in COUNTERS:
            out += [f"# TYPE envmon_hj212_{name}_total counter"]
            out += [f"envmon_hj212_{name}_total{{{base}}} {getattr(self, name)}"]
        for name in ("connections_open", "splits_waiting"):
            out += [f"# TYPE envmon_hj212_{name} gauge"]
            out += [f"envmon_hj212_{name}{{{base}}} {getattr(self, name)}"]
        out += ["# TYPE envmon_hj212_rejected_total counter"]
        out += [
            f'envmon_hj212_rejected_total{{{base},reason="{reason}"}} {n}'
            for reason, n in sorted(self.rejected_by_reason.items())
        ]
        return "\n".join(out) + "\n"
