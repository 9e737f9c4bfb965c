"""The notifier's endpoint: health, metrics, and the acknowledge link (403 for a wrong or
expired signature, and nothing published; GET only shows a button, POST acknowledges)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from aiohttp.test_utils import TestClient, TestServer

from pipeline.messages.notify import AlertAck
from pipeline.notify.links import ack_link
from pipeline.notify.metrics import NotifierMetrics
from pipeline.notify.outbox import Outbox
from pipeline.notify.web import AckService, make_app
from pipeline.timeutil import ManualClock
from tests.unit.notify.conftest import ACK_SECRET, T0, event


async def test_ack_link(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite")
    fired = event(severity="critical")
    outbox.record([fired], [], 0)
    published: list[AlertAck] = []

    async def publish(ack: AlertAck) -> None:
        published.append(ack)

    clock = ManualClock(T0)
    metrics = NotifierMetrics("t", "envmon-notify-t")
    app = make_app(metrics, AckService(ACK_SECRET, publish, outbox, clock))
    url = ack_link("http://n", ACK_SECRET, fired.alert_id, "王工", int(T0) + 3600)
    good = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/health")).status == 200
        assert "envmon_notifier_delivered_total" in await (await client.get("/metrics")).text()
        for params in (good | {"sig": "0" * 64}, good | {"by": "mallory"}, {"alert": "x"}):
            assert (await client.get("/ack", params=params)).status == 403
            assert (await client.post("/ack", data=params)).status == 403
        page = await client.get("/ack", params=good)
        assert page.status == 200 and 'method="post"' in await page.text()
        assert published == []  # a GET (link preview, mail scanner) acknowledges nothing
        clock.advance(3600)
        assert (await client.post("/ack", data=good | {"note": "处理中"})).status == 403
        assert published == []
        clock.advance(-1)
        answer = await client.post("/ack", data=good | {"note": "处理中"})
        assert answer.status == 200
    [ack] = published
    assert (ack.alert_id, ack.by, ack.note, ack.source) == (
        fired.alert_id,
        "王工",
        "处理中",
        "link",
    )
    assert (ack.rule, ack.severity, ack.ack_ms) == (
        "pm25_hourly",
        "critical",
        int((T0 + 3599) * 1000),
    )
    outbox.close()


def test_metrics_renderings() -> None:
    metrics = NotifierMetrics("env", "envmon-notify-env")
    metrics.add("delivered", "webhook", 3)
    metrics.add("failed", "email")
    metrics.pending["webhook"] = 2
    assert metrics.points(7) == [
        "notifier,channel=email,namespace=env delivered=0i,failed=1i,retried=0i,suppressed=0i,"
        "pending=0i 7",
        "notifier,channel=webhook,namespace=env delivered=3i,failed=0i,retried=0i,suppressed=0i,"
        "pending=2i 7",
    ]
    assert 'envmon_notifier_delivered_total{namespace="env",channel="webhook"} 3' in (
        metrics.prometheus()
    )
    health = metrics.health()
    assert (health["delivered"], health["failed"], health["pending"]) == (3, 1, 2)


def test_configured_channels_report_zeros_before_any_delivery() -> None:
    """A rate panel needs a point before the first burst, or that burst never shows."""
    metrics = NotifierMetrics("env", "envmon-notify-env", configured={"log"})
    assert metrics.points(7) == [
        "notifier,channel=log,namespace=env delivered=0i,failed=0i,retried=0i,suppressed=0i,"
        "pending=0i 7"
    ]
