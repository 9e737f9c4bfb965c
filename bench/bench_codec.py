"""Readings codec throughput: ``python bench/bench_codec.py`` (run by hand, prints a table).

Compares, on the same realistic 6-pollutant air messages: ``json.loads`` alone (parsing without
any validation: the bar to beat), envmon's msgspec decoder (decode + validate + registry and
clock checks) and pydantic v2 ``model_validate_json`` of equivalent models (schema checks only).
Rates are the median of REPEATS runs; envelope rows count readings, not messages.
"""

from __future__ import annotations

import json
import random
import time
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

import msgspec
import pydantic
from pydantic import AwareDatetime, BaseModel, Field, create_model

from bench.common import median_rate, print_table
from pipeline.messages import AIR_LIMITS, Decoder, Reject
from pipeline.messages.codec import MAX_INTERVAL_S
from pipeline.registry import Registry, StationKind

REPEATS = 7
SINGLES = 20_000
ENVELOPES, PER_ENVELOPE = 200, 100
SHANGHAI = timezone(timedelta(hours=8))

AirValuesModel: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "AirValuesModel",
    **{
        k: (Annotated[float, Field(ge=lim.low, le=lim.high)] | None, None)
        for k, lim in AIR_LIMITS.items()
    },
)
Interval = Annotated[int, Field(gt=0, le=MAX_INTERVAL_S)]


class ItemModel(BaseModel):
    ts: int | AwareDatetime
    interval: Interval
    values: AirValuesModel  # type: ignore[valid-type]
    flags: dict[str, str] = {}


class MessageModel(BaseModel):
    v: int
    station: str
    ts: int | AwareDatetime | None = None
    interval: Interval | None = None
    values: AirValuesModel | None = None  # type: ignore[valid-type]
    flags: dict[str, str] = {}
    readings: list[ItemModel] | None = None


def air_item(rng: random.Random, ts_ms: int, rfc3339: bool) -> dict[str, Any]:
    pm25 = round(rng.lognormvariate(3.2, 0.5), 1)
    values = {
        "so2": round(rng.uniform(2, 15), 1),
        "no2": round(rng.lognormvariate(3.4, 0.4), 1),
        "co": round(rng.uniform(0.3, 1.2), 2),
        "o3": round(rng.lognormvariate(4.2, 0.5), 1),
        "pm10": round(pm25 * rng.uniform(1.3, 2.0), 1),
        "pm25": pm25,
    }
    ts: int | str = ts_ms
    if rfc3339:
        ts = datetime.fromtimestamp(ts_ms / 1000, SHANGHAI).isoformat()
    flags = {"o3": "C"} if rng.random() < 0.05 else {}
    return {"ts": ts, "interval": 3600, "values": values, "flags": flags}


def workloads(registry: Registry) -> dict[str, tuple[list[bytes], int]]:
    """Message sets by name, with the readings per message."""
    rng = random.Random(20261127)
    stations = [s.id for s in registry.of_kind(StationKind.AIR)]
    hour_ms = 3_600_000
    now_ms = int(time.time() // 3600 * 3600 * 1000)

    def singles(rfc3339: bool) -> list[bytes]:
        return [
            json.dumps(
                {"v": 1, "station": rng.choice(stations)}
                | air_item(rng, now_ms - rng.randrange(720) * hour_ms, rfc3339)
            ).encode()
            for _ in range(SINGLES)
        ]

    envelopes = [
        json.dumps(
            {
                "v": 1,
                "station": rng.choice(stations),
                "readings": [
                    air_item(rng, now_ms - (PER_ENVELOPE - i) * hour_ms, False)
                    for i in range(PER_ENVELOPE)
                ],
            }
        ).encode()
        for _ in range(ENVELOPES)
    ]
    return {
        "single reading, ts epoch ms": (singles(False), 1),
        "single reading, ts RFC 3339": (singles(True), 1),
        f"envelope of {PER_ENVELOPE} readings": (envelopes, PER_ENVELOPE),
    }


def main() -> None:
    registry = Registry.load()
    decoder = Decoder(StationKind.AIR, registry)
    rows = []
    for name, (messages, per_message) in workloads(registry).items():
        results = [decoder.decode(raw) for raw in messages]
        rejects = [r for r in results if isinstance(r, Reject)]
        assert not rejects, rejects[:3]
        baseline = median_rate(json.loads, messages, per_message, REPEATS)
        ours = median_rate(decoder.decode, messages, per_message, REPEATS)
        theirs = median_rate(MessageModel.model_validate_json, messages, per_message, REPEATS)
        rows.append(
            (
                name,
                f"{baseline:,.0f}",
                f"{ours:,.0f}",
                f"{ours / baseline:.2f}",
                f"{theirs:,.0f}",
                f"{theirs / baseline:.2f}",
            )
        )
    print_table(
        f"Readings decoding rate (items/s, median of {REPEATS})",
        ("messages", "json.loads", "envmon msgspec", "× json", "pydantic v2", "× json"),
        rows,
        f"msgspec {msgspec.__version__}, pydantic {pydantic.VERSION}; envmon includes registry, "
        "clock and order checks; pydantic validates the schema only.",
    )


if __name__ == "__main__":
    main()
