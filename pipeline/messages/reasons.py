"""Why a message was rejected: one machine-readable code per cause, and the reject value itself.

This enum is the single source of reject codes: the decoder, the stream agents (``late``) and the
sink (``influx_rejected``) all use it, and the dead-letter topic carries its values.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec


class RejectReason(StrEnum):
    MALFORMED_JSON = "malformed_json"  # not JSON, or not UTF-8
    UNKNOWN_VERSION = "unknown_version"  # "v" is not a version this code reads
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    BAD_TIMESTAMP = "bad_timestamp"  # unparseable, without offset, or before 2000
    FUTURE_TIMESTAMP = "future_timestamp"  # more than 10 minutes ahead of the clock
    NON_FINITE = "non_finite"  # NaN, Infinity, -Infinity, or a number overflowing to inf
    NEGATIVE_VALUE = "negative_value"  # below zero where zero is the floor
    IMPLAUSIBLE_VALUE = "implausible_value"  # outside the physical limits (limits.py)
    UNKNOWN_STATION = "unknown_station"  # not in the registry
    WRONG_STATION_KIND = "wrong_station_kind"  # air station on the water topic or vice versa
    EMPTY_ENVELOPE = "empty_envelope"
    ENVELOPE_OUT_OF_ORDER = "envelope_out_of_order"  # readings not strictly increasing in time
    MALFORMED_ROW = "malformed_row"  # a file-feed row whose cells do not match the header
    LATE = "late"  # arrived after the grace period (stream agents)
    DUPLICATE = "duplicate"  # the same station and event time again (stream agents)
    INFLUX_REJECTED = "influx_rejected"  # point refused by InfluxDB (sink poison point)


class Reject(msgspec.Struct, frozen=True):
    """A rejected message: the reason, the offending field path (``readings[2].values.pm25``)
    when there is one, and a human-readable detail."""

    reason: RejectReason
    field: str | None
    detail: str
