"""The HJ 212-2017 CRC (appendix A): not CRC-16/MODBUS, although it uses the same constants.

Per byte the register's low byte is discarded and its high byte is XORed with the data byte
(``crc = T[(crc >> 8) ^ b]``), so only 8 bits of state carry from byte to byte
(../shared/reference/hj212_2017.md §1.3). That makes a two-byte table possible: the state after
two bytes depends on 16 input bits only, so the loop runs once per byte pair.
"""

from __future__ import annotations

import sys

POLY = 0xA001  # 0x8005 bit-reversed


def _reflected(value: int) -> int:
    for _ in range(8):
        value = (value >> 1) ^ POLY if value & 1 else value >> 1
    return value


TABLE: tuple[int, ...] = tuple(_reflected(i) for i in range(256))
_HIGH = bytes(t >> 8 for t in TABLE)  # the state (high byte) after one step
# _PAIR[v ^ s]: the state after the two bytes of native-order 16-bit word v, from state s
_LITTLE = sys.byteorder == "little"
_PAIR = bytes(
    _HIGH[_HIGH[(v & 0xFF if _LITTLE else v >> 8)] ^ (v >> 8 if _LITTLE else v & 0xFF)]
    for v in range(65536)
)


def crc16(segment: bytes) -> int:
    """The HJ 212 CRC16 of a data segment (its UTF-8 bytes); ``b""`` gives 0xFFFF."""
    n = len(segment)
    if n == 0:
        return 0xFFFF
    state = 0xFF  # high byte of the initial 0xFFFF
    even = (n - 1) & ~1  # all but the last byte, in pairs, then maybe one more
    if even:
        pair = _PAIR
        # the XOR with the state touches the word's first byte only (low byte if little-endian)
        shift = 0 if _LITTLE else 8
        for word in memoryview(segment)[:even].cast("H"):
            state = pair[word ^ (state << shift)]
    if even < n - 1:
        state = _HIGH[state ^ segment[even]]
    return TABLE[state ^ segment[n - 1]]


def crc_text(segment: bytes) -> bytes:
    """The CRC as sent: 4 upper-case hex digits, high byte first."""
    return b"%04X" % crc16(segment)


def crc16_reference(segment: bytes) -> int:
    """The bitwise algorithm exactly as written in the standard (for tests and the benchmark)."""
    crc = 0xFFFF
    for b in segment:
        crc = (crc >> 8) ^ b
        for _ in range(8):
            lsb = crc & 1
            crc >>= 1
            if lsb:
                crc ^= POLY
    return crc
