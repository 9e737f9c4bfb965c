"""Replay namespaces are ``replay-<id>``; services recognise them by name."""

from __future__ import annotations

REPLAY_PREFIX = "replay-"


def run_of(namespace: str) -> str | None:
    """The replay id of ``namespace``, or None for a namespace that is not a replay's."""
    if namespace.startswith(REPLAY_PREFIX) and len(namespace) > len(REPLAY_PREFIX):
        return namespace[len(REPLAY_PREFIX) :]
    return None
