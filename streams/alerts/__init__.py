"""Alerts: rules from a YAML file, evaluated over results and ticks, with a per-alert lifecycle.

Pure: the agent feeds observations to an :class:`AlertEngine` together with its state table and
publishes the returned :class:`~pipeline.messages.results.AlertEvent` s.
"""

from streams.alerts.evaluate import AlertEngine, LastSeen, QcObservation
from streams.alerts.lifecycle import AlertState
from streams.alerts.rules import Rule, RulesError, load_rules, parse_rules

__all__ = [
    "AlertEngine",
    "AlertState",
    "LastSeen",
    "QcObservation",
    "Rule",
    "RulesError",
    "load_rules",
    "parse_rules",
]
