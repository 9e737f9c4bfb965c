"""Where the stations are, for the map panels: the registry's air stations and river sections as
points of the ``site`` measurement.

Results carry names but no coordinates, and InfluxQL cannot join, so the maps query ``site``
beside the results and Grafana joins the two tables on the station id. Tags ``kind`` (air,
water), ``station``, ``district``, ``river`` (sections); fields ``lat lon name_zh name_en`` and, for
sections, ``target_num`` (the target class, 1..5). Every point has timestamp 0, so writing the
registry again overwrites the same points.
"""

from __future__ import annotations

from pipeline.registry import Registry, Station
from pipeline.settings import Settings
from pipeline.sinks.influx import open_writer
from pipeline.sinks.lineprotocol import encode
from pipeline.sinks.points import Target

CLASS_NUMBERS = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}


def site(station: Station) -> str:
    tags = {
        "kind": station.kind.value,
        "station": station.id,
        "district": station.district,
        "river": station.river,
    }
    fields = {
        "lat": station.lat,
        "lon": station.lon,
        "name_zh": station.name_zh,
        "name_en": station.name_en,
        "target_num": CLASS_NUMBERS.get(station.target or ""),
    }
    return encode("site", tags, fields, 0)


def write_sites(settings: Settings, registry: Registry) -> int:
    """Write every station of ``registry``; the number of points."""
    lines = [site(station) for station in registry.stations.values()]
    writer = open_writer(settings)
    try:
        writer.write(Target.RESULTS, "\n".join(lines))
    finally:
        writer.close()
    return len(lines)
