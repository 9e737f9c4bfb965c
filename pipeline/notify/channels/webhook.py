"""Generic webhook: the notification as JSON, signed, with an idempotency key.

Headers:

- ``Idempotency-Key``: the notification key (the delivery key ``{transition_id}|{subscriber}``
  for one alert), the same on every retry, so a receiver can drop the rare duplicate a crash in
  mid-send leaves.
- ``X-Envmon-Timestamp``: epoch seconds of this try.
- ``X-Envmon-Signature``: ``sha256=`` + hex HMAC-SHA256 (RFC 2104) under the subscriber's
  secret of ``{timestamp}.{body}``; a receiver recomputes it over the raw body, compares in
  constant time and refuses old timestamps (replay).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import msgspec

from pipeline.notify.channels.http import HttpChannel, post_json
from pipeline.notify.render import Notification, Rendered


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def payload(message: Rendered, notification: Notification) -> dict[str, Any]:
    sub = notification.subscriber
    return {
        "v": 1,
        "kind": notification.kind,
        "key": notification.key,
        "subscriber": sub.name,
        "language": sub.language,
        "title": message.subject,
        "text": message.text,
        "alerts": [
            {
                "delivery_key": item.delivery_key,
                "alert_id": item.event.alert_id,
                "transition_id": item.event.transition_id,
                "rule": item.event.rule,
                "state": item.event.state,
                "severity": item.event.severity,
                "reminder": item.reminder,
                "level": view.level_label,
                "colour": view.colour,
                "value": item.event.value,
                "threshold": item.event.threshold,
                "subject": msgspec.to_builtins(item.event.subject),
                "name": view.name,
                "place": view.place,
                "message": view.message,
                "started_ms": item.event.started_ms,
                "ended_ms": item.event.ended_ms,
                "event_ms": item.event.event_ms,
                "duration": view.duration,
                "grafana_url": view.grafana_url,
                "ack_url": view.ack_url,
            }
            for item, view in zip(notification.items, message.alerts, strict=True)
        ],
    }


class Webhook(HttpChannel):
    async def send(self, message: Rendered, notification: Notification) -> None:
        body = msgspec.json.encode(payload(message, notification))
        timestamp = str(int(time.time()))
        headers = {"Idempotency-Key": notification.key, "X-Envmon-Timestamp": timestamp}
        if self.secret:
            headers["X-Envmon-Signature"] = signature(self.secret, timestamp, body)
        await post_json(self.session, self.url, body, self.timeout, headers)
