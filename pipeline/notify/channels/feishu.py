"""Feishu (飞书) custom bot: ``POST {webhook}`` with an interactive message card
``{"timestamp", "sign", "msg_type": "interactive", "card": {header, elements}}``: the header
coloured by level (``template`` red / orange / blue / green), the text as ``lark_md``, and a
button to Grafana.

签名校验 (open.feishu.cn, custom bot guide): ``timestamp`` is epoch seconds, ``sign`` = Base64
of HMAC-SHA256 keyed by ``{timestamp}\\n{secret}`` over an empty message; Feishu refuses a
timestamp more than an hour off (code 19021). The answer is ``{"code": 0}``; code 11232
(frequency limited) is retried.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import msgspec

from pipeline.notify.channels.http import HttpChannel, post_json, robot_answer
from pipeline.notify.render import Notification, Rendered

RETRY_CODES = frozenset({11232})
TEMPLATES = {"critical": "red", "warning": "orange", "info": "blue", "resolved": "green"}
BUTTON = {"zh": "在 Grafana 中查看", "en": "Open in Grafana"}


def sign(secret: str, timestamp_s: str) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def card(message: Rendered, notification: Notification) -> dict[str, Any]:
    url = message.alerts[0].grafana_url if len(message.alerts) == 1 else None
    elements: list[dict[str, Any]] = [
        {"tag": "div", "text": {"tag": "lark_md", "content": message.markdown("feishu")}}
    ]
    if url:
        label = BUTTON[notification.subscriber.language]
        button = {"tag": "button", "text": {"tag": "plain_text", "content": label}}
        elements.append({"tag": "action", "actions": [button | {"type": "primary", "url": url}]})
    return {
        "config": {"wide_screen_mode": True},
        "header": {
            "template": TEMPLATES[message.colour_key],
            "title": {"tag": "plain_text", "content": message.title},
        },
        "elements": elements,
    }


class Feishu(HttpChannel):
    async def send(self, message: Rendered, notification: Notification) -> None:
        body: dict[str, Any] = {"msg_type": "interactive", "card": card(message, notification)}
        if self.secret:
            timestamp = str(int(time.time()))
            body = {"timestamp": timestamp, "sign": sign(self.secret, timestamp)} | body
        answer = await post_json(self.session, self.url, msgspec.json.encode(body), self.timeout)
        robot_answer(answer, "code", RETRY_CODES)
