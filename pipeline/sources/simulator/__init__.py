"""Realistic, deterministic reading simulator: air (national-control and micro-stations) and river
water quality, with episodes, rain, discharges and faults on purpose; no Kafka here.

``simulate(SimPlan(seed, registry, ...))`` yields time-ordered batches of :class:`SimReading` and
:class:`MalformedMessage`; :class:`Simulator` generates any range [t0, t1) and exposes each group's
arrays (:meth:`Simulator.series`) for inspection.
"""

from pipeline.sources.simulator.air import AIR_KEYS, AirConfig, Episode, Rain
from pipeline.sources.simulator.faults import (
    MALFORMED_KINDS,
    Fault,
    FaultConfig,
    MalformedMessage,
    Record,
    Series,
    SimReading,
)
from pipeline.sources.simulator.plan import Cadence, SimPlan, Simulator, kinds_of, simulate
from pipeline.sources.simulator.stations import is_synthetic, synthetic_registry, to_yaml
from pipeline.sources.simulator.water import WATER_KEYS, Discharge, WaterConfig

__all__ = [
    "AIR_KEYS",
    "MALFORMED_KINDS",
    "WATER_KEYS",
    "AirConfig",
    "Cadence",
    "Discharge",
    "Episode",
    "Fault",
    "FaultConfig",
    "MalformedMessage",
    "Rain",
    "Record",
    "Series",
    "SimPlan",
    "SimReading",
    "Simulator",
    "WaterConfig",
    "is_synthetic",
    "kinds_of",
    "simulate",
    "synthetic_registry",
    "to_yaml",
]
