"""The only place topic names are spelled: ``Topics(namespace)``.

Every service takes the namespace as a setting, which is what makes a replay into an isolated
namespace (``replay-<id>``) free.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TopicRole(StrEnum):
    """What a topic holds; decides its retention and clean-up policy."""

    RAW = "raw"  # raw readings: time-limited retention
    RESULT = "result"  # derived results: kept
    STATE = "state"  # latest value per key: compacted


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    role: TopicRole
    description: str


@dataclass(frozen=True, slots=True)
class Topics:
    namespace: str = "env"

    def _t(self, suffix: str) -> str:
        return f"{self.namespace}.{suffix}"

    @property
    def air_readings(self) -> str:
        return self._t("air.readings")

    @property
    def water_readings(self) -> str:
        return self._t("water.readings")

    @property
    def air_aqi(self) -> str:
        return self._t("air.aqi")

    @property
    def air_periods(self) -> str:
        return self._t("air.periods")

    @property
    def water_quality(self) -> str:
        return self._t("water.quality")

    @property
    def qc(self) -> str:
        return self._t("qc")

    @property
    def rankings(self) -> str:
        return self._t("rankings")

    @property
    def rankings_inputs(self) -> str:
        return self._t("rankings.inputs")

    @property
    def alerts(self) -> str:
        return self._t("alerts")

    @property
    def alert_acks(self) -> str:
        return self._t("alert-acks")

    @property
    def silences(self) -> str:
        return self._t("silences")

    @property
    def deadletter(self) -> str:
        return self._t("deadletter")

    def specs(self) -> tuple[TopicSpec, ...]:
        """Every topic of the namespace with its role."""
        return (
            TopicSpec(self.air_readings, TopicRole.RAW, "air readings from stations"),
            TopicSpec(self.water_readings, TopicRole.RAW, "water readings from stations"),
            TopicSpec(self.air_aqi, TopicRole.RESULT, "hourly and daily AQI per scope"),
            TopicSpec(self.air_periods, TopicRole.RAW, "closed station hours and days (internal)"),
            TopicSpec(self.water_quality, TopicRole.RESULT, "water class per reading"),
            TopicSpec(self.qc, TopicRole.RESULT, "QC-flagged values with their flags"),
            TopicSpec(self.rankings, TopicRole.RESULT, "ranking snapshots"),
            TopicSpec(self.rankings_inputs, TopicRole.RAW, "inputs of the rankings (internal)"),
            TopicSpec(self.alerts, TopicRole.RESULT, "alert transitions"),
            TopicSpec(self.alert_acks, TopicRole.RESULT, "alert acknowledgements"),
            TopicSpec(self.silences, TopicRole.STATE, "active silences, latest per id"),
            TopicSpec(self.deadletter, TopicRole.RESULT, "rejected input with a reason"),
        )

    def names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.specs())
