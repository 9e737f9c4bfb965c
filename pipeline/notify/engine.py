"""The notifier's core: alert events -> deliveries in the outbox -> notifications on channels.

- :meth:`Engine.record`: an event becomes one pending delivery per subscriber who asked for it
  (filters), stored with the alert's latest state in one transaction — before the caller
  commits the event's offset.
- :meth:`Engine.plan`: adds repeat reminders; then, per subscriber, decides about each open
  delivery — held while a silence or an inhibiting alert mutes it (suppressed once the alert has
  resolved without the subscriber having been told), reminders suppressed once acknowledged or
  resolved — and composes the rest into one notification when the grouping window of the oldest
  has passed, outside quiet hours (critical alerts may pass them) and within the rate limit.
  A subscriber with a notification still being tried gets no second one (order is kept).
- :meth:`Engine.dispatch`: sends due notifications concurrently (a slow or failing receiver
  delays only its own subscriber); a failure is retried with exponential backoff until the
  attempts are used up, then the notification and its deliveries are ``failed``; hourly it
  prunes the outbox of what finished more than the retention ago.

Time comes from an injected clock, so tests move it by hand.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from pipeline.messages.notify import AlertAck
from pipeline.messages.results import AlertEvent
from pipeline.notify.channels import Channel, DeliveryError
from pipeline.notify.config import NotifierConfig
from pipeline.notify.matching import inhibitor, labels, wants
from pipeline.notify.metrics import NotifierMetrics
from pipeline.notify.outbox import AlertRow, Batch, Delivery, NewDelivery, Outbox
from pipeline.notify.render import Item, Notification, Renderer
from pipeline.notify.silences import SilenceBook
from pipeline.notify.subscriptions import QuietHours, Subscriber, Subscriptions
from pipeline.timeutil import Clock, system_clock

log = logging.getLogger(__name__)

PRUNE_EVERY_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class Verdict:
    reason: str
    suppress: bool  # False: hold (decide again later)


def in_quiet_hours(quiet: QuietHours, now_ms: int, tz: ZoneInfo) -> bool:
    local = datetime.fromtimestamp(now_ms / 1000, tz).time()
    if quiet.start < quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end  # spans midnight


def digest_key(keys: list[str]) -> str:
    return "digest-" + hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:32]


class Engine:
    def __init__(
        self,
        subscriptions: Subscriptions,
        outbox: Outbox,
        renderer: Renderer,
        channels: Mapping[str, Channel],
        silences: SilenceBook,
        metrics: NotifierMetrics,
        clock: Clock = system_clock,
        rng: Callable[[], float] = random.random,
        retention_s: float = NotifierConfig.retention_days * 86_400,
    ) -> None:
        self.subs = subscriptions
        self.outbox = outbox
        self.renderer = renderer
        self.channels = channels
        self.silences = silences
        self.metrics = metrics
        self.clock = clock
        self.rng = rng
        self.retention_ms = int(retention_s * 1000)
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._pruned_ms: int | None = None

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # --- input ---------------------------------------------------------------------------

    def record(self, events: list[AlertEvent]) -> int:
        """Store the events and their deliveries; how many deliveries were new."""
        new = [
            NewDelivery(event, sub.name, sub.channel_type)
            for event in events
            for sub in self.subs.subscribers
            if wants(sub, event)
        ]
        added = self.outbox.record(events, new, self.now_ms())
        self.metrics.events_read += len(events)
        self.metrics.deliveries_recorded += added
        return added

    def acknowledge(self, ack: AlertAck) -> None:
        for channel in self.outbox.acknowledge(ack.alert_id, ack.by, ack.note, ack.ack_ms):
            self.metrics.add("suppressed", channel)
        self.metrics.acks_read += 1

    # --- deciding ------------------------------------------------------------------------

    def plan(self) -> None:
        now = self.now_ms()
        active = self.outbox.active_alerts()
        self._remind(now, active)
        firing = [event for event, _ in active]
        for sub in self.subs.subscribers:
            if not self.outbox.busy(sub.name):
                self._plan(sub, now, firing)

    def _remind(self, now: int, active: list[tuple[AlertEvent, str | None]]) -> None:
        new = []
        for sub in self.subs.subscribers:
            if sub.repeat_every_s is None:
                continue
            for event, acked_by in active:
                if acked_by or event.state == "flapping" or not wants(sub, event, "firing"):
                    continue
                last = self.outbox.last_sent_ms(event.alert_id, sub.name)
                if last is None or now - last < sub.repeat_every_s * 1000:
                    continue
                if not self.outbox.has_open(event.alert_id, sub.name):
                    tid = f"{event.alert_id}:reminder:{last}"
                    new.append(NewDelivery(event, sub.name, sub.channel_type, "reminder", tid))
        if new:
            self.outbox.add(new, now)

    def _verdict(
        self, sub: Subscriber, d: Delivery, alert: AlertRow, firing: list[AlertEvent], now: int
    ) -> Verdict | None:
        if d.kind == "reminder" and (alert.acked_by or not alert.active):
            return Verdict("acknowledged" if alert.acked_by else "resolved", True)
        reason = None
        if silence := self.silences.muting(labels(d.event), now):
            reason = f"silenced:{silence.id}"
        elif source := inhibitor(d.event, firing, self.subs.inhibit_rules, sub.inhibit):
            reason = f"inhibited:{source}"
        told = None
        if d.event.state == "resolved":  # close what they were told about, and only that
            told = self.outbox.last_sent_ms(d.alert_id, sub.name) is not None
            if told:
                return None
            if reason is None and self.outbox.any_suppressed(d.alert_id, sub.name):
                reason = "never_notified"
            return None if reason is None else Verdict(reason, True)
        if reason is None:
            held_before = d.reason is not None and d.reason.startswith(("silenced", "inhibited"))
            return Verdict(d.reason, True) if held_before and not alert.active else None  # type: ignore[arg-type]
        return Verdict(reason, not alert.active)

    def _plan(self, sub: Subscriber, now: int, firing: list[AlertEvent]) -> None:
        ready: list[Delivery] = []
        for d in self.outbox.open_deliveries(sub.name):
            verdict = self._verdict(sub, d, self.outbox.alert(d.alert_id), firing, now)
            if verdict is None:
                ready.append(d)
            elif verdict.suppress:
                self.outbox.suppress([d.key], verdict.reason, now)
                self.metrics.add("suppressed", sub.channel_type)
            elif d.reason != verdict.reason:
                self.outbox.hold([d.key], verdict.reason)
        quiet = sub.quiet_hours
        if ready and quiet and in_quiet_hours(quiet, now, self.renderer.tz):
            passing = [d for d in ready if quiet.allow_critical and d.event.severity == "critical"]
            self._hold_unless(ready, passing, "quiet_hours")
            ready = passing
        if not ready or now < min(d.created_ms for d in ready) + sub.group_wait_s * 1000:
            return
        if (limit := sub.rate_limit) is not None:
            recent = self.outbox.notifications_since(sub.name, now - int(limit.per_s * 1000))
            if len(recent) >= limit.max:
                self._hold_unless(ready, [], "rate_limited")
                return
        keys = [d.key for d in ready]
        batch_id = keys[0] if len(keys) == 1 else digest_key(keys)
        self.outbox.compose(batch_id, sub.name, sub.channel_type, keys, now)

    def _hold_unless(self, ready: list[Delivery], passing: list[Delivery], reason: str) -> None:
        keep = {d.key for d in passing}
        self.outbox.hold([d.key for d in ready if d.key not in keep and d.reason != reason], reason)

    # --- sending -------------------------------------------------------------------------

    async def dispatch(self) -> None:
        """Plan, then start sending every due notification not already being sent (and,
        hourly, prune the outbox of what finished more than the retention ago)."""
        self._prune()
        self.plan()
        for batch in self.outbox.due(self.now_ms(), exclude=self._inflight):
            self._inflight[batch.id] = asyncio.create_task(self._send(batch))
        self.refresh_pending()

    async def settle(self) -> None:
        """Wait for the sends in flight."""
        while self._inflight:
            await asyncio.gather(*self._inflight.values(), return_exceptions=True)

    def refresh_pending(self) -> None:
        self.metrics.pending.clear()
        self.metrics.pending.update(self.outbox.pending_by_channel())

    def _prune(self) -> None:
        now = self.now_ms()
        if self._pruned_ms is not None and now - self._pruned_ms < PRUNE_EVERY_MS:
            return
        self._pruned_ms = now
        deliveries, batches, alerts = self.outbox.prune(now - self.retention_ms)
        if deliveries or batches or alerts:
            log.info(
                "outbox_pruned deliveries=%d notifications=%d alerts=%d older_than_days=%g",
                deliveries,
                batches,
                alerts,
                self.retention_ms / 86_400_000,
            )

    async def _send(self, batch: Batch) -> None:
        try:
            sub = self.subs.get(batch.subscriber)
            if sub is None:
                self._failed(batch, None, DeliveryError("subscriber no longer subscribed", False))
                return
            try:
                notification = self._notification(batch, sub)
                message = self.renderer.render(notification, self.now_ms())
                await self.channels[sub.name].send(message, notification)
            except DeliveryError as exc:
                self._failed(batch, sub, exc)
            except Exception as exc:  # a template or channel bug: keep the rest going
                log.exception("notification_error key=%s", batch.id)
                self._failed(batch, sub, DeliveryError(f"{type(exc).__name__}: {exc}", False))
            else:
                self.outbox.sent(batch.id, self.now_ms())
                self.metrics.add("delivered", batch.channel, len(batch.deliveries))
                log.info(
                    "notification_sent subscriber=%s key=%s deliveries=%d attempt=%d",
                    batch.subscriber,
                    batch.id,
                    len(batch.deliveries),
                    batch.attempts + 1,
                )
        finally:
            self._inflight.pop(batch.id, None)

    def _notification(self, batch: Batch, sub: Subscriber) -> Notification:
        items = tuple(
            Item(d.event, d.key, d.kind == "reminder", self.outbox.alert(d.alert_id).acked_by)
            for d in batch.deliveries
        )
        return Notification(batch.id, sub, items)

    def _failed(self, batch: Batch, sub: Subscriber | None, exc: DeliveryError) -> None:
        attempts = batch.attempts + 1
        policy = self.subs.delivery
        now = self.now_ms()
        if exc.retryable and attempts < policy.attempts:
            delay = policy.delay(attempts, self.rng())
            self.outbox.retry(batch.id, now + int(delay * 1000), str(exc))
            self.metrics.add("retried", batch.channel)
            log.warning(
                "notification_retry subscriber=%s key=%s attempt=%d in_s=%.1f error=%r",
                batch.subscriber,
                batch.id,
                attempts,
                delay,
                str(exc),
            )
            return
        self.outbox.failed(batch.id, now, str(exc))
        self.metrics.add("failed", batch.channel, len(batch.deliveries))
        log.error(
            "notification_failed subscriber=%s key=%s attempts=%d error=%r",
            batch.subscriber,
            batch.id,
            attempts,
            str(exc),
        )
