"""A real SMTP server (aiosmtpd, STARTTLS or implicit TLS, AUTH) receives the notifier's e-mails:
subject, recipients, plain-text and HTML parts, Chinese intact."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.receivers import SmtpReceiver
from tests.integration.notify_helpers import dispatch_until, live_engine
from tests.unit.notify.conftest import T0, event

pytestmark = pytest.mark.integration

MAIL = """schema_version: 1
delivery: {{attempts: 2, backoff: 0.05}}
subscribers:
  - name: mail
    language: zh
    group_wait: 0.3
    channel:
      type: email
      host: 127.0.0.1
      port: {port}
      security: {mode}
      username: envmon
      password_env: SMTP_PASSWORD
      from: "envmon 告警 <envmon@example.org>"
      to: [duty@example.org, 值班@example.org]
      ca_file: {cert}
      timeout: 5s
"""


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
@pytest.mark.parametrize("mode", ["starttls", "ssl"])
async def test_smtp_server_receives_the_digest(mode: str, tmp_path: Path) -> None:
    with SmtpReceiver(tmp_path, mode) as smtp:
        yaml_text = MAIL.format(port=smtp.port, mode=mode, cert=smtp.cert)
        env = {"SMTP_PASSWORD": smtp.password}
        async with live_engine(yaml_text, env, tmp_path) as engine:
            critical = event(station="szh-hekou", severity="critical")
            engine.record([critical, event("resolved", at=T0 + 5400, started=T0)])
            await dispatch_until(engine, lambda: engine.metrics.get("delivered") == 2)
    [(sender, recipients, message)] = smtp.messages
    assert sender == "envmon@example.org"
    assert recipients == ["duty@example.org", "值班@example.org"]
    assert message["Subject"] == "【严重】2 条环境告警"
    assert message["To"] == "duty@example.org, 值班@example.org"
    assert message["X-Envmon-Key"].startswith("digest-")
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "深圳河河口" in body and "通心岭子站" in body and "已恢复" in body
        assert "μg/m³" in body and "持续" in body
        assert "envmon-rivers?var-section=szh-hekou" in body
    assert "#D32F2F" in html and "<table" in html


async def test_wrong_password_fails_without_retry(tmp_path: Path) -> None:
    with SmtpReceiver(tmp_path) as smtp:
        yaml_text = MAIL.format(port=smtp.port, mode="starttls", cert=smtp.cert)
        async with live_engine(yaml_text, {"SMTP_PASSWORD": "wrong"}, tmp_path) as engine:
            engine.record([event()])
            await dispatch_until(engine, lambda: engine.metrics.get("failed") == 1)
            [(_, _, state, attempts, error)] = engine.outbox.problems()
    assert smtp.messages == []
    assert (state, attempts) == ("failed", 1) and error.startswith("SMTP 535")
