"""WeCom (企业微信) group robot: ``POST {webhook}`` (the URL carries the robot's ``key``) with
``{"msgtype": "markdown", "markdown": {"content": …}}``; the answer is ``{"errcode": 0,
"errmsg": "ok"}`` (developer.work.weixin.qq.com/document/path/91770). The content is at most
4096 bytes of UTF-8: longer digests are cut at a line. errcode 45009 (too many messages: a robot
takes 20 a minute) is retried."""

from __future__ import annotations

import msgspec

from pipeline.notify.channels.http import HttpChannel, post_json, robot_answer
from pipeline.notify.render import Notification, Rendered

MAX_BYTES = 4096
RETRY_CODES = frozenset({45009})


def fit(text: str, limit: int = MAX_BYTES) -> str:
    """``text`` cut at a line boundary to at most ``limit`` UTF-8 bytes (with an ellipsis)."""
    if len(text.encode()) <= limit:
        return text
    kept: list[str] = []
    size = len("\n…".encode())
    for line in text.splitlines():
        size += len(line.encode()) + 1
        if size > limit:
            break
        kept.append(line)
    return "\n".join(kept) + "\n…"


class WeCom(HttpChannel):
    async def send(self, message: Rendered, notification: Notification) -> None:
        body = {"msgtype": "markdown", "markdown": {"content": fit(message.markdown("wecom"))}}
        answer = await post_json(self.session, self.url, msgspec.json.encode(body), self.timeout)
        robot_answer(answer, "errcode", RETRY_CODES)
