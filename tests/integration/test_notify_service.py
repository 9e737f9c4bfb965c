"""The notifier as a service: the signed acknowledge link (403 and no change for a wrong or
expired one; a good one publishes the ack and stops the reminders), ``envmon alerts ack``,
``envmon alerts silence`` / ``silences``, ``envmon notify test`` and ``envmon notify status``."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import msgspec
import pytest

from pipeline.messages.notify import AlertAck
from pipeline.notify.links import ack_link
from pipeline.settings import Settings
from pipeline.topics import Topics
from tests.fixtures.notify_process import NotifierProcess, alert_record
from tests.fixtures.receivers import HttpReceiver, webhook_responder
from tests.fixtures.servers import InfluxDB
from tests.fixtures.sink_process import produce, rows, v1_settings, wait_for
from tests.integration.conftest import TopicReader
from tests.unit.notify.conftest import event

pytestmark = pytest.mark.integration
SECRET, HOOK = "ack-link-secret-for-the-test", "service-test-hmac"
SUBS = """schema_version: 1
subscribers:
  - name: duty
    repeat_every: 1s
    channel: {{type: webhook, url: "{url}/duty", secret_env: HOOK}}
"""


def post(url: str, note: str = "") -> int:
    base, _, query = url.partition("?")
    data = urllib.parse.urlencode({**dict(urllib.parse.parse_qsl(query)), "note": note}).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(base, data=data), timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_ack_link_silences_and_commands(
    settings: Settings,
    topics: Topics,
    tmp_path: Path,
    read_topic: TopicReader,
    influxdb: InfluxDB,
) -> None:
    settings = v1_settings(settings, influxdb)  # the `notifier` measurement goes there
    with HttpReceiver(webhook_responder(HOOK)) as receiver:
        subscriptions = SUBS.format(url=receiver.url)
        notifier = NotifierProcess(
            settings, tmp_path, subscriptions, ENVMON_ACK_SECRET=SECRET, HOOK=HOOK
        )
        public = f"http://127.0.0.1:{notifier.port}"
        notifier.env["ENVMON_NOTIFIER_PUBLIC_URL"] = public
        with notifier:
            a, b = event(station="1356A"), event(station="1357A")
            produce(settings, [alert_record(topics.alerts, e) for e in (a, b)])

            def sent(alert_id: str) -> list[dict]:  # type: ignore[type-arg]
                return [
                    x
                    for r in receiver.taken()
                    for x in r.json()["alerts"]
                    if x["alert_id"] == alert_id
                ]

            wait_for(lambda: len(sent(a.alert_id)), lambda n: n >= 2, 20, "a reminder of a")
            link = sent(a.alert_id)[0]["ack_url"]
            assert link.startswith(f"{public}/ack?")

            # wrong signature, another name, expired: 403, nothing published, reminders go on
            now = int(time.time())
            wrong = link.replace("sig=", "sig=0")
            forged = ack_link(public, "not-the-secret", a.alert_id, "duty", now + 600)
            expired = ack_link(public, SECRET, a.alert_id, "duty", now - 1)
            assert [post(u) for u in (wrong, forged, expired)] == [403, 403, 403]
            assert read_topic(settings.kafka_bootstrap, topics.alert_acks, 1, timeout=2) == []
            before = len(sent(a.alert_id))
            wait_for(lambda: len(sent(a.alert_id)), lambda n: n > before, 10, "reminders go on")

            # the link: the ack is published, read back, and a's reminders stop
            assert post(link, "在处理") == 200
            [record] = read_topic(settings.kafka_bootstrap, topics.alert_acks, 1)
            ack = msgspec.json.decode(record.value, type=AlertAck)
            assert (ack.alert_id, ack.by, ack.note, ack.source) == (
                a.alert_id,
                "duty",
                "在处理",
                "link",
            )
            assert (ack.rule, ack.severity) == ("pm25_hourly", "warning")
            time.sleep(1.5)
            stopped_at = len(sent(a.alert_id))
            b_before = len(sent(b.alert_id))
            time.sleep(3)
            assert len(sent(a.alert_id)) == stopped_at
            assert len(sent(b.alert_id)) > b_before

            # the command line: ack b, silence a station, list silences, test message, status
            done = notifier.cli("alerts", "ack", b.alert_id, "--by", "李工", "--note", "已派人")
            assert done.returncode == 0, done.stderr
            assert f"acknowledged {b.alert_id} as 李工" in done.stdout
            silenced = notifier.cli(
                "alerts",
                "silence",
                "--match",
                "station=1358A",
                "--until",
                "now+1h",
                "--reason",
                "校准维护",
            )
            assert silenced.returncode == 0, silenced.stderr
            listed = notifier.cli("alerts", "silences")
            assert "station=1358A" in listed.stdout and "校准维护" in listed.stdout
            assert "active" in listed.stdout
            muted = event(station="1358A")
            produce(settings, [alert_record(topics.alerts, muted)])
            time.sleep(1.5)
            b_stopped = len(sent(b.alert_id))
            time.sleep(2)
            assert len(sent(b.alert_id)) == b_stopped  # acknowledged by command: no reminders
            assert sent(muted.alert_id) == []

            status = notifier.cli("notify", "status")
            assert f"{muted.transition_id}|duty" in status.stdout and "silenced:" in status.stdout

            tested = notifier.cli("notify", "test", "duty")
            assert tested.returncode == 0, tested.stderr
            assert any(r.json()["kind"] == "test" for r in receiver.taken())
            assert notifier.stop() == 0
        points = rows(
            influxdb,
            settings.influx_database,
            'SELECT last("delivered") AS d, last("pending") AS p FROM "notifier" '
            "WHERE \"channel\" = 'webhook'",
        )
        assert points and points[0]["d"] >= 6
