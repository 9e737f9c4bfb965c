"""The notifier's decisions on a manual clock: once per (transition, subscriber), severity
filters, quiet hours, digests, reminders and their end on acknowledgement, rate limits,
silences, inhibition and retries."""

from __future__ import annotations

from pipeline.messages.notify import AlertAck, Silence
from tests.unit.notify.conftest import T0, Harness, HarnessFactory, event

DAY_MS = 86_400_000

ONE = """
subscribers:
  - name: duty
    channel: {type: log}
"""


async def test_each_transition_once_per_subscriber(harness: HarnessFactory) -> None:
    h = harness(ONE + "  - name: second\n    channel: {type: log}\n")
    fired = event()
    assert h.engine.record([fired]) == 2
    assert h.engine.record([fired]) == 0  # read again after a restart: nothing new
    await h.run()
    await h.advance(60)
    assert h.receivers["duty"].keys == [f"{fired.transition_id}|duty"]
    assert h.receivers["second"].keys == [f"{fired.transition_id}|second"]
    assert h.receivers["duty"].got[0][1].key == f"{fired.transition_id}|duty"  # idempotency key
    assert h.engine.metrics.get("delivered") == 2


async def test_severity_and_state_filters(harness: HarnessFactory) -> None:
    h = harness("""
subscribers:
  - name: critical-only
    channel: {type: log}
    filters: {min_severity: critical, states: [firing, escalated]}
""")
    warning, critical = event(severity="warning"), event(station="1357A", severity="critical")
    resolved = event("resolved", station="1357A", severity="critical", at=T0 + 60, started=T0)
    h.engine.record([warning, critical, resolved])
    await h.run()
    assert h.receivers["critical-only"].keys == [f"{critical.transition_id}|critical-only"]


QUIET = """
subscribers:
  - name: night
    channel: {type: log}
    quiet_hours: {start: "22:00", end: "07:00", allow_critical: %s}
"""
NIGHT = T0 + 13.5 * 3600  # 23:30 local


async def test_quiet_hours_hold_until_they_end(harness: HarnessFactory) -> None:
    h = harness(QUIET % "true", start=NIGHT)
    warning = event(at=NIGHT, started=NIGHT)
    critical = event(station="1357A", severity="critical", at=NIGHT, started=NIGHT)
    h.engine.record([warning, critical])
    await h.run()
    assert h.receivers["night"].keys == [f"{critical.transition_id}|night"]  # critical passes
    assert h.outbox.held() == [(f"{warning.transition_id}|night", "night", "quiet_hours")]
    await h.advance(7 * 3600 + 29 * 60, step=600)  # 06:59
    assert len(h.receivers["night"].got) == 1
    await h.advance(120, step=60)  # 07:01
    assert h.receivers["night"].keys[-1] == f"{warning.transition_id}|night"


async def test_quiet_hours_hold_critical_too_unless_allowed(harness: HarnessFactory) -> None:
    h = harness(QUIET % "false", start=NIGHT)
    h.engine.record([event(severity="critical", at=NIGHT, started=NIGHT)])
    await h.run()
    assert h.receivers["night"].got == []


async def test_grouping_window_makes_one_digest(harness: HarnessFactory) -> None:
    h = harness(ONE + "    group_wait: 60s\n")
    first = event()
    h.engine.record([first])
    await h.advance(30)
    h.engine.record([event(station="1357A", at=T0 + 30), event(station="1358A", at=T0 + 30)])
    await h.advance(29)
    assert h.receivers["duty"].got == []  # 59 s after the first
    await h.advance(1)
    [(message, notification)] = h.receivers["duty"].got
    assert notification.kind == "digest" and len(notification.items) == 3
    assert notification.key.startswith("digest-")
    assert message.subject == "【警告】3 条环境告警"


REMIND = ONE + "    repeat_every: 1h\n"


async def test_reminders_repeat_until_acknowledged(harness: HarnessFactory) -> None:
    h = harness(REMIND)
    fired = event()
    h.engine.record([fired])
    await h.run()
    await h.advance(3599, step=600)
    assert len(h.receivers["duty"].got) == 1
    await h.advance(1)
    await h.run()
    assert len(h.receivers["duty"].got) == 2
    reminder = h.receivers["duty"].got[1][1]
    assert reminder.kind == "reminder" and reminder.items[0].reminder
    assert "重复提醒" in h.receivers["duty"].got[1][0].subject
    await h.advance(3600, step=600)
    assert len(h.receivers["duty"].got) == 3
    h.engine.acknowledge(AlertAck(alert_id=fired.alert_id, by="王工", ack_ms=int(h.clock() * 1000)))
    await h.advance(5 * 3600, step=600)
    assert len(h.receivers["duty"].got) == 3  # no reminder after the acknowledgement


async def test_acknowledgement_drops_a_waiting_reminder(harness: HarnessFactory) -> None:
    h = harness(REMIND + "    quiet_hours: {start: '11:00', end: '12:00'}\n")
    fired = event()
    h.engine.record([fired])
    await h.run()
    await h.advance(3600, step=600)  # 11:00: the reminder is due but quiet hours hold it
    assert len(h.receivers["duty"].got) == 1
    h.engine.acknowledge(AlertAck(alert_id=fired.alert_id, by="ops", ack_ms=0))
    await h.advance(3600, step=600)
    assert len(h.receivers["duty"].got) == 1
    assert h.engine.metrics.get("suppressed") == 1


async def test_reminders_stop_when_resolved(harness: HarnessFactory) -> None:
    h = harness(REMIND)
    h.engine.record([event()])
    await h.run()
    h.engine.record([event("resolved", at=T0 + 600, started=T0)])
    await h.advance(3 * 3600, step=600)
    assert [n.items[0].event.state for _, n in h.receivers["duty"].got] == ["firing", "resolved"]


async def test_rate_limit_holds_then_sends_a_digest(harness: HarnessFactory) -> None:
    h = harness(ONE + "    rate_limit: {max: 2, per: 1h}\n")
    stations = ["1356A", "1357A", "1358A", "1359A"]
    for i, station in enumerate(stations):
        h.engine.record([event(station=station, at=T0 + i * 60)])
        await h.advance(60, step=60)
    assert len(h.receivers["duty"].got) == 2
    assert {reason for _, _, reason in h.outbox.held()} == {"rate_limited"}
    await h.advance(3600, step=300)
    assert len(h.receivers["duty"].got) == 3
    assert len(h.receivers["duty"].got[2][1].items) == 2  # the two held alerts, in one digest


def silence(station: str, until: float) -> Silence:
    return Silence(
        id="s1",
        matchers={"station": station},
        starts_ms=int(T0 * 1000),
        ends_ms=int(until * 1000),
        reason="maintenance",
        created_by="ops",
        created_ms=int(T0 * 1000),
    )


async def test_silence_mutes_what_it_matches_until_it_expires(harness: HarnessFactory) -> None:
    h = harness(ONE)
    h.silences.apply("s1", silence("1356A", T0 + 3600))
    muted, other = event(), event(station="1357A")
    h.engine.record([muted, other])
    await h.run()
    assert h.receivers["duty"].keys == [f"{other.transition_id}|duty"]
    assert h.outbox.held() == [(f"{muted.transition_id}|duty", "duty", "silenced:s1")]
    await h.advance(3599, step=600)
    assert len(h.receivers["duty"].got) == 1
    await h.advance(1)
    assert h.receivers["duty"].keys[-1] == f"{muted.transition_id}|duty"  # still firing: sent


async def test_silenced_alert_that_resolves_is_never_sent(harness: HarnessFactory) -> None:
    h = harness(ONE)
    h.silences.apply("s1", silence("1356A", T0 + 3600))
    h.engine.record([event()])
    await h.run()
    h.engine.record([event("resolved", at=T0 + 600, started=T0)])
    await h.advance(7200, step=600)
    assert h.receivers["duty"].got == []
    assert h.engine.metrics.get("suppressed") == 2


INHIBIT = """
inhibit_rules:
  - name: offline_mutes_station
    source: {rule: station_offline}
    target: {scope: station}
    equal: [subject]
  - name: city_over_district
    source: {scope: city}
    target: {scope: district}
    equal: [rule]
    opt_in: true
subscribers:
  - name: duty
    channel: {type: log}
  - name: district-office
    channel: {type: log}
    inhibit: [city_over_district]
"""


async def test_inhibited_while_the_inhibitor_fires_sent_after(harness: HarnessFactory) -> None:
    h = harness(INHIBIT)
    offline = event(rule="station_offline", at=T0)
    value = event(at=T0 + 60, started=T0 + 60)
    h.engine.record([offline, value])
    await h.run()
    assert h.receivers["duty"].keys == [f"{offline.transition_id}|duty"]
    held = {(key, reason) for key, sub, reason in h.outbox.held() if sub == "duty"}
    assert held == {(f"{value.transition_id}|duty", f"inhibited:{offline.alert_id}")}
    await h.advance(600, step=60)
    assert len(h.receivers["duty"].got) == 1
    back = event("resolved", rule="station_offline", at=T0 + 900, started=T0)
    h.engine.record([back])
    await h.run()
    last = h.receivers["duty"].got[-1][1]  # the offline alert's end and the alert it held back
    assert {i.delivery_key for i in last.items} == {
        f"{back.transition_id}|duty",
        f"{value.transition_id}|duty",
    }


async def test_inhibited_alert_resolving_meanwhile_is_not_sent(harness: HarnessFactory) -> None:
    h = harness(INHIBIT)
    h.engine.record([event(rule="station_offline"), event(at=T0 + 60, started=T0 + 60)])
    await h.run()
    h.engine.record([event("resolved", at=T0 + 120, started=T0 + 60)])
    h.engine.record([event("resolved", rule="station_offline", at=T0 + 900, started=T0)])
    await h.advance(60)
    rules = [n.items[0].event.rule for _, n in h.receivers["duty"].got]
    assert rules == ["station_offline", "station_offline"]


async def test_opt_in_inhibition_applies_to_who_asked(harness: HarnessFactory) -> None:
    h = harness(INHIBIT)
    city = event(scope="city", rule="pm25_hourly")
    district = event(scope="district", station="futian", rule="pm25_hourly")
    h.engine.record([city, district])
    await h.run()
    assert len(h.receivers["duty"].keys) == 2  # duty did not ask for city_over_district
    assert h.receivers["district-office"].keys == [f"{city.transition_id}|district-office"]


async def test_retries_with_backoff_then_once(harness: HarnessFactory) -> None:
    h = harness(ONE + "  - name: other\n    channel: {type: log}\n")
    h.receivers["duty"].fail = 3
    h.engine.record([event()])
    await h.run()
    assert h.receivers["other"].tries == 1 and h.receivers["duty"].tries == 1
    for wait, tries in ((9, 1), (1, 2), (19, 2), (1, 3), (39, 3), (1, 4)):  # 10 s, 20 s, 40 s
        await h.advance(wait)
        assert h.receivers["duty"].tries == tries
    assert len(h.receivers["duty"].got) == 1
    assert h.engine.metrics.get("retried") == 3
    assert h.outbox.counts()[("log", "sent")] == 2


async def test_a_receiver_that_never_recovers_ends_failed(harness: HarnessFactory) -> None:
    h = harness(ONE + "  - name: other\n    channel: {type: log}\n")
    h.receivers["duty"].fail = 10**6
    h.engine.record([event()])
    await h.advance(600, step=5)
    h.engine.record([event(station="1357A", at=h.clock())])
    await h.advance(600, step=5)
    assert h.receivers["duty"].tries == 4 + 4  # attempts per notification, then the next one
    assert h.engine.metrics.get("failed") == 2
    assert len(h.receivers["other"].got) == 2
    assert [state for _, _, state, _, _ in h.outbox.problems()] == ["failed", "failed"]


async def test_a_refusal_is_not_retried(harness: HarnessFactory) -> None:
    h = harness(ONE)
    h.receivers["duty"].fail, h.receivers["duty"].retryable = 1, False
    h.engine.record([event()])
    await h.advance(120)
    assert h.receivers["duty"].tries == 1
    assert h.outbox.counts()[("log", "failed")] == 1


def rows(h: Harness, table: str, alert_id: str) -> int:
    query = f"SELECT count(*) FROM {table} WHERE alert_id = ?"
    return h.outbox.db.execute(query, (alert_id,)).fetchone()[0]


async def test_the_outbox_forgets_what_finished_before_the_retention(
    harness: HarnessFactory,
) -> None:
    h = harness(REMIND)
    h.engine.retention_ms = DAY_MS
    done = event(station="1357A")
    ongoing = event()
    h.engine.record([done, ongoing])
    await h.run()
    h.engine.record([event("resolved", station="1357A", at=T0 + 60, started=T0)])
    await h.advance(60)
    assert rows(h, "deliveries", done.alert_id) == 2 and rows(h, "alerts", done.alert_id) == 1

    await h.advance(DAY_MS / 1000 - 120, step=3600)
    assert rows(h, "deliveries", done.alert_id) == 2  # not a day old yet
    await h.advance(2 * 3600, step=3600)
    assert rows(h, "deliveries", done.alert_id) == 0
    assert rows(h, "alerts", done.alert_id) == 0
    orphans = "SELECT count(*) FROM batches WHERE id NOT IN (SELECT batch FROM deliveries)"
    assert h.outbox.db.execute(orphans).fetchone()[0] == 0
    # the ongoing alert keeps its history: its reminders still come every hour
    assert rows(h, "deliveries", ongoing.alert_id) == 1 + 25
    sent = len(h.receivers["duty"].got)
    await h.advance(3600, step=600)
    assert len(h.receivers["duty"].got) == sent + 1


def test_prune_keeps_what_is_still_pending(harness: HarnessFactory) -> None:
    h = harness(ONE)
    fired = event()
    h.engine.record([fired])
    assert h.outbox.prune(int(T0 * 1000) + 365 * DAY_MS) == (0, 0, 0)
    assert h.outbox.pending_by_channel() == {"log": 1}
