"""InfluxQL targets for Grafana's InfluxDB data source.

The foundation SDK has no InfluxDB query type, so :class:`InfluxQL` is ours: a raw InfluxQL text
with Grafana's macros (``$timeFilter``, ``$__interval``, ``$variable``) and the result format
(``time_series`` for graphs, ``table`` for tables, maps and rankings).
"""

from __future__ import annotations

from typing import Literal, Self

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants
from grafana_foundation_sdk.models.dashboard import DataSourceRef

DATASOURCE_UID = "envmon-influxdb"
DATASOURCE = DataSourceRef(type_val="influxdb", uid=DATASOURCE_UID)

ResultFormat = Literal["time_series", "table"]


class InfluxQL(variants.Dataquery):
    """One raw InfluxQL target of a panel."""

    def __init__(
        self, ref_id: str, query: str, result_format: ResultFormat, alias: str | None
    ) -> None:
        self.ref_id = ref_id
        self.query = query
        self.result_format = result_format
        self.alias = alias

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "refId": self.ref_id,
            "datasource": DATASOURCE.to_json(),
            "query": self.query,
            "rawQuery": True,
            "resultFormat": self.result_format,
        }
        if self.alias:
            payload["alias"] = self.alias
        return payload


class Query(cogbuilder.Builder[InfluxQL]):
    """``Query("SELECT …", table=True, alias="$tag_subject")``; the panel factories give a
    panel's queries the ids A, B, … in order (:meth:`ref_id`)."""

    def __init__(self, query: str, *, table: bool = False, alias: str | None = None) -> None:
        self._query = InfluxQL(
            "A", " ".join(query.split()), "table" if table else "time_series", alias
        )

    def ref_id(self, ref_id: str) -> Self:
        self._query.ref_id = ref_id
        return self

    def build(self) -> InfluxQL:
        return self._query
