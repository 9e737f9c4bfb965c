"""Validating frames (reference §1.5–§2.6): every reason code, and what valid frames yield."""

from __future__ import annotations

from datetime import datetime

import pytest

from pipeline.hj212.crc import crc16
from pipeline.hj212.packet import BEIJING, Invalid, Packet, parse_frame, sniff_mn
from pipeline.hj212.response import encode_frame
from pipeline.messages import RejectReason as R
from tests.unit.hj212.vectors import AIR_RTD_2011, ALL, LEGACY_2005

HEAD = "QN=20250601100000123;ST=22;CN=2011;PW=123456;MN=440300A0990001A000000009;Flag=5;"
CP = "CP=&&DataTime=20250601100000;a34004-Rtd=28.4,a34004-Flag=N&&"


def parse(segment: str) -> Packet | Invalid:
    return parse_frame(encode_frame(segment))


def rejected(segment: str | bytes, max_segment: int = 1024) -> tuple[R, str | None]:
    raw = segment if isinstance(segment, bytes) else encode_frame(segment)
    result = parse_frame(raw, max_segment)
    assert isinstance(result, Invalid), result
    return result.reject.reason, result.reject.field


@pytest.mark.parametrize("frame", ALL, ids=range(len(ALL)))
def test_every_reference_packet_is_valid(frame: bytes) -> None:
    assert isinstance(parse_frame(frame), Packet)


def test_real_time_packet() -> None:
    p = parse_frame(AIR_RTD_2011)
    assert isinstance(p, Packet)
    h = p.header
    assert (h.qn, h.st, h.cn, h.pw, h.mn, h.flag) == (
        "20250601100000123",
        "22",
        "2011",
        "123456",
        "440300A0990001A000000009",
        5,
    )
    assert (h.version, h.ack_required, h.split, h.pnum, h.pno) == (1, True, False, None, None)
    assert p.data_time == datetime(2025, 6, 1, 10, tzinfo=BEIJING)
    assert p.data_time.isoformat() == "2025-06-01T10:00:00+08:00"
    assert p.values["a34004"] == {"Rtd": 28.4, "Flag": "N"}
    assert p.values["a21005"] == {"Rtd": 0.58, "Flag": "N"}


def test_legacy_packet_is_version_0() -> None:
    p = parse_frame(LEGACY_2005)
    assert isinstance(p, Packet)
    assert (p.header.qn, p.header.flag, p.header.version, p.header.ack_required) == (
        None,
        None,
        0,
        False,
    )
    assert p.values["B01"] == {"Rtd": 12.5} and p.values["011"]["Flag"] == "N"


def test_spaces_trimmed_and_unknown_header_fields_kept() -> None:
    p = parse(
        "QN=20250601100000123; ST=22;CN=2011 ;PW=1;MN=M-1_x;Flag=4;Foo=bar;"
        "CP=&& DataTime=20250601100000;a34004-Rtd =1.5 ,a34004-Flag= D;&&"
    )
    assert isinstance(p, Packet), p
    assert p.header.st == "22" and p.header.extra == {"Foo": "bar"}
    assert p.values["a34004"] == {"Rtd": 1.5, "Flag": "D"}


def test_utf8_log_text_keeps_separators() -> None:
    p = parse(
        "QN=20250601100000123;ST=22;CN=3020;PW=1;MN=M1;Flag=4;"
        "CP=&&DataTime=20250601100000;PolId=w01018;i11001-Info=//清洗管路;阀门,已开//&&"
    )
    assert isinstance(p, Packet), p
    assert p.values["i11001"] == {"Info": "清洗管路;阀门,已开"}
    assert p.fields == {"DataTime": "20250601100000", "PolId": "w01018"}


def test_empty_value_is_missing_not_zero() -> None:
    p = parse(HEAD + "CP=&&DataTime=20250601100000;a34004-Rtd=,a34004-Flag=B&&")
    assert isinstance(p, Packet)
    assert p.values["a34004"] == {"Rtd": None, "Flag": "B"}


def test_crc_in_lower_case_is_accepted() -> None:
    n = int(AIR_RTD_2011[2:6])
    lower = AIR_RTD_2011[: 6 + n] + AIR_RTD_2011[6 + n : 10 + n].lower() + b"\r\n"
    assert isinstance(parse_frame(lower), Packet)


def test_data_too_long_and_configurable() -> None:
    segment = HEAD + "CP=&&DataTime=20250601100000;" + "a34004-Rtd=1.0;" * 70 + "&&"
    assert len(segment.encode()) > 1024
    assert rejected(segment) == (R.DATA_TOO_LONG, None)
    assert rejected(HEAD + CP, max_segment=100) == (R.DATA_TOO_LONG, None)


def test_bad_crc() -> None:
    n = int(AIR_RTD_2011[2:6])
    assert rejected(AIR_RTD_2011[: 6 + n] + b"8D02\r\n") == (R.BAD_CRC, None)
    assert rejected(AIR_RTD_2011[: 6 + n] + b"8DG1\r\n") == (R.BAD_CRC, None)


def test_bad_encoding() -> None:
    segment = (HEAD + CP).encode().replace(b"28.4", b"\xff\xfe.4")
    frame = b"##%04d%b%04X\r\n" % (len(segment), segment, crc16(segment))
    assert rejected(frame) == (R.BAD_ENCODING, None)


@pytest.mark.parametrize(
    ("segment", "field"),
    [
        ("QN=20250601100000123;ST=22;CN=2011;PW=1;MN=M1;Flag=5;junk;" + CP, None),
        ("QN=2025060110;ST=22;CN=2011;PW=1;MN=M1;Flag=5;" + CP, "QN"),
        ("QN=20250601100000123;ST=22;CN=201;PW=1;MN=M1;Flag=5;" + CP, "CN"),
        ("QN=20250601100000123;ST=22;CN=2011;PW=1;MN=M1;Flag=x5;" + CP, "Flag"),
        ("QN=20250601100000123;ST=22;CN=2011;PW=1;MN=M1;Flag=256;" + CP, "Flag"),
        ("QN=20250601100000123;ST=22;CN=2011;PW=1;MN=M1;Flag=5;Flag=5;" + CP, "Flag"),
        ("QN=20250601100000123;ST=22;CN=2011;PW=1;MN=M 1;Flag=5;" + CP, "MN"),
        ("QN=20250601100000123;ST=22;CN=2011;PW=1;MN=" + "A" * 25 + ";Flag=5;" + CP, "MN"),
        ("QN=20250601100000123;ST=22;CN=2011;PW=1;MN=M1;Flag=252;" + CP, "Flag"),  # version 63
        ("QN=20250601100000123;ST=22;CN=2011;PW=1;MN=M1;Flag=7;PNUM=12345;PNO=1;" + CP, "PNUM"),
    ],
)
def test_bad_header_field(segment: str, field: str | None) -> None:
    assert rejected(segment) == (R.BAD_HEADER_FIELD, field)


@pytest.mark.parametrize(
    ("segment", "field"),
    [
        ("QN=20250601100000123;CN=2011;PW=1;MN=M1;Flag=5;" + CP, "ST"),
        ("QN=20250601100000123;ST=22;PW=1;MN=M1;Flag=5;" + CP, "CN"),
        ("QN=20250601100000123;ST=22;CN=2011;PW=1;Flag=5;" + CP, "MN"),
        ("QN=20250601100000123;ST=22;CN=2011;PW=1;MN=;Flag=5;" + CP, "MN"),
        ("ST=22;CN=2011;PW=1;MN=M1;Flag=5;" + CP, "QN"),
    ],
)
def test_missing_field(segment: str, field: str) -> None:
    assert rejected(segment) == (R.MISSING_FIELD, field)


def test_qn_may_be_missing_without_answer() -> None:
    assert isinstance(parse("ST=22;CN=2011;PW=1;MN=M1;Flag=4;" + CP), Packet)


def test_unknown_cn() -> None:
    assert rejected(HEAD.replace("CN=2011", "CN=9015") + CP) == (R.UNKNOWN_CN, "CN")


@pytest.mark.parametrize(
    ("cp", "field"),
    [
        ("", "CP"),  # no CP at all
        ("CP=DataTime=20250601100000&&", "CP"),
        ("CP=&&DataTime=20250601100000&&;Foo=1", "CP"),  # CP not last
        ("CP=&&DataTime=20250601100000;a34004-Rtd&&", None),  # item without =
        ("CP=&&DataTime=20250601100000;=3&&", None),  # empty key
        ("CP=&&DataTime=20250601100000;a34004-Rtd=1,a34004-Rtd=2&&", "a34004-Rtd"),
        ("CP=&&DataTime=20250601100000;a34004-Rtd=1.2.3&&", "a34004-Rtd"),
        ("CP=&&DataTime=20250601100000;a34004-Rtd=.5&&", "a34004-Rtd"),
        ("CP=&&DataTime=20250601100000;a34004-Avg=1e3&&", "a34004-Avg"),
        ("CP=&&a34004-Rtd=1.0&&", "DataTime"),  # data command without DataTime
        ("CP=&&DataTime=20250601100000;i11001-Info=//open&&", "i11001-Info"),
        ("CP=&&DataTime=20250601100000;-Rtd=1&&", "-Rtd"),
    ],
)
def test_bad_cp(cp: str, field: str | None) -> None:
    assert rejected(HEAD + cp) == (R.BAD_CP, field)


@pytest.mark.parametrize(
    "cp",
    [
        "CP=&&DataTime=2025060110000&&",
        "CP=&&DataTime=20250631100000&&",
        "CP=&&DataTime=20250601250000&&",
        "CP=&&DataTime=20250601100000;a34004-SampleTime=2025-06-01&&",
    ],
)
def test_bad_datatime(cp: str) -> None:
    assert rejected(HEAD + cp)[0] is R.BAD_DATATIME


@pytest.mark.parametrize(
    ("flag_and_parts", "field"),
    [
        ("Flag=7;", "PNUM"),  # D = 1 without PNUM/PNO
        ("Flag=7;PNUM=2;", "PNO"),
        ("Flag=7;PNUM=x;PNO=1;", "PNUM"),
        ("Flag=7;PNUM=2;PNO=3;", "PNO"),
        ("Flag=7;PNUM=2;PNO=0;", "PNO"),
        ("Flag=7;PNUM=0;PNO=0;", "PNO"),
        ("Flag=5;PNUM=2;PNO=1;", "PNUM"),  # D = 0 with PNUM/PNO
    ],
)
def test_bad_split(flag_and_parts: str, field: str) -> None:
    segment = HEAD.replace("Flag=5;", flag_and_parts) + CP
    assert rejected(segment) == (R.BAD_SPLIT, field)


def test_single_part_split_is_valid() -> None:
    p = parse(HEAD.replace("Flag=5;", "Flag=7;PNUM=1;PNO=1;") + CP)
    assert isinstance(p, Packet) and (p.header.pnum, p.header.pno, p.header.split) == (1, 1, True)


def test_header_of_a_rejected_frame_is_kept() -> None:
    result = parse_frame(encode_frame(HEAD.replace("CN=2011", "CN=9015") + CP))
    assert isinstance(result, Invalid) and result.header is not None
    assert result.header.mn == "440300A0990001A000000009"


def test_mn_of_a_frame_that_failed_validation() -> None:
    assert sniff_mn(AIR_RTD_2011.replace(b"8D01", b"0000")) == "440300A0990001A000000009"
    assert sniff_mn(b"##0010QN=1;MN=;CP=") is None
