"""Encoding HJ 212 frames, and the platform's answers (../shared/reference/hj212_2017.md §5.3).

Answers echo the QN, PW and MN of the frame answered, with ``ST=91`` and ``Flag = version << 2``
(4 for HJ 212-2017: no answer, no split; 0 for an HJ/T 212-2005 unit, an envmon rule).
"""

from __future__ import annotations

from pipeline.hj212.codes import COMMANDS, Answer
from pipeline.hj212.crc import crc_text
from pipeline.hj212.packet import Header, Packet


def encode_frame(segment: str) -> bytes:
    """``##`` LLLL segment CCCC CR LF; LLLL counts the segment's UTF-8 bytes."""
    data = segment.encode("utf-8")
    if len(data) > 9999:
        raise ValueError(f"a data segment of {len(data)} bytes does not fit LLLL")
    return b"##%04d%b%b\r\n" % (len(data), data, crc_text(data))


def answer_segment(header: Header, cn: str, cp: str = "") -> str:
    """The data segment of an answer to ``header`` (``cp``: the items between ``&&``)."""
    pw = "" if header.pw is None else f"PW={header.pw};"
    return f"QN={header.qn};ST=91;CN={cn};{pw}MN={header.mn};Flag={header.version << 2};CP=&&{cp}&&"


def request_answer(header: Header, qn_rtn: int) -> bytes:
    """9011 (field unit -> platform: the request was received; QnRtn, table 7)."""
    return encode_frame(answer_segment(header, "9011", f"QnRtn={qn_rtn}"))


def execution_answer(header: Header, exe_rtn: int) -> bytes:
    """9012 (field unit -> platform: the request's result; ExeRtn, table 6)."""
    return encode_frame(answer_segment(header, "9012", f"ExeRtn={exe_rtn}"))


def response_for(packet: Packet) -> bytes | None:
    """What the platform sends back to a valid frame: 9014 to an upload and 9013 to a
    notification when Flag bit A asks for it (each split part is answered), else nothing."""
    header = packet.header
    if not header.ack_required:
        return None
    answer = COMMANDS[header.cn][1]  # type: ignore[index]
    if answer is Answer.NONE:
        return None
    return encode_frame(answer_segment(header, answer.value))
