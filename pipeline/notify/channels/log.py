"""The log channel: one structured log line per notification (for a log pipeline, or a dry run)."""

from __future__ import annotations

import logging

from pipeline.notify.render import Notification, Rendered
from pipeline.notify.subscriptions import LogConfig

log = logging.getLogger("pipeline.notify.log_channel")


class LogChannel:
    def __init__(self, config: LogConfig) -> None:
        self.level = logging.WARNING if config.level == "warning" else logging.INFO

    async def send(self, message: Rendered, notification: Notification) -> None:
        log.log(
            self.level,
            "notification subscriber=%s kind=%s key=%s alerts=%s title=%r",
            notification.subscriber.name,
            notification.kind,
            notification.key,
            ",".join(item.event.alert_id for item in notification.items),
            message.subject,
        )
