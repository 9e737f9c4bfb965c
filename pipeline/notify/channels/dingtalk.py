"""DingTalk (钉钉) custom robot: ``POST {webhook}&timestamp=…&sign=…`` with
``{"msgtype": "markdown", "markdown": {"title", "text"}, "at": {"atMobiles", "isAtAll"}}``.

加签 (open.dingtalk.com, custom robot security settings): ``timestamp`` is epoch milliseconds,
``sign`` = URL-encoded Base64 of HMAC-SHA256 keyed by the secret over ``{timestamp}\\n{secret}``;
DingTalk refuses a timestamp more than an hour off. The answer is ``{"errcode": 0}``; errcode
130101 (sending too fast: 20 a minute) is retried, 310000 (signature, keyword or IP refused) is
not. A mobile is @-mentioned only when the text names it too, so the text ends with them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from urllib.parse import quote_plus

import aiohttp
import msgspec

from pipeline.notify.channels.http import HttpChannel, post_json, robot_answer
from pipeline.notify.render import Notification, Rendered
from pipeline.notify.subscriptions import DingTalkConfig

RETRY_CODES = frozenset({130101})


def sign(secret: str, timestamp_ms: str) -> str:
    """The ``sign`` query value (already URL-encoded)."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


class DingTalk(HttpChannel):
    def __init__(
        self, config: DingTalkConfig, secrets: Mapping[str, str], session: aiohttp.ClientSession
    ) -> None:
        super().__init__(config, secrets, session)
        self.at_mobiles = list(config.at_mobiles)

    def signed_url(self, now_s: float) -> str:
        if not self.secret:
            return self.url
        timestamp = str(int(now_s * 1000))
        joiner = "&" if "?" in self.url else "?"
        return f"{self.url}{joiner}timestamp={timestamp}&sign={sign(self.secret, timestamp)}"

    async def send(self, message: Rendered, notification: Notification) -> None:
        text = message.markdown("dingtalk")
        if self.at_mobiles:
            text += "\n\n" + " ".join(f"@{m}" for m in self.at_mobiles)
        body = {
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": text},
            "at": {"atMobiles": self.at_mobiles, "isAtAll": False},
        }
        url = self.signed_url(time.time())
        answer = await post_json(self.session, url, msgspec.json.encode(body), self.timeout)
        robot_answer(answer, "errcode", RETRY_CODES)
