"""The platform's side per frame (reference §2.5, §5): answers, device checks, duplicates and
split reassembly in any order with its timeout."""

from __future__ import annotations

import itertools

import pytest

from pipeline.hj212.build import data_frame
from pipeline.hj212.devices import DeviceMap
from pipeline.hj212.frame import Deframer
from pipeline.hj212.packet import parse_frame
from pipeline.hj212.receiver import Outcome, Receiver
from pipeline.hj212.response import encode_frame, execution_answer, request_answer
from pipeline.messages import RejectReason as R
from pipeline.registry import Registry
from tests.unit.hj212.vectors import (
    AIR_HOURLY_2061,
    AIR_RTD_2011,
    AIR_RTD_ANSWER,
    ANSWER_9011,
    ANSWER_9012,
    LEGACY_2005,
    REQUEST_1011,
    UPLOAD_1011,
    WATER_SPLIT_1,
    WATER_SPLIT_1_ANSWER,
    WATER_SPLIT_2,
    WATER_SPLIT_2_ANSWER,
)

AIR_MN = "440300A0990001A000000009"
WATER_MN = "440300B0990001B000000009"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def devices() -> DeviceMap:
    return DeviceMap.load(Registry.load())


def receive(receiver: Receiver, *frames: bytes) -> list[Outcome]:
    return [receiver.receive(p) for f in frames for p in Deframer().feed(f)]


def test_answers_of_the_reference(devices: DeviceMap) -> None:
    receiver = Receiver(devices)
    a, s1, s2 = receive(receiver, AIR_RTD_2011, WATER_SPLIT_1, WATER_SPLIT_2)
    assert a.response == AIR_RTD_ANSWER
    assert (s1.response, s2.response) == (WATER_SPLIT_1_ANSWER, WATER_SPLIT_2_ANSWER)


@pytest.mark.parametrize(
    "frame", [REQUEST_1011, UPLOAD_1011, ANSWER_9011, ANSWER_9012, AIR_RTD_ANSWER, LEGACY_2005]
)
def test_no_answer(devices: DeviceMap, frame: bytes) -> None:
    (out,) = receive(Receiver(devices), frame)
    assert out.accepted and out.response is None


def test_flag_without_answer_bit_gets_none(devices: DeviceMap) -> None:
    frame = AIR_RTD_2011.replace(b"Flag=5", b"Flag=4")
    n = len(frame) - 12
    frame = encode_frame(frame[6 : 6 + n].decode())
    (out,) = receive(Receiver(devices), frame)
    assert out.accepted and out.response is None and out.record is not None


def test_notification_gets_9013_and_version_0_gets_flag_0() -> None:
    segment = "QN=20250601100000123;ST=22;CN=1013;PW=123456;MN={};Flag={};CP=&&&&"
    (v1,) = receive(Receiver(None), encode_frame(segment.format(AIR_MN, 5)))
    assert v1.response == encode_frame(
        f"QN=20250601100000123;ST=91;CN=9013;PW=123456;MN={AIR_MN};Flag=4;CP=&&&&"
    )
    (v0,) = receive(Receiver(None), encode_frame(segment.format("88888880000001", 1)))
    assert v0.response is not None and b"CN=9013;PW=123456;MN=88888880000001;Flag=0;" in v0.response


def test_request_and_execution_answers_of_the_reference() -> None:
    header = parse_frame(REQUEST_1011).header  # type: ignore[union-attr]
    header.flag = 4
    assert request_answer(header, 1) == ANSWER_9011
    assert execution_answer(header, 1) == ANSWER_9012


def test_unknown_station_and_bad_password(devices: DeviceMap) -> None:
    receiver = Receiver(devices)
    unknown = AIR_RTD_2011.replace(AIR_MN.encode(), b"440300A0990001A999999999")
    wrong_pw = encode_frame(AIR_RTD_2011[6:-6].decode().replace("PW=123456", "PW=654321"))
    out_unknown, out_pw = receive(receiver, unknown, wrong_pw)
    assert (out_unknown.reject.reason, out_unknown.response) == (R.UNKNOWN_STATION, None)  # type: ignore[union-attr]
    assert (out_pw.reject.reason, out_pw.response) == (R.BAD_PASSWORD, None)  # type: ignore[union-attr]
    (no_registry,) = receive(Receiver(None), unknown)
    assert no_registry.accepted


def test_version_2_needs_a_station_opt_in(devices: DeviceMap) -> None:
    frame = encode_frame(AIR_RTD_2011[6:-6].decode().replace("Flag=5", "Flag=9"))
    for receiver in (Receiver(None), Receiver(devices)):
        (out,) = receive(receiver, frame)
        assert out.reject is not None and (out.reject.reason, out.reject.field) == (
            R.BAD_HEADER_FIELD,
            "Flag",
        )


def test_duplicate_after_commit_is_answered_without_record(devices: DeviceMap) -> None:
    receiver = Receiver(devices)
    (first,) = receive(receiver, AIR_HOURLY_2061)
    assert first.record is not None and first.keys
    (before_commit,) = receive(receiver, AIR_HOURLY_2061)
    assert before_commit.record is not None  # not delivered yet: processed again
    receiver.commit(first.keys)
    new_qn = AIR_HOURLY_2061[6:-6].decode().replace("QN=20250601100005001", "QN=20250601100015001")
    for again in receive(receiver, AIR_HOURLY_2061, encode_frame(new_qn)):
        assert again.duplicate and again.record is None and again.response is not None


def test_dedupe_capacity_is_bounded(devices: DeviceMap) -> None:
    receiver = Receiver(devices, dedupe_capacity=3)
    receiver.commit(tuple(("m", "2011", str(i), None) for i in range(10)))
    assert len(receiver._seen) == 3


def split_parts(pnum: int) -> list[bytes]:
    codes = ["w01001", "w01010", "w01009", "w01014", "w01003", "w01019"]
    per = -(-len(codes) // pnum)
    return [
        data_frame(
            qn=f"2025060112001210{pno}",
            st="21",
            cn="2061",
            pw="123456",
            mn=WATER_MN,
            items=[("DataTime", "20250601080000")]
            + [(f"{c}-Avg", f"{i}.5") for i, c in enumerate(codes[(pno - 1) * per : pno * per])]
            + [(f"{c}-Flag", "N") for c in codes[(pno - 1) * per : pno * per]],
            part=(pnum, pno),
        )
        for pno in range(1, pnum + 1)
    ]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_split_reassembly_in_any_order(devices: DeviceMap, order: tuple[int, ...]) -> None:
    parts = split_parts(3)
    receiver = Receiver(devices)
    outs = receive(receiver, *(parts[i] for i in order))
    assert all(o.accepted and o.response is not None for o in outs)
    assert [o.record is not None for o in outs] == [False, False, True]
    record = outs[-1].record
    assert record is not None
    assert set(record.values) == {"w01001", "w01010", "w01009", "w01014", "w01003", "w01019"}
    assert record.header.pno == 1 and record.raw == b"".join(parts)
    assert len(outs[-1].keys) == 3


def test_split_retransmit_and_conflict(devices: DeviceMap) -> None:
    receiver = Receiver(devices)
    p1, p2 = split_parts(2)
    _first, again = receive(receiver, p1, p1)
    assert again.duplicate and again.response is not None and again.record is None
    # part 2 again, also carrying part 1's w01001-Avg with another value
    conflicting = data_frame(
        qn="20250601120012109",
        st="21",
        cn="2061",
        pw="123456",
        mn=WATER_MN,
        items=[("DataTime", "20250601080000"), ("w01001-Avg", "7.0")],
        part=(2, 2),
    )
    (bad,) = receive(receiver, conflicting)
    assert bad.reject is not None and bad.reject.reason is R.BAD_CP and bad.response is None
    (done,) = receive(receiver, p2)
    assert done.record is not None


def test_reference_split_record_equals_the_whole_record(devices: DeviceMap) -> None:
    from tests.unit.hj212.vectors import WATER_2061

    (whole,) = receive(Receiver(devices), WATER_2061)
    *_, merged = receive(Receiver(devices), WATER_SPLIT_2, WATER_SPLIT_1)
    assert merged.record is not None and whole.record is not None
    assert merged.record.values == whole.record.values


def test_split_timeout_dead_letters_every_part(devices: DeviceMap) -> None:
    clock = Clock()
    receiver = Receiver(devices, split_timeout_s=120, clock=clock)
    p1, _p2, p3 = split_parts(3)
    receive(receiver, p3, p1)
    clock.now = 119.9
    assert receiver.expire() == []
    clock.now = 120.0
    expired = receiver.expire()
    assert [o.reject.reason for o in expired] == [R.SPLIT_INCOMPLETE] * 2  # type: ignore[union-attr]
    assert [o.raw for o in expired] == [p1, p3]
    assert receiver.splits.waiting == 0
