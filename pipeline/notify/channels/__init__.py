"""Channels: one module per way of delivering a notification, behind one protocol.

``await channel.send(message, notification)`` returns when the receiver took the message and
raises :class:`DeliveryError` otherwise (``retryable`` says whether trying again may help).
"""

from __future__ import annotations

from typing import Protocol

import aiohttp

from pipeline.notify.render import Notification, Rendered
from pipeline.notify.subscriptions import (
    DingTalkConfig,
    EmailConfig,
    FeishuConfig,
    LogConfig,
    Subscriber,
    WebhookConfig,
    WeComConfig,
)


class DeliveryError(Exception):
    """The receiver did not take the message; ``retryable``: a later try may succeed."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Channel(Protocol):
    async def send(self, message: Rendered, notification: Notification) -> None: ...


def open_channel(subscriber: Subscriber, session: aiohttp.ClientSession) -> Channel:
    """The channel of ``subscriber`` (HTTP channels share ``session``)."""
    from pipeline.notify.channels import dingtalk, email, feishu, log, webhook, wecom

    config = subscriber.channel
    secrets = subscriber.secrets
    if isinstance(config, WebhookConfig):
        return webhook.Webhook(config, secrets, session)
    if isinstance(config, EmailConfig):
        return email.Email(config, secrets)
    if isinstance(config, WeComConfig):
        return wecom.WeCom(config, secrets, session)
    if isinstance(config, DingTalkConfig):
        return dingtalk.DingTalk(config, secrets, session)
    if isinstance(config, FeishuConfig):
        return feishu.Feishu(config, secrets, session)
    assert isinstance(config, LogConfig)
    return log.LogChannel(config)
