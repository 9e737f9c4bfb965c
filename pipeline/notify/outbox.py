"""The notifier's persistent outbox (SQLite): alerts, deliveries and the notifications that carry
them.

- ``deliveries``: one row per (alert transition, subscriber), primary key the delivery key
  ``{transition_id}|{subscriber}``; a repeat reminder's transition id is
  ``{alert_id}:reminder:{last sent ms}``. Inserting a key that exists does nothing, so an event
  read twice (a restart before the offset commit) is never delivered twice. States: ``pending``,
  ``sent``, ``failed``, ``suppressed`` (silenced or inhibited and resolved meanwhile, a reminder
  after an acknowledgement); ``reason`` says why one is held or suppressed.
- ``batches``: a notification: the pending deliveries composed into one message for one
  subscriber. Its id is the idempotency key sent with it (the delivery key for a single alert),
  fixed before the first try, so a retry or a send after a crash carries the same key.
  States ``pending`` (with ``due_ms`` and ``attempts``), ``sent``, ``failed``.
- ``alerts``: the latest event of each alert and its acknowledgement.

:meth:`Outbox.prune` deletes what is done and old (the notifier calls it hourly with its
retention): finished deliveries of alerts no longer active, notifications left without
deliveries, resolved alerts left without deliveries. Deleted rows' pages are reused, so the
file stops growing. What it forgets: a transition read again after the retention (a consumer
group reset to older offsets) is delivered again.

WAL journal: a committed transaction survives the process being killed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec

from pipeline.messages.results import AlertEvent

ACTIVE_STATES = ("firing", "escalated", "flapping")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    alert_id TEXT PRIMARY KEY,
    event BLOB,
    state TEXT,
    event_ms INTEGER,
    acked_by TEXT,
    acked_ms INTEGER,
    ack_note TEXT
);
CREATE TABLE IF NOT EXISTS deliveries (
    key TEXT PRIMARY KEY,
    transition_id TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    subscriber TEXT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    event BLOB NOT NULL,
    state TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    batch TEXT,
    reason TEXT,
    done_ms INTEGER
);
CREATE INDEX IF NOT EXISTS deliveries_open ON deliveries (subscriber, state, batch);
CREATE INDEX IF NOT EXISTS deliveries_alert ON deliveries (alert_id, subscriber, state);
CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries (state, channel);
CREATE INDEX IF NOT EXISTS deliveries_batch ON deliveries (batch);
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY,
    subscriber TEXT NOT NULL,
    channel TEXT NOT NULL,
    state TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    due_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    done_ms INTEGER
);
CREATE INDEX IF NOT EXISTS batches_open ON batches (state, due_ms);
"""

_decode = msgspec.json.Decoder(AlertEvent).decode
_encode = msgspec.json.encode


@dataclass(frozen=True, slots=True)
class Delivery:
    key: str
    alert_id: str
    subscriber: str
    kind: str  # alert | reminder
    event: AlertEvent
    created_ms: int
    reason: str | None


@dataclass(frozen=True, slots=True)
class AlertRow:
    event: AlertEvent | None
    acked_by: str | None

    @property
    def active(self) -> bool:
        return self.event is not None and self.event.state in ACTIVE_STATES


@dataclass(frozen=True, slots=True)
class Batch:
    id: str
    subscriber: str
    channel: str
    attempts: int
    deliveries: tuple[Delivery, ...]


@dataclass(frozen=True, slots=True)
class NewDelivery:
    event: AlertEvent
    subscriber: str
    channel: str
    kind: str = "alert"
    transition_id: str | None = None  # default: the event's

    @property
    def key(self) -> str:
        return f"{self.transition_id or self.event.transition_id}|{self.subscriber}"


class Outbox:
    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    # --- recording ---------------------------------------------------------------------------

    def record(
        self, events: Sequence[AlertEvent], deliveries: Iterable[NewDelivery], now_ms: int
    ) -> int:
        """In one transaction: the alerts' latest events and the new deliveries (existing keys
        are kept as they are). Returns how many deliveries were new."""
        with self._transaction():
            for event in events:
                self._remember(event)
            return self._insert(deliveries, now_ms)

    def _remember(self, event: AlertEvent) -> None:
        self.db.execute(
            "INSERT INTO alerts (alert_id, event, state, event_ms) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (alert_id) DO UPDATE SET event = excluded.event, state = excluded.state, "
            "event_ms = excluded.event_ms "
            "WHERE alerts.event_ms IS NULL OR excluded.event_ms >= alerts.event_ms",
            (event.alert_id, _encode(event), event.state, event.event_ms),
        )

    def _insert(self, deliveries: Iterable[NewDelivery], now_ms: int) -> int:
        before = self.db.total_changes
        self.db.executemany(
            "INSERT OR IGNORE INTO deliveries (key, transition_id, alert_id, subscriber, channel, "
            "kind, event, state, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
            [
                (
                    d.key,
                    d.transition_id or d.event.transition_id,
                    d.event.alert_id,
                    d.subscriber,
                    d.channel,
                    d.kind,
                    _encode(d.event),
                    now_ms,
                )
                for d in deliveries
            ],
        )
        return self.db.total_changes - before

    def add(self, deliveries: Iterable[NewDelivery], now_ms: int) -> int:
        with self._transaction():
            return self._insert(deliveries, now_ms)

    def acknowledge(self, alert_id: str, by: str, note: str, ack_ms: int) -> list[str]:
        """Record an acknowledgement (the first one counts); suppress the alert's pending
        reminders. Returns the channel of each reminder suppressed."""
        with self._transaction():
            self.db.execute(
                "INSERT INTO alerts (alert_id, acked_by, acked_ms, ack_note) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (alert_id) DO UPDATE SET acked_by = excluded.acked_by, "
                "acked_ms = excluded.acked_ms, ack_note = excluded.ack_note "
                "WHERE alerts.acked_by IS NULL",
                (alert_id, by, ack_ms, note),
            )
            cursor = self.db.execute(
                "UPDATE deliveries SET state = 'suppressed', reason = 'acknowledged', done_ms = ? "
                "WHERE alert_id = ? AND kind = 'reminder' AND state = 'pending' AND batch IS NULL "
                "RETURNING channel",
                (ack_ms, alert_id),
            )
            return [row[0] for row in cursor.fetchall()]

    # --- reading -----------------------------------------------------------------------------

    def alert(self, alert_id: str) -> AlertRow:
        row = self.db.execute(
            "SELECT event, acked_by FROM alerts WHERE alert_id = ?", (alert_id,)
        ).fetchone()
        if row is None:
            return AlertRow(None, None)
        return AlertRow(_decode(row[0]) if row[0] else None, row[1])

    def active_alerts(self) -> list[tuple[AlertEvent, str | None]]:
        """Alerts firing now (escalated and flapping included), with who acknowledged them."""
        marks = ",".join("?" * len(ACTIVE_STATES))
        rows = self.db.execute(
            f"SELECT event, acked_by FROM alerts WHERE state IN ({marks}) ORDER BY event_ms",
            ACTIVE_STATES,
        )
        return [(_decode(event), by) for event, by in rows]

    def open_deliveries(self, subscriber: str) -> list[Delivery]:
        """Pending deliveries of ``subscriber`` not yet in a notification, oldest first."""
        rows = self.db.execute(
            "SELECT key, alert_id, subscriber, kind, event, created_ms, reason FROM deliveries "
            "WHERE subscriber = ? AND state = 'pending' AND batch IS NULL "
            "ORDER BY created_ms, key",
            (subscriber,),
        )
        return [_delivery(row) for row in rows]

    def last_sent_ms(self, alert_id: str, subscriber: str) -> int | None:
        row = self.db.execute(
            "SELECT max(done_ms) FROM deliveries "
            "WHERE alert_id = ? AND subscriber = ? AND state = 'sent'",
            (alert_id, subscriber),
        ).fetchone()
        return row[0]

    def any_suppressed(self, alert_id: str, subscriber: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM deliveries "
            "WHERE alert_id = ? AND subscriber = ? AND state = 'suppressed'",
            (alert_id, subscriber),
        ).fetchone()
        return row is not None

    def has_open(self, alert_id: str, subscriber: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM deliveries WHERE alert_id = ? AND subscriber = ? AND state = 'pending'",
            (alert_id, subscriber),
        ).fetchone()
        return row is not None

    def notifications_since(self, subscriber: str, since_ms: int) -> list[int]:
        """Creation times of the notifications made for ``subscriber`` since ``since_ms``."""
        rows = self.db.execute(
            "SELECT created_ms FROM batches WHERE subscriber = ? AND created_ms > ? "
            "AND state != 'failed' ORDER BY created_ms",
            (subscriber, since_ms),
        )
        return [r[0] for r in rows]

    def busy(self, subscriber: str) -> bool:
        """A notification of ``subscriber`` is still being tried."""
        row = self.db.execute(
            "SELECT 1 FROM batches WHERE subscriber = ? AND state = 'pending'", (subscriber,)
        ).fetchone()
        return row is not None

    # --- held, suppressed, composed ----------------------------------------------------------

    def hold(self, keys: Sequence[str], reason: str | None) -> None:
        self.db.executemany(
            "UPDATE deliveries SET reason = ? WHERE key = ? AND state = 'pending'",
            [(reason, key) for key in keys],
        )

    def suppress(self, keys: Sequence[str], reason: str, now_ms: int) -> None:
        self.db.executemany(
            "UPDATE deliveries SET state = 'suppressed', reason = ?, done_ms = ? "
            "WHERE key = ? AND state = 'pending'",
            [(reason, now_ms, key) for key in keys],
        )

    def compose(
        self, batch_id: str, subscriber: str, channel: str, keys: Sequence[str], now_ms: int
    ) -> None:
        """Fix the deliveries ``keys`` into notification ``batch_id``, due now."""
        with self._transaction():
            self.db.execute(
                "INSERT INTO batches (id, subscriber, channel, state, created_ms, due_ms) "
                "VALUES (?, ?, ?, 'pending', ?, ?)",
                (batch_id, subscriber, channel, now_ms, now_ms),
            )
            self.db.executemany(
                "UPDATE deliveries SET batch = ?, reason = NULL WHERE key = ?",
                [(batch_id, key) for key in keys],
            )

    def due(self, now_ms: int, exclude: Iterable[str] = ()) -> list[Batch]:
        skip = set(exclude)
        rows = self.db.execute(
            "SELECT id, subscriber, channel, attempts FROM batches "
            "WHERE state = 'pending' AND due_ms <= ? ORDER BY due_ms",
            (now_ms,),
        ).fetchall()
        batches = []
        for batch_id, subscriber, channel, attempts in rows:
            if batch_id in skip:
                continue
            members = self.db.execute(
                "SELECT key, alert_id, subscriber, kind, event, created_ms, reason "
                "FROM deliveries WHERE batch = ? ORDER BY created_ms, key",
                (batch_id,),
            )
            deliveries = tuple(_delivery(row) for row in members)
            batches.append(Batch(batch_id, subscriber, channel, attempts, deliveries))
        return batches

    def sent(self, batch_id: str, now_ms: int) -> None:
        self._finish(batch_id, "sent", now_ms, None)

    def failed(self, batch_id: str, now_ms: int, error: str) -> None:
        self._finish(batch_id, "failed", now_ms, error)

    def retry(self, batch_id: str, due_ms: int, error: str) -> None:
        self.db.execute(
            "UPDATE batches SET attempts = attempts + 1, due_ms = ?, last_error = ? WHERE id = ?",
            (due_ms, error, batch_id),
        )

    def _finish(self, batch_id: str, state: str, now_ms: int, error: str | None) -> None:
        with self._transaction():
            self.db.execute(
                "UPDATE batches SET state = ?, attempts = attempts + 1, done_ms = ?, "
                "last_error = coalesce(?, last_error) WHERE id = ?",
                (state, now_ms, error, batch_id),
            )
            self.db.execute(
                "UPDATE deliveries SET state = ?, done_ms = ?, reason = ? WHERE batch = ?",
                (state, now_ms, error, batch_id),
            )

    # --- status --------------------------------------------------------------------------------

    def pending_by_channel(self) -> dict[str, int]:
        """Pending deliveries per channel (an index lookup: asked every dispatch)."""
        rows = self.db.execute(
            "SELECT channel, count(*) FROM deliveries WHERE state = 'pending' GROUP BY channel"
        )
        return dict(rows.fetchall())

    def prune(self, before_ms: int) -> tuple[int, int, int]:
        """Delete what finished before ``before_ms`` (see the module docstring); the numbers of
        deliveries, notifications and alerts deleted."""
        active = ", ".join(f"'{state}'" for state in ACTIVE_STATES)
        with self._transaction():
            deliveries = self.db.execute(
                "DELETE FROM deliveries WHERE state != 'pending' AND done_ms < ? AND alert_id "
                f"NOT IN (SELECT alert_id FROM alerts WHERE state IN ({active}))",
                (before_ms,),
            ).rowcount
            batches = self.db.execute(
                "DELETE FROM batches WHERE state != 'pending' AND done_ms < ? "
                "AND NOT EXISTS (SELECT 1 FROM deliveries WHERE batch = batches.id)",
                (before_ms,),
            ).rowcount
            alerts = self.db.execute(
                f"DELETE FROM alerts WHERE state NOT IN ({active}) AND event_ms < ? "
                "AND NOT EXISTS (SELECT 1 FROM deliveries WHERE alert_id = alerts.alert_id)",
                (before_ms,),
            ).rowcount
        return deliveries, batches, alerts

    def counts(self) -> dict[tuple[str, str], int]:
        """Deliveries by (channel, state)."""
        rows = self.db.execute(
            "SELECT channel, state, count(*) FROM deliveries GROUP BY channel, state"
        )
        return {(channel, state): n for channel, state, n in rows}

    def problems(self, limit: int = 20) -> list[tuple[str, str, str, int, str | None]]:
        """Notifications failed or being retried: (id, subscriber, state, attempts, last error)."""
        rows = self.db.execute(
            "SELECT id, subscriber, state, attempts, last_error FROM batches "
            "WHERE state = 'failed' OR (state = 'pending' AND attempts > 0) "
            "ORDER BY created_ms DESC LIMIT ?",
            (limit,),
        )
        return list(rows)

    def held(self) -> list[tuple[str, str, str]]:
        """Deliveries held back now: (key, subscriber, reason)."""
        rows = self.db.execute(
            "SELECT key, subscriber, reason FROM deliveries "
            "WHERE state = 'pending' AND batch IS NULL AND reason IS NOT NULL ORDER BY created_ms"
        )
        return list(rows)

    def _transaction(self) -> _Transaction:
        return _Transaction(self.db)


class _Transaction:
    """``with``: BEGIN IMMEDIATE … COMMIT, or ROLLBACK on an exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def _delivery(row: tuple) -> Delivery:  # type: ignore[type-arg]
    key, alert_id, subscriber, kind, event, created_ms, reason = row
    return Delivery(key, alert_id, subscriber, kind, _decode(event), created_ms, reason)
