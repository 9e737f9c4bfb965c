"""Messages in Chinese and English carry names, value vs threshold, level and colour, start,
duration, a Grafana link and an acknowledge link; the IM formats keep to their limits."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from pipeline.notify.channels.wecom import fit
from pipeline.notify.links import grafana_link, verify_ack
from pipeline.notify.render import Item, Notification, Renderer, duration_text
from pipeline.notify.subscriptions import parse_subscriptions
from pipeline.registry import Registry
from tests.unit.notify.conftest import ACK_SECRET, LINKS, T0, event

SUBS = parse_subscriptions(
    """schema_version: 1
subscribers:
  - {name: zh-duty, language: zh, channel: {type: log}}
  - {name: en-duty, language: en, channel: {type: log}}
""",
    "f",
    {},
).subscribers
NOW_MS = int((T0 + 7500) * 1000)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(Registry.load(), LINKS, "Asia/Shanghai")


def one(renderer: Renderer, language: int, **kw: object):  # type: ignore[no-untyped-def]
    e = event(**kw)  # type: ignore[arg-type]
    return renderer.render(Notification("k", SUBS[language], (Item(e, "k"),)), NOW_MS), e


def test_chinese_message(renderer: Renderer) -> None:
    m, _ = one(renderer, 0, station="szh-hekou", severity="critical", at=T0 + 7200, started=T0)
    assert m.subject == "【严重】深圳河河口 PM2.5 小时浓度 98 μg/m³，超过 75 μg/m³"
    for text in (m.text, m.html, m.markdown("wecom")):
        assert "深圳河河口" in text and "福田区 · 深圳河" in text
        assert "98" in text and "75" in text
        assert "2025-11-27T10:00+08:00" in text and "2小时" in text
        assert "envmon-rivers?var-section=szh-hekou" in text
    assert "#D32F2F" in m.html and m.colour_key == "critical"
    assert '<font color="warning">严重</font>' in m.markdown("wecom")
    assert "<font color='red'>严重</font>" in m.markdown("feishu")
    assert "<font" not in m.markdown("dingtalk")


def test_english_resolved_message(renderer: Renderer) -> None:
    m, _ = one(renderer, 1, state="resolved", at=T0 + 5400, started=T0)
    assert m.subject.startswith("[WARNING] Tongxinling PM2.5 hourly")
    assert "resolved" in m.text and "Duration: 1h 30m" in m.text and "Ended:" in m.text
    assert m.colour_key == "resolved" and "#2E7D32" in m.html
    assert "Acknowledge" not in m.text  # nothing to acknowledge once resolved


def test_ack_link_is_signed_for_the_subscriber(renderer: Renderer) -> None:
    m, e = one(renderer, 0)
    [url] = [line.split("：", 1)[1] for line in m.text.splitlines() if line.startswith("确认告警")]
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith("http://notifier.test:8788/ack?")
    request = verify_ack(ACK_SECRET, params, T0)
    assert request is not None and (request.alert_id, request.by) == (e.alert_id, "zh-duty")
    assert verify_ack("another-secret", params, T0) is None
    assert verify_ack(ACK_SECRET, params | {"by": "mallory"}, T0) is None
    assert verify_ack(ACK_SECRET, params | {"exp": str(int(params["exp"]) + 1)}, T0) is None
    assert verify_ack(ACK_SECRET, params, int(params["exp"])) is None  # expired
    assert verify_ack(ACK_SECRET, {"alert": "x"}, T0) is None


def test_grafana_links() -> None:
    base = "http://g:3000/"
    assert grafana_link(base, event()).startswith(
        "http://g:3000/d/envmon-air-station?var-station=1356A&"
    )
    assert "/d/envmon-overview?" in grafana_link(base, event(scope="city"))
    assert "/d/envmon-overview?" in grafana_link(base, event(scope="district", station="futian"))
    assert grafana_link(base, None) == "http://g:3000/d/envmon-alerts"


def test_durations() -> None:
    assert duration_text(0, "zh") == "不足1分"
    assert duration_text(135 * 60_000, "zh") == "2小时15分"
    assert duration_text(26 * 3_600_000 + 60_000, "en") == "1d 2h"


def test_wecom_content_is_cut_to_4096_bytes() -> None:
    text = "\n".join(f"第 {i} 行：深圳河河口 氨氮 超标" for i in range(400))
    cut = fit(text)
    assert len(cut.encode()) <= 4096 and cut.endswith("\n…")
    assert text.startswith(cut[:-2])
    assert fit("短") == "短"
