"""Crash test: ``kill -9`` the notifier right after it recorded a batch of alert events (before
any was sent), start it again: every (transition, subscriber) reaches its receiver exactly
once — the outbox kept what was consumed, the delivery keys drop what is read twice."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from pipeline.settings import Settings
from pipeline.topics import Topics
from tests.fixtures.notify_process import NotifierProcess, alert_record
from tests.fixtures.receivers import HttpReceiver, webhook_responder
from tests.fixtures.sink_process import produce, wait_for
from tests.unit.notify.conftest import T0, event

pytestmark = pytest.mark.integration
N = 40
STATIONS = ["1356A", "1357A", "1358A", "1359A", "1360A", "1361A", "1363A", "1364A"]
SUBS = """schema_version: 1
subscribers:
  - {{name: a, group_wait: 2s, channel: {{type: webhook, url: "{url}/a", secret_env: HOOK_KEY}}}}
  - {{name: b, group_wait: 2s, channel: {{type: webhook, url: "{url}/b", secret_env: HOOK_KEY}}}}
"""


def events(first: int, count: int) -> list:  # type: ignore[type-arg]
    return [
        event(station=STATIONS[i % len(STATIONS)], at=T0 + 3600 * i, started=T0 + 3600 * i)
        for i in range(first, first + count)
    ]


def test_kill_9_after_consuming_then_restart_delivers_each_once(
    settings: Settings, topics: Topics, tmp_path: Path
) -> None:
    secret = "crash-test-hmac-key"
    with HttpReceiver(webhook_responder(secret)) as receiver:
        first, second = events(0, N), events(N, N)
        subscriptions = SUBS.format(url=receiver.url)
        with NotifierProcess(settings, tmp_path, subscriptions, HOOK_KEY=secret) as notifier:
            produce(settings, [alert_record(topics.alerts, e) for e in first])
            wait_for(
                lambda: (notifier.health() or {}).get("deliveries_recorded", 0),
                lambda n: n >= 2 * N,
                20,
                "first batch recorded",
            )
            notifier.kill()
            assert receiver.requests == [], "killed before the grouping window let any out"

            notifier.start()
            produce(settings, [alert_record(topics.alerts, e) for e in second])

            def delivered() -> Counter[str]:
                return Counter(
                    a["delivery_key"] for r in receiver.taken() for a in r.json()["alerts"]
                )

            wait_for(lambda: sum(delivered().values()), lambda n: n >= 4 * N, 30, "all delivered")
            time.sleep(2.5)  # another grouping window: a duplicate would show up now
            status = notifier.cli("notify", "status")

        counts = delivered()
        expected = {f"{e.transition_id}|{s}" for e in first + second for s in "ab"}
        assert set(counts) == expected
        assert set(counts.values()) == {1}
        keys = Counter(r.headers["Idempotency-Key"] for r in receiver.requests)
        assert set(keys.values()) == {1}
        assert status.returncode == 0, status.stderr
        assert "webhook" in status.stdout and str(4 * N) in status.stdout
