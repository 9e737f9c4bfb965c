"""Building the frames a data logger sends (the device simulator, tests and benchmarks)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from pipeline.hj212.packet import BEIJING, FLAG_ANSWER, FLAG_SPLIT
from pipeline.hj212.response import encode_frame

Items = Sequence[tuple[str, str]]  # CP items in order: (key, value)


def hj_time(when: datetime) -> str:
    """``YYYYMMDDhhmmss`` in Beijing time."""
    return when.astimezone(BEIJING).strftime("%Y%m%d%H%M%S")


def qn_of(when: datetime) -> str:
    """A QN: ``YYYYMMDDhhmmsszzz`` in Beijing time."""
    local = when.astimezone(BEIJING)
    return local.strftime("%Y%m%d%H%M%S") + f"{local.microsecond // 1000:03d}"


def measurement_items(
    values: Mapping[str, Mapping[str, str]],
) -> list[tuple[str, str]]:
    """``{code: {suffix: text}}`` as CP items ``code-suffix=text``, code by code."""
    return [
        (f"{code}-{suffix}", text)
        for code, items in values.items()
        for suffix, text in items.items()
    ]


def data_segment(
    *,
    qn: str | None,
    st: str,
    cn: str,
    pw: str,
    mn: str,
    items: Items,
    ack: bool = True,
    version: int = 1,
    part: tuple[int, int] | None = None,  # (PNUM, PNO)
) -> str:
    """A data segment; CP groups the items of one factor code with ``,`` (reference §2.6)."""
    flag = version << 2 | (FLAG_ANSWER if ack else 0) | (FLAG_SPLIT if part else 0)
    groups: list[str] = []
    last_code = None
    for key, value in items:
        code = key.partition("-")[0] if "-" in key else None
        text = f"{key}={value}"
        if code is not None and code == last_code:
            groups[-1] += "," + text
        else:
            groups.append(text)
        last_code = code
    head = f"QN={qn};" if qn is not None else ""
    split = f"PNUM={part[0]};PNO={part[1]};" if part else ""
    return f"{head}ST={st};CN={cn};PW={pw};MN={mn};Flag={flag};{split}CP=&&{';'.join(groups)}&&"


def data_frame(**kwargs: object) -> bytes:
    """One frame: :func:`data_segment` framed with its length and CRC."""
    return encode_frame(data_segment(**kwargs))  # type: ignore[arg-type]


def split_items(head: Items, items: Items, per_part: int) -> list[list[tuple[str, str]]]:
    """The CP items of each part: ``head`` (DataTime) repeated in every part, then up to
    ``per_part`` factor codes each; a code's items stay in one part (the standard splits by
    pollutant)."""
    codes: list[list[tuple[str, str]]] = []
    for key, value in items:
        code = key.partition("-")[0]
        if codes and codes[-1][0][0].partition("-")[0] == code:
            codes[-1].append((key, value))
        else:
            codes.append([(key, value)])
    parts = [codes[i : i + per_part] for i in range(0, len(codes), per_part)] or [[]]
    return [[*head, *(item for code in part for item in code)] for part in parts]
