"""``envmon replay diff``: the AQI results, rankings and alert transitions of two namespaces.

Results are compared by content and ids, never by offsets: AQI by (scope, subject, report,
period) and rankings by (board, period), each by its last message (a period produced again, e.g.
completed by a late station, ends with the same final value); alert transitions by
``transition_id`` (a hash of rule, subject and start, plus state and event time: the same checks
give the same ids). Per (rule, subject) the first ``firing`` time is compared too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from pipeline.replay.kafka_range import read_range
from pipeline.settings import Settings
from pipeline.topics import Topics

AQI_FIELDS = ("aqi", "level", "primary", "iaqi", "concentrations", "valid_stations", "standard")
ALERT_FIELDS = ("state", "severity", "value", "threshold", "started_ms", "ended_ms", "event_ms")
SHOWN = 50  # rows per list in the table (JSON has them all)


@dataclass
class Results:
    """One namespace's results in a time range, keyed for comparison."""

    aqi: dict[str, dict[str, Any]] = field(default_factory=dict)
    rankings: dict[str, dict[str, Any]] = field(default_factory=dict)
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)


def aqi_key(m: dict[str, Any]) -> str:
    return f"{m['scope']}:{m['subject']}|{m['report']}|{m['period_label']}"


def ranking_key(m: dict[str, Any]) -> str:
    return f"{m['board']}|{m['period']}"


def collect(messages: Iterable[tuple[str, dict[str, Any]]], from_ms: int, to_ms: int) -> Results:
    """Results from (kind, message) pairs in topic order; the last message of a key wins."""
    results = Results()
    for kind, m in messages:
        if kind == "aqi" and from_ms <= m["period_start_ms"] < to_ms:
            results.aqi[aqi_key(m)] = {name: m.get(name) for name in AQI_FIELDS}
        elif kind == "rankings" and from_ms <= m["ts_ms"] < to_ms:
            entries = {
                e["subject"]: [e["rank"], e["score"], e["valid_stations"]] for e in m["entries"]
            }
            results.rankings[ranking_key(m)] = entries
        elif kind == "alerts" and from_ms <= m["event_ms"] < to_ms:
            alert = {name: m.get(name) for name in ALERT_FIELDS}
            alert |= {"rule": m["rule"], "subject": f"{m['subject']['scope']}:{m['subject']['id']}"}
            results.alerts[m["transition_id"]] = alert
    return results


def read_results(settings: Settings, namespace: str, from_ms: int, to_ms: int) -> Results:
    topics = Topics(namespace)
    kinds = {topics.air_aqi: "aqi", topics.rankings: "rankings", topics.alerts: "alerts"}
    decode = msgspec.json.Decoder().decode
    with_topic = ((r, t) for t in kinds for r in read_range(settings, [t], from_ms))
    return collect(((kinds[t], decode(r.value)) for r, t in with_topic), from_ms, to_ms)


def _compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    differ = [
        {"key": key, "a": a[key], "b": b[key]}
        for key in sorted(a.keys() & b.keys())
        if a[key] != b[key]
    ]
    return {
        "count_a": len(a),
        "count_b": len(b),
        "only_a": sorted(a.keys() - b.keys()),
        "only_b": sorted(b.keys() - a.keys()),
        "differ": differ,
    }


def first_fires(alerts: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Per ``rule|subject`` the event time of its first ``firing`` transition."""
    first: dict[str, int] = {}
    for alert in alerts.values():
        if alert["state"] == "firing":
            key = f"{alert['rule']}|{alert['subject']}"
            first[key] = min(first.get(key, alert["event_ms"]), alert["event_ms"])
    return first


def diff(a: Results, b: Results) -> dict[str, Any]:
    """The differences as plain data (``envmon replay diff --json`` prints it)."""
    alerts = _compare(a.alerts, b.alerts)
    alerts["only_a"] = [{"transition_id": t, **a.alerts[t]} for t in alerts["only_a"]]
    alerts["only_b"] = [{"transition_id": t, **b.alerts[t]} for t in alerts["only_b"]]
    fa, fb = first_fires(a.alerts), first_fires(b.alerts)
    alerts["first_fire"] = [
        {"alert": key, "a": fa.get(key), "b": fb.get(key)}
        for key in sorted(fa.keys() | fb.keys())
        if fa.get(key) != fb.get(key)
    ]
    report = {"aqi": _compare(a.aqi, b.aqi), "rankings": _compare(a.rankings, b.rankings)}
    report["alerts"] = alerts
    report["equal"] = (
        not any(part[name] for part in report.values() for name in ("only_a", "only_b", "differ"))
        and not alerts["first_fire"]
    )
    return report
