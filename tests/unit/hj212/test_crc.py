"""The HJ 212 CRC (appendix A variant), against the reference's check values and packets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.hj212.crc import TABLE, crc16, crc16_reference, crc_text
from tests.unit.hj212.vectors import ALL


def test_check_values() -> None:
    assert crc16(b"123456789") == 0x2F80  # CRC-16/MODBUS would give 0x4B37
    assert crc16(b"") == 0xFFFF
    assert crc16_reference(b"123456789") == 0x2F80


def test_register_trace_of_the_standard_example() -> None:
    # reference §1.4: x = (crc >> 8) ^ byte, then crc = T[x]
    crc = 0xFFFF
    trace = []
    for byte in b"QN=2":
        crc = TABLE[(crc >> 8) ^ byte]
        trace.append(crc)
    assert trace == [0xBC81, 0x8581, 0x7200, 0xF001]


@pytest.mark.parametrize("frame", ALL, ids=range(len(ALL)))
def test_every_reference_packet(frame: bytes) -> None:
    n = int(frame[2:6])
    segment = frame[6 : 6 + n]
    assert len(segment) == n  # LLLL counts the segment's bytes
    assert crc_text(segment) == frame[6 + n : 10 + n]


def test_standard_example_is_1c80_not_the_misprint() -> None:
    assert crc_text(ALL[0][6:107]) == b"1C80"


@given(st.binary(max_size=300))
def test_pair_table_equals_the_standard_algorithm(data: bytes) -> None:
    assert crc16(data) == crc16_reference(data)
