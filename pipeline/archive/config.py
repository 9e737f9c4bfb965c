"""The archiver's tunables, without its Kafka imports (the CLI reads the defaults at import
time)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArchiveConfig:
    flush_s: float = 5.0
    flush_records: int = 50_000
    idle_close_s: float = 300.0
    session_timeout_ms: int = 10_000
