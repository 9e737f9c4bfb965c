"""Silences as the notifier sees them: the latest record per id from ``{ns}.silences``.

A silence mutes the alerts whose labels match all its matchers while ``starts_ms <= now <
ends_ms``; past its end it mutes nothing (it expires by itself). A record with an empty value
(a tombstone) removes the silence.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from pipeline.messages.notify import Silence
from pipeline.notify.matching import matches

decode_silence = msgspec.json.Decoder(Silence).decode


class SilenceBook:
    def __init__(self) -> None:
        self._by_id: dict[str, Silence] = {}

    def apply(self, silence_id: str, silence: Silence | None) -> None:
        if silence is None:
            self._by_id.pop(silence_id, None)
        else:
            self._by_id[silence_id] = silence

    def all(self) -> list[Silence]:
        return list(self._by_id.values())

    def active(self, now_ms: int) -> list[Silence]:
        return [s for s in self._by_id.values() if s.active(now_ms)]

    def muting(self, labels: Mapping[str, str], now_ms: int) -> Silence | None:
        """The first active silence that matches ``labels``, or None."""
        return next((s for s in self.active(now_ms) if matches(s.matchers, labels)), None)
