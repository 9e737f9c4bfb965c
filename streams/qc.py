"""QC-flagged values as messages for ``{ns}.qc``: one per flagged value, with all its flags."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pipeline.messages import Named, QcFlagMessage, Reading
from pipeline.registry import Registry


class QcMessages:
    """Builds the messages of one kind of station from the registry's names."""

    def __init__(self, kind: Literal["air", "water"], registry: Registry) -> None:
        self.kind = kind
        self.registry = registry
        self._districts = {
            d.id: Named(d.id, d.name_zh, d.name_en) for d in registry.districts.values()
        }

    def of(self, reading: Reading[Any], flags: Mapping[str, Iterable[str]]) -> list[QcFlagMessage]:
        """The messages of ``reading``'s flagged values (``flags``: value key -> its flags)."""
        station = self.registry.stations[reading.station]
        return [
            QcFlagMessage(
                station=station.id,
                name_zh=station.name_zh,
                name_en=station.name_en,
                district=self._districts[station.district],
                kind=self.kind,
                parameter=key,
                value=getattr(reading.values, key),
                flags=sorted({str(f) for f in key_flags}),
                ts_ms=reading.ts_ms,
            )
            for key, key_flags in flags.items()
        ]
