"""Validating a deframed HJ 212 frame: length, CRC, encoding, header fields and the CP data area.

../shared/reference/hj212_2017.md §1.5–§2.6 with its envmon rules: header fields by name
(case-sensitive, spaces trimmed, unknown ones kept, CP last), MN ``[0-9A-Za-z_-]{1,24}``, QN
required when Flag asks for an answer, Flag absent = version 0, split fields consistent with Flag
bit D, CP items split on ``;`` then ``,`` (``//…//`` log texts kept whole), measurement values
``[+-]?digits[.digits]`` or empty (missing), DataTime required on data commands and a real date.
Every rejection carries the reference's reason code. Times are Asia/Shanghai (UTC+8).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from pipeline.hj212.codes import COMMANDS, NEEDS_DATATIME, NUMERIC_SUFFIXES, TIME_FIELDS
from pipeline.hj212.codes import TIME_SUFFIXES as _TIME_SUFFIXES
from pipeline.hj212.crc import crc16
from pipeline.hj212.frame import MAX_SEGMENT
from pipeline.messages.reasons import Reject, RejectReason

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")  # no DST since 1991
FLAG_ANSWER = 1  # bit A
FLAG_SPLIT = 2  # bit D
KNOWN_VERSIONS = (0, 1, 2)  # HJ/T 212-2005, HJ 212-2017, HJ 212-2025 (needs a station opt-in)

_QN = re.compile(r"\d{17}")
_CN = re.compile(r"\d{4}")
_FLAG = re.compile(r"\d{1,3}")
_MN = re.compile(r"[0-9A-Za-z_-]{1,24}")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_HEX4 = re.compile(rb"[0-9A-Fa-f]{4}")
_TIME = re.compile(r"\d{14}")

Value = float | str | None


@dataclass(slots=True)
class Header:
    """The header fields as sent (None: absent); ``extra`` keeps unknown fields."""

    qn: str | None = None
    st: str | None = None
    cn: str | None = None
    pw: str | None = None
    mn: str | None = None
    flag: int | None = None
    pnum: int | None = None
    pno: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def version(self) -> int:
        """Flag bits 2–7: 0 HJ/T 212-2005 (also when Flag is absent), 1 HJ 212-2017."""
        return 0 if self.flag is None else self.flag >> 2

    @property
    def ack_required(self) -> bool:
        return self.flag is not None and bool(self.flag & FLAG_ANSWER)

    @property
    def split(self) -> bool:
        return self.flag is not None and bool(self.flag & FLAG_SPLIT)


@dataclass(slots=True)
class Packet:
    """A valid frame: its header, the CP items as sent, measurements by factor code and suffix
    (numbers as floats, empty values as None, flags and texts as strings), the plain CP fields
    and DataTime."""

    raw: bytes
    header: Header
    items: dict[str, str]  # CP key -> value, as sent (trimmed, log delimiters removed)
    values: dict[str, dict[str, Value]]  # factor code -> suffix -> value
    fields: dict[str, str]  # plain CP fields (DataTime, RtdInterval, QnRtn, …)
    data_time: datetime | None


@dataclass(frozen=True, slots=True)
class Invalid:
    """A frame that failed validation; ``header`` holds what was parsed before the failure."""

    reject: Reject
    raw: bytes
    header: Header | None = None


class _Bad(Exception):
    def __init__(self, reason: RejectReason, field: str | None, detail: str) -> None:
        self.reject = Reject(reason, field, detail)


def parse_time(text: str, name: str) -> datetime:
    """``YYYYMMDDhhmmss`` in Beijing time, or ``bad_datatime``."""
    if not _TIME.fullmatch(text):
        raise _Bad(RejectReason.BAD_DATATIME, name, f"{name}={text!r} is not 14 digits")
    try:
        return datetime(
            int(text[:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10]),
            int(text[10:12]),
            int(text[12:14]),
            tzinfo=BEIJING,
        )
    except ValueError:
        raise _Bad(RejectReason.BAD_DATATIME, name, f"{name}={text} is not a date") from None


_SNIFF_MN = re.compile(rb"(?:^|;)\s*MN\s*=\s*([0-9A-Za-z_-]{1,24})\s*;")


def sniff_mn(raw: bytes) -> str | None:
    """The MN in bytes that failed validation, when one can be seen (to key dead letters)."""
    match = _SNIFF_MN.search(raw)
    return match.group(1).decode() if match else None


def parse_frame(raw: bytes, max_segment: int = MAX_SEGMENT) -> Packet | Invalid:
    """Validate one frame as cut by the deframer (``##`` LLLL segment CCCC CR LF); never raises."""
    header = Header()
    try:
        return _parse(raw, max_segment, header)
    except _Bad as bad:
        return Invalid(bad.reject, raw, header if header.cn or header.mn else None)


def _parse(raw: bytes, max_segment: int, header: Header) -> Packet:
    n = int(raw[2:6])
    if n > max_segment:
        raise _Bad(RejectReason.DATA_TOO_LONG, None, f"LLLL={n} > {max_segment}")
    segment = raw[6 : 6 + n]
    sent = raw[6 + n : 10 + n]
    if not _HEX4.fullmatch(sent):
        raise _Bad(RejectReason.BAD_CRC, None, f"CRC {sent!r} is not 4 hex digits")
    computed = crc16(segment)
    if int(sent, 16) != computed:
        raise _Bad(RejectReason.BAD_CRC, None, f"CRC {sent.decode()} != computed {computed:04X}")
    try:
        text = segment.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Bad(RejectReason.BAD_ENCODING, None, f"not UTF-8 at byte {exc.start}") from None
    cp = _header(text, header)
    _check_header(header)
    items = _cp_items(cp)
    values, fields, data_time = _classify(items)
    if data_time is None and header.cn in NEEDS_DATATIME:
        raise _Bad(RejectReason.BAD_CP, "DataTime", f"CN={header.cn} needs DataTime")
    return Packet(raw, header, items, values, fields, data_time)


def _header(text: str, header: Header) -> str:
    """Fill ``header`` from the items before CP; return the CP value (everything after
    ``CP=``)."""
    seen: dict[str, str] = {}
    pos, end = 0, len(text)
    while pos < end:
        semi = text.find(";", pos)
        if semi < 0:
            semi = end
        eq = text.find("=", pos, semi)
        if eq < 0:
            raise _Bad(
                RejectReason.BAD_HEADER_FIELD, None, f"header item {text[pos:semi]!r} has no '='"
            )
        name = text[pos:eq].strip()
        if name == "CP":
            _set_fields(header, seen)
            return text[eq + 1 :]
        if name in seen:
            raise _Bad(RejectReason.BAD_HEADER_FIELD, name, f"{name} appears twice")
        seen[name] = text[eq + 1 : semi].strip()
        pos = semi + 1
    _set_fields(header, seen)
    raise _Bad(RejectReason.BAD_CP, "CP", "no CP=&&…&& data area")


def _set_fields(header: Header, seen: dict[str, str]) -> None:
    for name, value in seen.items():
        if name == "QN":
            if not _QN.fullmatch(value):
                raise _Bad(RejectReason.BAD_HEADER_FIELD, "QN", f"QN={value!r} is not 17 digits")
            header.qn = value
        elif name == "CN":
            if not _CN.fullmatch(value):
                raise _Bad(RejectReason.BAD_HEADER_FIELD, "CN", f"CN={value!r} is not 4 digits")
            header.cn = value
        elif name == "Flag":
            if not _FLAG.fullmatch(value) or int(value) > 255:
                raise _Bad(RejectReason.BAD_HEADER_FIELD, "Flag", f"Flag={value!r} not 0–255")
            header.flag = int(value)
        elif name == "MN":
            if value and not _MN.fullmatch(value):
                raise _Bad(
                    RejectReason.BAD_HEADER_FIELD, "MN", f"MN={value!r}: not [0-9A-Za-z_-]{{1,24}}"
                )
            header.mn = value or None
        elif name == "ST":
            header.st = value or None
        elif name == "PW":
            header.pw = value
        elif name in ("PNUM", "PNO"):
            header.extra[name] = value  # checked with Flag in _check_header
        else:
            header.extra[name] = value


def _check_header(header: Header) -> None:
    for name in ("ST", "CN", "MN"):
        if getattr(header, name.lower()) is None:
            raise _Bad(RejectReason.MISSING_FIELD, name, f"{name} is missing")
    if header.qn is None and header.ack_required:
        raise _Bad(RejectReason.MISSING_FIELD, "QN", "QN is missing but Flag asks for an answer")
    if header.version not in KNOWN_VERSIONS:
        raise _Bad(RejectReason.BAD_HEADER_FIELD, "Flag", f"Flag={header.flag}: unknown version")
    if header.cn not in COMMANDS:
        raise _Bad(RejectReason.UNKNOWN_CN, "CN", f"CN={header.cn} is not in HJ 212-2017 table 9")
    pnum, pno = header.extra.pop("PNUM", None), header.extra.pop("PNO", None)
    if not header.split:
        if pnum is not None or pno is not None:
            raise _Bad(RejectReason.BAD_SPLIT, "PNUM", "PNUM/PNO without Flag bit D")
        return
    for name, value in (("PNUM", pnum), ("PNO", pno)):
        if value is None or not value.isascii() or not value.isdigit():
            raise _Bad(RejectReason.BAD_SPLIT, name, f"Flag bit D set but {name}={value!r}")
        if len(value) > 4:
            raise _Bad(RejectReason.BAD_HEADER_FIELD, name, f"{name}={value} has over 4 digits")
    header.pnum, header.pno = int(pnum), int(pno)  # type: ignore[arg-type]
    if header.pnum < 1 or header.pno < 1 or header.pno > header.pnum:
        raise _Bad(RejectReason.BAD_SPLIT, "PNO", f"PNO={header.pno} of PNUM={header.pnum}")


def _cp_items(cp: str) -> dict[str, str]:
    """The CP items (``&&`` removed) as key -> value, keys and values trimmed."""
    cp = cp.strip()
    if len(cp) < 4 or not cp.startswith("&&") or not cp.endswith("&&"):
        raise _Bad(RejectReason.BAD_CP, "CP", "CP is not &&…&& or not last")
    body = cp[2:-2]
    pairs = _split_logs(body) if "//" in body else _split(body)
    items: dict[str, str] = {}
    for key, value in pairs:
        if not key:
            raise _Bad(RejectReason.BAD_CP, None, f"empty key (value {value!r})")
        if key in items:
            raise _Bad(RejectReason.BAD_CP, key, f"{key} appears twice")
        items[key] = value
    return items


def _split(body: str) -> list[tuple[str, str]]:
    pairs = []
    for group in body.split(";"):
        for item in group.split(","):
            key, eq, value = item.partition("=")
            if not eq:
                if item.strip():
                    raise _Bad(RejectReason.BAD_CP, None, f"CP item {item!r} has no '='")
                continue  # empty group, e.g. a trailing ';'
            pairs.append((key.strip(), value.strip()))
    return pairs


def _split_logs(body: str) -> list[tuple[str, str]]:
    """Like ``_split``, but a value starting with ``//`` runs to the next ``//`` (log texts may
    contain ``;`` and ``,``); the delimiters are removed."""
    pairs = []
    i, end = 0, len(body)
    while i < end:
        eq = body.find("=", i)
        sep = _next_sep(body, i)
        if eq < 0 or eq > sep:
            if body[i:sep].strip():
                raise _Bad(RejectReason.BAD_CP, None, f"CP item {body[i:sep]!r} has no '='")
            i = sep + 1
            continue
        key = body[i:eq].strip()
        start = eq + 1
        while start < end and body[start] == " ":
            start += 1
        if body.startswith("//", start):
            close = body.find("//", start + 2)
            if close < 0:
                raise _Bad(RejectReason.BAD_CP, key, f"{key}: log text without closing //")
            value = body[start + 2 : close]
            sep = _next_sep(body, close + 2)
            if body[close + 2 : sep].strip():
                raise _Bad(RejectReason.BAD_CP, key, f"{key}: text after the closing //")
        else:
            sep = _next_sep(body, start)
            value = body[start:sep].strip()
        pairs.append((key, value))
        i = sep + 1
    return pairs


def _next_sep(body: str, start: int) -> int:
    ends = [i for i in (body.find(";", start), body.find(",", start)) if i >= 0]
    return min(ends) if ends else len(body)


def _classify(
    items: dict[str, str],
) -> tuple[dict[str, dict[str, Value]], dict[str, str], datetime | None]:
    values: dict[str, dict[str, Value]] = {}
    fields: dict[str, str] = {}
    data_time = None
    for key, text in items.items():
        code, dash, suffix = key.partition("-")
        if not dash:
            if key in TIME_FIELDS:
                when = parse_time(text, key)
                if key == "DataTime":
                    data_time = when
            fields[key] = text
            continue
        if not code or not suffix:
            raise _Bad(RejectReason.BAD_CP, key, f"{key!r}: not code-suffix")
        value: Value = text
        if suffix in NUMERIC_SUFFIXES:
            if not text:
                value = None  # missing, not zero
            elif _NUMBER.fullmatch(text):
                value = float(text)
            else:
                raise _Bad(RejectReason.BAD_CP, key, f"{key}={text!r} is not a number")
        elif suffix in _TIME_SUFFIXES and text:
            parse_time(text, key)
        per_code = values.get(code)
        if per_code is None:
            values[code] = {suffix: value}
        else:
            per_code[suffix] = value
    return values, fields, data_time
