"""Filters (places are alternatives; rules, severity and states must hold) and inhibition."""

from __future__ import annotations

from pipeline.notify.matching import inhibitor, labels, matches, wants
from pipeline.notify.subscriptions import parse_subscriptions
from tests.unit.notify.conftest import event


def subscriber(filters: str):  # type: ignore[no-untyped-def]
    entry = f"{{name: s, channel: {{type: log}}, filters: {filters}}}"
    text = f"schema_version: 1\nsubscribers:\n  - {entry}\n"
    return parse_subscriptions(text, "f", {}).subscribers[0]


def test_places_are_alternatives() -> None:
    s = subscriber("{districts: [luohu], sections: [szh-hekou]}")
    assert wants(s, event(station="1357A"))  # an air station in Luohu
    assert wants(s, event(station="szh-hekou"))  # the section, in Futian
    assert not wants(s, event(station="1356A"))  # Futian air station
    assert wants(subscriber("{rivers: [maozhou]}"), event(station="mzh-yangyong"))
    assert wants(subscriber("{districts: [futian]}"), event(scope="district", station="futian"))
    assert not wants(subscriber("{districts: [futian]}"), event(scope="city"))
    assert wants(subscriber("{}"), event(scope="city"))


def test_rules_severity_and_states_must_hold() -> None:
    s = subscriber("{rules: [pm25_hourly], min_severity: warning, states: [firing]}")
    assert wants(s, event())
    assert not wants(s, event(severity="info"))
    assert not wants(s, event(rule="o3_hourly"))
    assert not wants(s, event("resolved"))
    assert wants(s, event("resolved"), state="firing")


def test_labels_and_matchers() -> None:
    e = event(station="szh-hekou")
    assert labels(e) == {
        "alert_id": e.alert_id,
        "rule": "pm25_hourly",
        "severity": "warning",
        "scope": "station",
        "subject": "szh-hekou",
        "station": "szh-hekou",
        "district": "futian",
        "river": "shenzhen",
    }
    assert matches({"river": "shenzhen", "severity": "warning"}, labels(e))
    assert not matches({"river": "shenzhen", "severity": "critical"}, labels(e))


def test_inhibitor_needs_equal_labels_and_never_itself() -> None:
    rules = parse_subscriptions(
        """schema_version: 1
inhibit_rules:
  - {name: offline, source: {rule: station_offline}, target: {scope: station}, equal: [subject]}
subscribers: []
""",
        "f",
        {},
    ).inhibit_rules
    offline = event(rule="station_offline")
    assert inhibitor(event(), [offline], rules, frozenset({"offline"})) == offline.alert_id
    assert inhibitor(event(station="1357A"), [offline], rules, frozenset({"offline"})) is None
    assert inhibitor(offline, [offline], rules, frozenset({"offline"})) is None
    assert inhibitor(event(), [offline], rules, frozenset()) is None
