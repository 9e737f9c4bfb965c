"""Offline alerts of stations, shared by the air and water agents: judged on event-time ticks
of a partition (``air.liveness.PartitionClock``), resolved when a station's data is back."""

from __future__ import annotations

from streams.alerts import AlertEngine, AlertState, LastSeen
from streams.alerts.rules import OfflineRule
from streams.runtime import Outbox

AlertStates = dict[str, AlertState]


class Offline:
    def __init__(self, engine: AlertEngine, alerts_topic: str) -> None:
        self.engine = engine
        self.alerts_topic = alerts_topic
        self._rules = {r.name for r in engine.rules if isinstance(r, OfflineRule)}

    def check(
        self, station: str, now_ms: int, last: LastSeen, states: AlertStates, outbox: Outbox
    ) -> None:
        """Judge the offline rules of ``station`` at ``now_ms``; transitions go to ``outbox``."""
        for alert in self.engine.on_tick(now_ms, {station: last}, states):
            outbox.add(self.alerts_topic, station, alert)

    def alerting(self, states: AlertStates) -> bool:
        """Whether an offline alert of these states is pending or firing (data resolves it)."""
        return any(
            key.split("|", 1)[0] in self._rules and state.status != "ok"
            for key, state in states.items()
        )
