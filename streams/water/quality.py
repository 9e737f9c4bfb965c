"""One water reading -> its water-quality result (pure)."""

from __future__ import annotations

from pipeline.messages import FailingParameter, Named, WaterQualityMessage, WaterReading
from pipeline.registry import Registry
from pipeline.standards.cwqi import cwqi
from pipeline.standards.water import WaterClass, classify_water

CLASSIFIED = ("ph", "do", "codmn", "cod", "bod5", "nh3n", "tp", "tn")  # GB 3838-2002 Table 1
CWQI_KEYS = ("ph", "do", "codmn", "cod", "bod5", "nh3n", "tp")  # 2017 ranking rules (no TN)


class WaterQuality:
    """Classifies readings of the registry's river sections."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._districts = {
            d.id: Named(d.id, d.name_zh, d.name_en) for d in registry.districts.values()
        }
        self._rivers = {r.id: Named(r.id, r.name_zh, r.name_en) for r in registry.rivers.values()}

    def assess(self, reading: WaterReading) -> WaterQualityMessage | None:
        """The result, or None when the reading has no classified parameter (e.g. only °C)."""
        station = self.registry.stations[reading.station]
        values = {k: getattr(reading.values, k) for k in reading.values.__struct_fields__}
        measured = {k: v for k, v in values.items() if v is not None}
        classified = {k: v for k, v in measured.items() if k in CLASSIFIED}
        if not classified:
            return None
        target = WaterClass.parse(station.target) if station.target else None
        result = classify_water(classified, lake=station.lake, target=target)
        indexed = {k: v for k, v in classified.items() if k in CWQI_KEYS and (k != "do" or v > 0)}
        index = round(cwqi(indexed, lake=station.lake).cwqi, 4) if indexed else None
        return WaterQualityMessage(
            station=station.id,
            name_zh=station.name_zh,
            name_en=station.name_en,
            river=self._rivers[station.river] if station.river else Named("", "", ""),
            district=self._districts[station.district],
            ts_ms=reading.ts_ms,
            water_class=result.water_class.label,  # type: ignore[arg-type]
            class_num=int(result.water_class),
            target_class=station.target or "",
            per_parameter={k: c.label for k, c in result.per_parameter.items()},
            failing=[FailingParameter(e.key, e.value, e.limit, e.multiple) for e in result.failing],
            cwqi=index,
            values=measured,
        )


USABLE_DEVICE_FLAGS = frozenset({"N"})  # HJ 212-2017 data flags: N normal (absent counts as N)


def device_flags(reading: WaterReading) -> dict[str, list[str]]:
    """QC flags of a water reading: ``device`` where the source's HJ 212 data flag of a measured
    value is not a usable one (the value is kept with its flag)."""
    return {
        key: ["device"]
        for key, flag in reading.flags.items()
        if flag not in USABLE_DEVICE_FLAGS and getattr(reading.values, key, None) is not None
    }
