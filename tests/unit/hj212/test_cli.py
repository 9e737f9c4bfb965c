"""``envmon hj212 decode`` output, and the ``envmon simulate`` group keeping its old usage."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pipeline.cli import app
from tests.unit.hj212.vectors import (
    AIR_RTD_2011,
    AIR_RTD_ANSWER,
    LEGACY_2005,
    WATER_SPLIT_1,
    WATER_SPLIT_1_ANSWER,
    WATER_SPLIT_2,
    WATER_SPLIT_2_ANSWER,
)

runner = CliRunner()


def decode(data: bytes, *args: str) -> tuple[int, list[dict]]:
    result = runner.invoke(app, ["hj212", "decode", *args], input=data, env={})
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()]


def test_decode_reference_packets() -> None:
    code, docs = decode(b"AT\r\n" + AIR_RTD_2011 + WATER_SPLIT_2 + WATER_SPLIT_1 + LEGACY_2005)
    assert code == 1  # the junk was rejected
    junk, rtd, part2, part1, legacy = docs
    assert junk == {
        "accept": False,
        "reason": "missing_header",
        "detail": "4 bytes before '##'",
        "kind": None,
        "header": None,
        "data_time": None,
        "values": None,
        "fields": None,
        "station": None,
        "duplicate": False,
        "response": None,
    }
    assert rtd["accept"] is True and "reason" not in rtd
    assert rtd["kind"] == "realtime" and rtd["station"] == "1356A"
    assert rtd["header"] == {
        "QN": "20250601100000123",
        "ST": "22",
        "CN": "2011",
        "PW": "123456",
        "MN": "440300A0990001A000000009",
        "Flag": 5,
        "version": 1,
        "ack_required": True,
        "split": False,
        "PNUM": None,
        "PNO": None,
    }
    assert rtd["data_time"] == "2025-06-01T10:00:00+08:00"
    assert rtd["values"]["a34004"] == {"Rtd": 28.4, "Flag": "N"}
    assert rtd["response"].encode() == AIR_RTD_ANSWER
    assert (part2["header"]["PNUM"], part2["header"]["PNO"]) == (2, 2)
    assert part2["response"].encode() == WATER_SPLIT_2_ANSWER
    assert part1["response"].encode() == WATER_SPLIT_1_ANSWER
    assert legacy["header"]["version"] == 0 and legacy["response"] is None
    assert legacy["values"]["011"] == {"Rtd": 45.2, "Flag": "N"}


def test_decode_without_registry_accepts_any_mn() -> None:
    frame = AIR_RTD_2011.replace(b"A000000009", b"A999999999")
    assert decode(frame)[1][0]["reason"] == "unknown_station"
    code, (doc,) = decode(frame, "--no-registry")
    assert code == 0 and doc["accept"] and doc["station"] is None
    assert doc["response"].startswith("##0087QN=20250601100000123;ST=91;CN=9014;")


def test_decode_reports_an_incomplete_split_at_the_end() -> None:
    code, (part, missing) = decode(WATER_SPLIT_1)
    assert code == 1 and part["accept"] and part["response"].encode() == WATER_SPLIT_1_ANSWER
    assert (missing["reason"], missing["header"]["PNO"]) == ("split_incomplete", 1)


def test_decode_marks_a_resend_as_duplicate() -> None:
    _, (first, again) = decode(AIR_RTD_2011 * 2)
    assert (first["duplicate"], again["duplicate"]) == (False, True)
    assert again["response"] == first["response"]


def test_simulate_without_kind_is_all_and_hj212_checks_connect() -> None:
    result = runner.invoke(app, ["simulate", "--speed", "max"], env={})
    assert result.exit_code == 2 and "--speed max needs --to" in result.stderr
    result = runner.invoke(app, ["simulate", "water", "--speed", "max"], env={})
    assert result.exit_code == 2 and "--speed max needs --to" in result.stderr
    result = runner.invoke(app, ["simulate", "hj212", "--connect", "nohost"], env={})
    assert result.exit_code == 2 and "--connect: 'nohost' is not HOST:PORT" in result.stderr
