"""The notifier's tunables and outbox path, without its heavy imports (the CLI reads the
defaults at import time)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.settings import Settings


def outbox_path(settings: Settings) -> Path:
    return settings.notifier_outbox or settings.state_dir / f"notifier-{settings.namespace}.sqlite"


@dataclass(frozen=True)
class NotifierConfig:
    tick_s: float = 0.5
    max_records: int = 500
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 1_000
    report_interval_s: float = 10.0
    web_host: str = "127.0.0.1"
    web_port: int | None = 8788  # None: no endpoint
    stop_timeout_s: float = 10.0
    retention_days: float = 30.0  # finished deliveries kept (dedup memory, `notify status`)
