"""Local HTTP receivers get webhook, WeCom, DingTalk and Feishu payloads in the documented
formats and check signatures as those services do; retries reach a receiver that recovers,
and one that never does ends ``failed`` without holding up anyone else."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.receivers import (
    HttpReceiver,
    dingtalk_responder,
    feishu_responder,
    webhook_responder,
    wecom_responder,
)
from tests.integration.notify_helpers import dispatch_until, live_engine
from tests.unit.notify.conftest import event

pytestmark = pytest.mark.integration

ENV = {
    "HOOK_SECRET": "webhook-hmac-key-42",
    "DING_SECRET": "SECdingtalk-secret-9f8e",
    "FEISHU_SECRET": "feishu-bot-secret-77",
    "WECOM_URL": "",
}


async def test_robots_and_webhook_get_documented_signed_payloads(tmp_path: Path) -> None:
    with (
        HttpReceiver(webhook_responder(ENV["HOOK_SECRET"])) as hook,
        HttpReceiver(wecom_responder("wecom-key-1")) as wecom,
        HttpReceiver(dingtalk_responder("ding-token", ENV["DING_SECRET"])) as ding,
        HttpReceiver(feishu_responder(ENV["FEISHU_SECRET"])) as feishu,
    ):
        env = ENV | {"WECOM_URL": f"{wecom.url}/cgi-bin/webhook/send?key=wecom-key-1"}
        ding_url = f"{ding.url}/robot/send?access_token=ding-token"
        yaml_text = f"""schema_version: 1
subscribers:
  - name: hook
    language: en
    channel: {{type: webhook, url: "{hook.url}/envmon", secret_env: HOOK_SECRET}}
  - name: wecom
    channel: {{type: wecom, url_env: WECOM_URL}}
  - name: ding
    channel:
      {{type: dingtalk, url: "{ding_url}", secret_env: DING_SECRET, at_mobiles: ["13800000000"]}}
  - name: feishu
    channel:
      {{type: feishu, url: "{feishu.url}/open-apis/bot/v2/hook/abc", secret_env: FEISHU_SECRET}}
  - name: ding-wrong-secret
    channel: {{type: dingtalk, url: "{ding_url}", secret_env: HOOK_SECRET}}
"""
        async with live_engine(yaml_text, env, tmp_path) as engine:
            fired = event(station="szh-hekou", severity="critical")
            engine.record([fired])
            await dispatch_until(engine, lambda: engine.metrics.get("delivered") == 4)
            await dispatch_until(engine, lambda: engine.metrics.get("failed") == 1)

        [h] = hook.taken()
        doc = h.json()
        assert h.headers["Idempotency-Key"] == doc["key"] == f"{fired.transition_id}|hook"
        assert doc["kind"] == "alert" and doc["language"] == "en"
        [alert] = doc["alerts"]
        assert (alert["alert_id"], alert["state"], alert["severity"]) == (
            fired.alert_id,
            "firing",
            "critical",
        )
        assert (alert["value"], alert["threshold"], alert["colour"]) == (98.0, 75.0, "#D32F2F")
        assert "envmon-rivers?var-section=szh-hekou" in alert["grafana_url"]

        [w] = wecom.taken()
        content = w.json()["markdown"]["content"]
        assert "深圳河河口" in content and '<font color="warning">严重</font>' in content

        [d] = ding.taken()
        body = d.json()
        assert body["markdown"]["title"].startswith("【严重】深圳河河口")
        assert body["markdown"]["text"].endswith("@13800000000")
        assert body["at"] == {"atMobiles": ["13800000000"], "isAtAll": False}
        # the robot with the wrong secret was refused by the receiver, and not retried
        assert len(ding.requests) == 2

        [f] = feishu.taken()
        card = f.json()["card"]
        assert card["header"]["template"] == "red"
        assert card["header"]["title"]["content"].startswith("【严重】深圳河河口")
        assert "深圳河河口" in card["elements"][0]["text"]["content"]
        assert card["elements"][1]["actions"][0]["url"].startswith("http://grafana.test:3000/d/")


HOOKS = """schema_version: 1
delivery: {{attempts: 5, backoff: 0.05, backoff_max: 0.2}}
subscribers:
  - {{name: flaky, channel: {{type: webhook, url: "{flaky}/h", secret_env: HOOK_SECRET}}}}
  - {{name: dead, channel: {{type: webhook, url: "{dead}/h", secret_env: HOOK_SECRET}}}}
  - {{name: healthy, channel: {{type: webhook, url: "{healthy}/h", secret_env: HOOK_SECRET}}}}
"""


async def test_retries_deliver_once_and_a_dead_receiver_fails_alone(tmp_path: Path) -> None:
    secret = ENV["HOOK_SECRET"]
    with (
        HttpReceiver(webhook_responder(secret, fail_first=3)) as flaky,
        HttpReceiver(webhook_responder(secret, fail_first=10**6)) as dead,
        HttpReceiver(webhook_responder(secret)) as healthy,
    ):
        yaml_text = HOOKS.format(flaky=flaky.url, dead=dead.url, healthy=healthy.url)
        async with live_engine(yaml_text, ENV, tmp_path) as engine:
            engine.record([event()])
            await engine.dispatch()
            await engine.settle()
            assert len(healthy.taken()) == 1  # at once, whatever the others do
            await dispatch_until(engine, lambda: engine.metrics.get("failed") == 1)
            await dispatch_until(engine, lambda: engine.metrics.get("delivered") == 2)
            counts = engine.outbox.counts()

        assert flaky.answers == [500, 500, 500, 200]
        assert len({r.headers["Idempotency-Key"] for r in flaky.requests}) == 1
        assert len(dead.requests) == 5 and set(dead.answers) == {500}
        assert len(healthy.requests) == 1
        assert counts == {("webhook", "sent"): 2, ("webhook", "failed"): 1}
        assert engine.metrics.get("retried") == 3 + 4
