"""What a board is built for: the language of its labels and the city its maps centre on."""

from __future__ import annotations

from dataclasses import dataclass

from dashboards.text import Language, Say
from pipeline.registry import Registry


@dataclass(frozen=True)
class Context:
    say: Say
    centre: tuple[float, float]  # lat, lon of the maps' centre

    @classmethod
    def of(cls, language: Language, registry: Registry) -> Context:
        """Maps centre on the mean position of the registry's districts."""
        districts = list(registry.districts.values())
        lat = sum(d.lat for d in districts) / len(districts)
        lon = sum(d.lon for d in districts) / len(districts)
        return cls(Say(language), (round(lat, 3), round(lon, 3)))
