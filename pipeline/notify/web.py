"""The notifier's small HTTP endpoint: ``GET /health`` (JSON), ``GET /metrics`` (Prometheus text)
and the acknowledge link.

``GET /ack?alert=…&by=…&exp=…&sig=…`` answers a page with a button; only its ``POST /ack`` (same
parameters, plus an optional ``note``) publishes the acknowledgement — link previews and mail
scanners fetch links with GET, and must not acknowledge anything. A wrong signature or an
expired link answers 403 and publishes nothing.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from pipeline.messages.notify import AlertAck
from pipeline.notify.links import AckRequest, verify_ack
from pipeline.notify.metrics import NotifierMetrics
from pipeline.notify.outbox import Outbox
from pipeline.timeutil import Clock

log = logging.getLogger(__name__)

_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>envmon</title></head>
<body style="font-family: sans-serif">{body}</body></html>"""


@dataclass(frozen=True)
class AckService:
    secret: str
    publish: Callable[[AlertAck], Awaitable[None]]
    outbox: Outbox
    clock: Clock


def _page(body: str, status: int = 200) -> web.Response:
    return web.Response(text=_PAGE.format(body=body), status=status, content_type="text/html")


def _refused() -> web.Response:
    return _page("<p>链接无效或已过期 / This link is invalid or has expired.</p>", 403)


def make_app(metrics: NotifierMetrics, acks: AckService | None) -> web.Application:
    async def health(request: web.Request) -> web.Response:
        return web.json_response(metrics.health())

    async def prometheus(request: web.Request) -> web.Response:
        return web.Response(text=metrics.prometheus(), content_type="text/plain", charset="utf-8")

    def verified(params: dict[str, str]) -> AckRequest | None:
        assert acks is not None
        return verify_ack(acks.secret, params, acks.clock())

    async def ack_page(request: web.Request) -> web.Response:
        params = dict(request.query)
        if verified(params) is None:
            return _refused()
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(params[k])}">'
            for k in ("alert", "by", "exp", "sig")
        )
        alert, by = html.escape(params["alert"]), html.escape(params["by"])
        return _page(
            f"<p>确认告警 / Acknowledge alert <b>{alert}</b> as <b>{by}</b></p>"
            f'<form method="post" action="ack">{hidden}'
            '<p><input name="note" placeholder="备注 / note" size="40"></p>'
            '<button type="submit">确认 / Acknowledge</button></form>'
        )

    async def ack_post(request: web.Request) -> web.Response:
        assert acks is not None
        form = {k: str(v) for k, v in (await request.post()).items()}
        request_ = verified(form)
        if request_ is None:
            log.warning("ack_refused remote=%s", request.remote)
            return _refused()
        event = acks.outbox.alert(request_.alert_id).event
        ack = AlertAck(
            alert_id=request_.alert_id,
            by=request_.by,
            note=form.get("note", "")[:500],
            ack_ms=int(acks.clock() * 1000),
            source="link",
            rule=event.rule if event else None,
            severity=event.severity if event else None,
        )
        await acks.publish(ack)
        log.info("ack_published alert_id=%s by=%s source=link", ack.alert_id, ack.by)
        return _page(f"<p>已确认 / Acknowledged: <b>{html.escape(ack.alert_id)}</b></p>")

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", prometheus)
    if acks is not None:
        app.router.add_get("/ack", ack_page)
        app.router.add_post("/ack", ack_post)
    return app
