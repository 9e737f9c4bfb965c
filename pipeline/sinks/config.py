"""The sink's tunables and write retry policy, without its Kafka and InfluxDB imports (the CLI
reads the defaults at import time)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries per request; between them ``backoff`` s doubling up to ``backoff_max``
    with jitter, or the server's ``Retry-After`` (at most ``retry_after_max`` s)."""

    attempts: int = 3
    backoff: float = 0.2
    backoff_max: float = 5.0
    retry_after_max: float = 60.0

    def delay(self, failures: int, retry_after: float | None, rng: Callable[[], float]) -> float:
        """Seconds to wait after the ``failures``-th consecutive failure (1, 2, …)."""
        if retry_after is not None:
            return min(retry_after, self.retry_after_max)
        ceiling = min(self.backoff_max, self.backoff * 2 ** (failures - 1))
        return ceiling * (0.5 + rng() / 2)


@dataclass(frozen=True)
class SinkConfig:
    """How the sink batches, retries and reports (``envmon sink --help`` lists them)."""

    batch_points: int = 5000
    linger_s: float = 0.5
    write_timeout_s: float = 10.0
    gzip: bool = True
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 1_000
    report_interval_s: float = 10.0
    health_host: str = "127.0.0.1"
    health_port: int | None = 8787  # None: no endpoint
    stop_timeout_s: float = 10.0  # at exit or revocation, wait this long for a pending write
