"""Versioned message schemas (``"v": 1``), the reject reasons and the validating readings codec."""

from pipeline.messages.codec import Decoder, encode_envelope, encode_reading
from pipeline.messages.deadletter import DeadLetter, dead_letter_from
from pipeline.messages.limits import AIR_LIMITS, WATER_LIMITS, Limit
from pipeline.messages.readings import (
    VALUES_TYPES,
    AirReading,
    AirValues,
    Reading,
    Values,
    WaterReading,
    WaterValues,
)
from pipeline.messages.reasons import Reject, RejectReason
from pipeline.messages.results import (
    AlertEvent,
    AlertSubject,
    AqiMessage,
    FailingParameter,
    Named,
    QcFlagMessage,
    RankEntry,
    RankingMessage,
    WaterQualityMessage,
)

__all__ = [
    "AIR_LIMITS",
    "VALUES_TYPES",
    "WATER_LIMITS",
    "AirReading",
    "AirValues",
    "AlertEvent",
    "AlertSubject",
    "AqiMessage",
    "DeadLetter",
    "Decoder",
    "FailingParameter",
    "Limit",
    "Named",
    "QcFlagMessage",
    "RankEntry",
    "RankingMessage",
    "Reading",
    "Reject",
    "RejectReason",
    "Values",
    "WaterQualityMessage",
    "WaterReading",
    "WaterValues",
    "dead_letter_from",
    "encode_envelope",
    "encode_reading",
]
