"""Messages of the notifier's side topics (``"v": 1``): acknowledgements and silences.

- :class:`AlertAck` on ``{ns}.alert-acks``, keyed by ``alert_id``: someone took an alert on
  (``envmon alerts ack`` or the signed link in a notification). Repeat reminders stop; the sink
  writes it as the ``alert_ack`` measurement.
- :class:`Silence` on the compacted ``{ns}.silences``, keyed by ``id``: alerts whose labels match
  every matcher are muted from ``starts_ms`` until ``ends_ms``; the latest record per id wins.
"""

from __future__ import annotations

from typing import Literal

import msgspec

SILENCE_LABELS = (
    "alert_id",
    "rule",
    "severity",
    "scope",
    "subject",
    "station",
    "district",
    "river",
)
"""The labels a silence or an inhibition rule may match on (see ``pipeline.notify.matching``)."""


class AlertAck(msgspec.Struct, frozen=True, kw_only=True):
    v: int = 1
    alert_id: str
    by: str
    note: str = ""
    ack_ms: int
    source: Literal["cli", "link"] = "cli"
    rule: str | None = None  # filled when the sender knows the alert
    severity: str | None = None


class Silence(msgspec.Struct, frozen=True, kw_only=True):
    v: int = 1
    id: str
    matchers: dict[str, str]  # label -> value, all must be equal
    starts_ms: int
    ends_ms: int
    reason: str
    created_by: str
    created_ms: int

    def active(self, now_ms: int) -> bool:
        return self.starts_ms <= now_ms < self.ends_ms
