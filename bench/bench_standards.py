"""Standards engine throughput: ``python -m bench.bench_standards`` (run by hand, prints a table).

In-process AQI computations per second for a full 6-pollutant reading under each standard, next
to ``json.loads`` of the same reading as JSON (the raw limit of doing anything at all with it).
Target: ≥ 200,000 AQI/s on one core.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

from bench.common import median_rate, print_table
from pipeline.standards.aqi import compute_aqi
from pipeline.standards.water import classify_water

N = 20_000
REPEATS = 7


def hourly_inputs(rng: random.Random) -> list[dict[str, float]]:
    out = []
    for _ in range(N):
        pm25 = rng.lognormvariate(3.4, 0.6)
        out.append(
            {
                "so2": rng.uniform(2, 20),
                "no2": rng.lognormvariate(3.4, 0.4),
                "co": rng.uniform(0.3, 1.5),
                "o3": rng.lognormvariate(4.3, 0.5),
                "o3_8h": rng.lognormvariate(4.1, 0.5),
                "pm10": pm25 * 1.6,
                "pm25": pm25,
                "pm10_24h": pm25 * 1.5,
                "pm25_24h": pm25 * 0.95,
            }
        )
    return out


def main() -> None:
    rng = random.Random(20261127)
    inputs = hourly_inputs(rng)
    raw = [json.dumps(x).encode() for x in inputs]
    at_2025 = datetime(2025, 11, 27, 2, tzinfo=UTC)
    at_2026 = datetime(2026, 11, 27, 2, tzinfo=UTC)
    water = [
        {
            "ph": 7.1,
            "do": rng.uniform(2, 9),
            "codmn": rng.uniform(2, 12),
            "nh3n": rng.uniform(0.1, 3),
            "tp": rng.uniform(0.02, 0.5),
        }
        for _ in range(N)
    ]
    baseline = median_rate(json.loads, raw, repeats=REPEATS)
    cases = {
        "AQI hour, hj633 → 2026 edition": lambda c: compute_aqi(c, "hour", "hj633", at_2026),
        "AQI hour, hj633 → 2012 edition": lambda c: compute_aqi(c, "hour", "hj633", at_2025),
        "AQI day, hj633-2012": lambda c: compute_aqi(c, "day", "hj633-2012"),
        "AQI hour, US EPA": lambda c: compute_aqi(c, "hour", "epa"),
    }
    day_inputs = [
        {k: v for k, v in c.items() if k in ("so2", "no2", "co", "o3", "o3_8h", "pm10", "pm25")}
        for c in inputs
    ]
    rows = [("json.loads of the reading (raw limit)", f"{baseline:,.0f}", "1.00")]
    for name, fn in cases.items():
        items = day_inputs if "day" in name else inputs
        r = median_rate(fn, items, repeats=REPEATS)
        rows.append((name, f"{r:,.0f}", f"{r / baseline:.2f}"))
    r = median_rate(lambda v: classify_water(v, target=None), water, repeats=REPEATS)
    rows.append(("water class, 5 parameters", f"{r:,.0f}", f"{r / baseline:.2f}"))
    print_table(
        f"Standards engine (per second, one core, median of {REPEATS})",
        ("computation", "rate", "× json.loads"),
        rows,
    )


if __name__ == "__main__":
    main()
