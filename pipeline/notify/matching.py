"""Which alerts concern whom: an alert's labels, subscriber filters, matchers and inhibition.

Labels of an alert: ``alert_id rule severity scope subject station district river``
(``station`` is the subject id of a station alert). Matchers (silences, inhibition rules) are
label -> value maps; an alert matches when every label equals its value.

Subscriber filters: the places (``districts``, ``stations``, ``rivers``, ``sections``) are
alternatives — an alert matches when it lies in any place listed, or anywhere when none is
listed; ``rules``, ``min_severity`` and ``states`` must all hold too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pipeline.messages.results import AlertEvent
from pipeline.notify.subscriptions import SEVERITY_RANK, Filters, InhibitRule, Subscriber

Labels = dict[str, str]


def labels(event: AlertEvent) -> Labels:
    s = event.subject
    out = {
        "alert_id": event.alert_id,
        "rule": event.rule,
        "severity": event.severity,
        "scope": s.scope,
        "subject": s.id,
    }
    if s.scope == "station":
        out["station"] = s.id
    if s.district:
        out["district"] = s.district
    if s.river:
        out["river"] = s.river
    return out


def matches(matchers: Mapping[str, str], alert_labels: Mapping[str, str]) -> bool:
    return all(alert_labels.get(key) == value for key, value in matchers.items())


def _in_place(f: Filters, event: AlertEvent) -> bool:
    if not (f.districts or f.stations or f.rivers or f.sections):
        return True
    s = event.subject
    station = s.id if s.scope == "station" else None
    return (
        (s.district in f.districts or (s.scope == "district" and s.id in f.districts))
        or (station is not None and station in f.stations)
        or (s.river is not None and s.river in f.rivers)
        or (station is not None and s.river is not None and station in f.sections)
    )


def wants(subscriber: Subscriber, event: AlertEvent, state: str | None = None) -> bool:
    """Whether ``subscriber`` asked for ``event`` (in ``state``, default the event's own)."""
    f = subscriber.filters
    return (
        (state or event.state) in f.states
        and SEVERITY_RANK[event.severity] >= SEVERITY_RANK[f.min_severity]
        and (not f.rules or event.rule in f.rules)
        and _in_place(f, event)
    )


def inhibitor(
    target: AlertEvent,
    active: Iterable[AlertEvent],
    rules: Iterable[InhibitRule],
    applying: frozenset[str],
) -> str | None:
    """The alert id that inhibits ``target`` under the rules named in ``applying``, or None.

    ``active`` are the alerts firing now (escalated and flapping count as firing).
    """
    target_labels = labels(target)
    for rule in rules:
        if rule.name not in applying or not matches(rule.target, target_labels):
            continue
        for source in active:
            if source.alert_id == target.alert_id:
                continue
            source_labels = labels(source)
            if matches(rule.source, source_labels) and all(
                source_labels.get(k) == target_labels.get(k) for k in rule.equal
            ):
                return source.alert_id
    return None
