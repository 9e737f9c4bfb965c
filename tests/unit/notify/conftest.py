"""Unit-test helpers for the notifier: alert events, an engine on a manual clock, and a recording
receiver standing in for the far end of a channel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipeline.messages.results import AlertEvent, AlertSubject
from pipeline.notify.channels import DeliveryError
from pipeline.notify.engine import Engine
from pipeline.notify.metrics import NotifierMetrics
from pipeline.notify.outbox import Outbox
from pipeline.notify.render import LinkSettings, Notification, Rendered, Renderer
from pipeline.notify.silences import SilenceBook
from pipeline.notify.subscriptions import parse_subscriptions
from pipeline.registry import Registry
from pipeline.timeutil import ManualClock

# 2025-11-27 10:00 Asia/Shanghai
T0 = 1_764_208_800.0
ACK_SECRET = "ack-secret-for-tests-0123456789"
LINKS = LinkSettings("http://grafana.test:3000", "http://notifier.test:8788", ACK_SECRET)


def subject(station: str = "1356A", scope: str = "station") -> AlertSubject:
    registry = Registry.load()
    s = registry.get(station) if scope == "station" else None
    if scope == "city":
        return AlertSubject(
            scope="city",
            id="shenzhen",
            name_zh="深圳市",
            name_en="Shenzhen",
            district=None,
            river=None,
        )
    if scope == "district":
        d = registry.districts[station]
        return AlertSubject(
            scope="district",
            id=d.id,
            name_zh=d.name_zh,
            name_en=d.name_en,
            district=d.id,
            river=None,
        )
    assert s is not None
    return AlertSubject(
        scope="station",
        id=s.id,
        name_zh=s.name_zh,
        name_en=s.name_en,
        district=s.district,
        river=s.river,
    )


def event(
    state: str = "firing",
    *,
    station: str = "1356A",
    scope: str = "station",
    rule: str = "pm25_hourly",
    severity: str = "warning",
    at: float = T0,
    started: float | None = None,
    value: float = 98.0,
    threshold: float = 75.0,
) -> AlertEvent:
    subj = subject(station, scope)
    start_ms = int((at if started is None else started) * 1000)
    alert_id = f"{rule}-{subj.id}-{start_ms}"
    at_ms = int(at * 1000)
    return AlertEvent(
        alert_id=alert_id,
        transition_id=f"{alert_id}:{state}:{at_ms}",
        rule=rule,
        state=state,  # type: ignore[arg-type]
        severity=severity,  # type: ignore[arg-type]
        value=value,
        threshold=threshold,
        subject=subj,
        started_ms=start_ms,
        ended_ms=at_ms if state == "resolved" else None,
        event_ms=at_ms,
        message_zh=f"{subj.name_zh} PM2.5 小时浓度 {value:g} μg/m³，超过 {threshold:g} μg/m³",
        message_en=f"{subj.name_en} PM2.5 hourly {value:g} μg/m³ above {threshold:g} μg/m³",
    )


@dataclass
class Receiver:
    """The far end of a channel: takes notifications, or refuses the next ``fail`` of them."""

    fail: int = 0
    retryable: bool = True
    got: list[tuple[Rendered, Notification]] = field(default_factory=list)
    tries: int = 0

    async def send(self, message: Rendered, notification: Notification) -> None:
        self.tries += 1
        if self.fail:
            self.fail -= 1
            raise DeliveryError("HTTP 500: try later", self.retryable)
        self.got.append((message, notification))

    @property
    def keys(self) -> list[str]:
        return [item.delivery_key for _, n in self.got for item in n.items]


@dataclass
class Harness:
    engine: Engine
    clock: ManualClock
    receivers: dict[str, Receiver]
    silences: SilenceBook
    outbox: Outbox

    async def run(self) -> None:
        """One dispatch, and wait for its sends."""
        await self.engine.dispatch()
        await self.engine.settle()

    async def advance(self, seconds: float, step: float = 1.0) -> None:
        """Move the clock in steps, dispatching after each."""
        moved = 0.0
        while moved < seconds:
            self.clock.advance(min(step, seconds - moved))
            moved += step
            await self.run()


HarnessFactory = Callable[..., Harness]

BASE = """
schema_version: 1
delivery: {attempts: 4, backoff: 10s, backoff_max: 1m}
"""


@pytest.fixture
def harness(tmp_path: Path) -> HarnessFactory:
    outboxes: list[Outbox] = []

    def make(yaml_text: str, start: float = T0) -> Harness:
        subs = parse_subscriptions(BASE + yaml_text, "test.yaml", {})
        clock = ManualClock(start)
        outbox = Outbox(tmp_path / f"outbox{len(outboxes)}.sqlite")
        outboxes.append(outbox)
        receivers = {s.name: Receiver() for s in subs.subscribers}
        silences = SilenceBook()
        renderer = Renderer(Registry.load(), LINKS, "Asia/Shanghai")
        metrics = NotifierMetrics("t", "g")
        engine = Engine(
            subs, outbox, renderer, receivers, silences, metrics, clock, rng=lambda: 0.5
        )
        return Harness(engine, clock, receivers, silences, outbox)

    yield make  # type: ignore[misc]
    for outbox in outboxes:
        outbox.close()
