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
    # HJ 212-2017 gateway (../shared/reference/hj212_2017.md §1.6, envmon rules); also
    # MISSING_FIELD and UNKNOWN_STATION above
    MISSING_HEADER = "missing_header"  # bytes that do not start with ##
    TRUNCATED = "truncated"  # stream ended or idle before the frame was complete
    BAD_LENGTH_FIELD = "bad_length_field"  # LLLL not 4 digits
    LENGTH_MISMATCH = "length_mismatch"  # LLLL differs from the bytes before the CRC
    BAD_TERMINATOR = "bad_terminator"  # frame not ended by CR LF
    DATA_TOO_LONG = "data_too_long"  # LLLL above the configured maximum (default 1024)
    BAD_CRC = "bad_crc"  # CRC not 4 hex digits or not the computed value
    BAD_ENCODING = "bad_encoding"  # data segment not UTF-8
    BAD_HEADER_FIELD = "bad_header_field"  # item without =, or QN/CN/Flag/PNUM/PNO malformed
    UNKNOWN_CN = "unknown_cn"  # command code not in HJ 212-2017 table 9
    BAD_CP = "bad_cp"  # CP data area malformed
    BAD_DATATIME = "bad_datatime"  # a time field not 14 digits or not a real date
    BAD_SPLIT = "bad_split"  # Flag/PNUM/PNO inconsistent
    SPLIT_INCOMPLETE = "split_incomplete"  # parts of a split record missing at the timeout
    BAD_PASSWORD = "bad_password"  # PW differs from the station's


HJ212_REASONS = frozenset(
    {
        RejectReason.MISSING_HEADER,
        RejectReason.TRUNCATED,
        RejectReason.BAD_LENGTH_FIELD,
        RejectReason.LENGTH_MISMATCH,
        RejectReason.BAD_TERMINATOR,
        RejectReason.DATA_TOO_LONG,
        RejectReason.BAD_CRC,
        RejectReason.BAD_ENCODING,
        RejectReason.BAD_HEADER_FIELD,
        RejectReason.UNKNOWN_CN,
        RejectReason.BAD_CP,
        RejectReason.BAD_DATATIME,
        RejectReason.BAD_SPLIT,
        RejectReason.SPLIT_INCOMPLETE,
        RejectReason.BAD_PASSWORD,
    }
)
"""Reasons only the HJ 212 gateway gives (it also gives missing_field and unknown_station)."""


class Reject(msgspec.Struct, frozen=True):
    """A rejected message: the reason, the offending field path (``readings[2].values.pm25``)
    when there is one, and a human-readable detail."""

    reason: RejectReason
    field: str | None
    detail: str
