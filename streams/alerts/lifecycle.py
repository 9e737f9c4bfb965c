"""The state machine of one alert: one rule for one subject, driven by checks in event time.

- ok -> pending when a level holds; -> firing once it has held for ``for`` (at once when 0). A blip
  shorter than ``for`` goes back to ok without an event. The alert starts when the condition
  began to hold (the pending start).
- firing: a higher severity emits ``escalated`` at once; a lower one updates the severity
  silently (no notification: a downgrade is not news, and the eventual ``resolved`` closes it).
- firing -> ok (``resolved``) once the condition has been clear for ``clear_for``; ``ended_ms``
  is when it went clear. A level that holds again before that cancels the clearing.
- flapping: fire, resolve and severity changes are state changes. The change that makes more
  than ``high`` of them within the window emits one ``flapping`` event instead of its own; while
  flapping, nothing else is emitted and the alert keeps its identity (start time). When fewer than
  ``low`` changes remain in the window, the then-current state is emitted once (``firing``, or
  ``resolved`` when clear) and the alert leaves flapping.

Ids: ``alert_id`` is a hash of (rule, subject, start); ``transition_id`` is
``alert_id:state:event_ms``. Both depend only on the checks, so a replay reproduces them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

import msgspec

from pipeline.messages.results import AlertEvent, AlertSubject
from streams.alerts.rules import SEVERITY_RANK, Rule, Severity

Status = Literal["ok", "pending", "firing"]
Transition = Literal["firing", "escalated", "downgraded", "resolved"]
Emitted = Literal["firing", "escalated", "resolved", "flapping"]

_SEVERITY_ZH = {"info": "提示", "warning": "警告", "critical": "严重"}


class AlertState(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What one alert remembers between checks (a value of the agent's state table)."""

    status: Status = "ok"
    severity: Severity | None = None  # of the current or the last alert
    since_ms: int | None = None  # pending: when the condition began to hold
    started_ms: int | None = None  # start of the current or the last alert
    clear_ms: int | None = None  # firing: when the condition went clear; ok: when the alert ended
    last_ms: int | None = None  # event time of the last check
    changes: tuple[int, ...] = ()  # event times of the state changes inside the flapping window
    flapping: bool = False
    memory: tuple[float, ...] = ()  # recent inputs some rules need (see evaluate.py)

    @property
    def idle(self) -> bool:
        """Nothing worth keeping: the caller may drop the entry."""
        return self.status == "ok" and not (self.flapping or self.changes or self.memory)


@dataclass(frozen=True, slots=True)
class Check:
    """One judgement of a rule for a subject: the level that holds now (None: clear)."""

    subject: AlertSubject
    ts_ms: int
    value: float
    severity: Severity | None
    threshold: float | None
    text_zh: str
    text_en: str


def alert_id(rule: str, subject: AlertSubject, started_ms: int) -> str:
    key = f"{rule}|{subject.scope}:{subject.id}|{started_ms}"
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def advance(rule: Rule, state: AlertState, check: Check) -> tuple[AlertState, list[AlertEvent]]:
    """The state after ``check``, and the events to publish (at most one)."""
    new, transition = _transition(rule, state, check)
    if rule.flapping is None:
        return new, _announce(rule, new, check, transition)
    recent = tuple(t for t in state.changes if t > check.ts_ms - rule.flapping.window)
    new = _with(new, changes=recent + ((check.ts_ms,) if transition else ()))
    if not state.flapping:
        if transition and len(new.changes) > rule.flapping.high:
            new = _with(new, flapping=True)
            return new, [_event(rule, new, check, "flapping")]
        return new, _announce(rule, new, check, transition)
    if len(new.changes) >= rule.flapping.low:
        return new, []
    new = _with(new, flapping=False)
    return new, [_event(rule, new, check, "firing" if new.status == "firing" else "resolved")]


def _transition(rule: Rule, s: AlertState, c: Check) -> tuple[AlertState, Transition | None]:
    ts, severity = c.ts_ms, c.severity
    if s.status == "firing":
        if severity is None:
            clear_ms = ts if s.clear_ms is None else s.clear_ms
            if ts - clear_ms >= rule.clear_for_ms:
                return _with(s, status="ok", clear_ms=clear_ms, last_ms=ts), "resolved"
            return _with(s, clear_ms=clear_ms, last_ms=ts), None
        step = SEVERITY_RANK[severity] - SEVERITY_RANK[s.severity or severity]
        new = _with(s, severity=severity, clear_ms=None, last_ms=ts)
        return new, "escalated" if step > 0 else "downgraded" if step < 0 else None
    if severity is None:
        return _with(s, status="ok", since_ms=None, last_ms=ts), None
    since = s.since_ms if s.status == "pending" and s.since_ms is not None else ts
    if ts - since < rule.for_ms:
        return _with(s, status="pending", since_ms=since, last_ms=ts), None
    started = s.started_ms if s.flapping and s.started_ms is not None else since
    firing = _with(
        s,
        status="firing",
        severity=severity,
        since_ms=None,
        started_ms=started,
        clear_ms=None,
        last_ms=ts,
    )
    return firing, "firing"


def _with(state: AlertState, **changes: object) -> AlertState:
    return msgspec.structs.replace(state, **changes)


def _announce(
    rule: Rule, state: AlertState, check: Check, transition: Transition | None
) -> list[AlertEvent]:
    if transition is None or transition == "downgraded":
        return []
    return [_event(rule, state, check, transition)]


def _event(rule: Rule, state: AlertState, check: Check, emitted: Emitted) -> AlertEvent:
    assert state.started_ms is not None and state.severity is not None  # it has fired
    aid = alert_id(rule.name, check.subject, state.started_ms)
    zh, en = _messages(emitted, state.severity, check)
    return AlertEvent(
        alert_id=aid,
        transition_id=f"{aid}:{emitted}:{check.ts_ms}",
        rule=rule.name,
        state=emitted,
        severity=state.severity,
        value=check.value,
        threshold=check.threshold,
        subject=check.subject,
        started_ms=state.started_ms,
        ended_ms=state.clear_ms if emitted == "resolved" else None,
        event_ms=check.ts_ms,
        message_zh=zh,
        message_en=en,
    )


def _messages(emitted: Emitted, severity: Severity, check: Check) -> tuple[str, str]:
    zh, en = check.text_zh, check.text_en
    if emitted == "escalated":
        return f"升级为{_SEVERITY_ZH[severity]}：{zh}", f"Escalated to {severity}: {en}"
    if emitted == "resolved":
        return f"已恢复：{zh}", f"Resolved: {en}"
    if emitted == "flapping":
        return f"状态频繁变化，暂停通知：{zh}", f"Flapping, notifications paused: {en}"
    return zh, en
