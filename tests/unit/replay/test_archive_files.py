"""Archive files: frames, a partial last frame cut off before appending and ignored by readers,
records archived twice dropped, corruption named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipeline.archive.files import (
    ArchivedRecord,
    ArchiveError,
    encode_line,
    file_path,
    frame,
    parse_name,
    read_records,
)
from pipeline.archive.writer import DailyFiles, event_ms

KEY = (date(2026, 11, 20), "air", 2)


def lines(offsets: range) -> list[bytes]:
    return [
        encode_line(ArchivedRecord.of(2, o, 1, b"S1", f'{{"o":{o}}}'.encode())) for o in offsets
    ]


def write(files: DailyFiles, offsets: range) -> None:
    for line in lines(offsets):
        files.append(KEY, line)
    files.sync()


def test_records_round_trip_bytes_and_names(tmp_path: Path) -> None:
    files = DailyFiles(tmp_path, "env")
    files.append(KEY, encode_line(ArchivedRecord.of(2, 0, 5, None, b"\xff\x00 not utf-8")))
    files.append(KEY, encode_line(ArchivedRecord.of(2, 1, 6, b"S1", "中文".encode())))
    files.sync()
    files.close()
    path = file_path(tmp_path, "env", *KEY)
    assert parse_name(path) == KEY
    assert [(r.key, r.value) for r in read_records(path)] == [
        (None, b"\xff\x00 not utf-8"),
        (b"S1", "中文".encode()),
    ]


def test_a_partial_frame_is_ignored_then_cut_off_and_repeats_are_dropped(tmp_path: Path) -> None:
    files = DailyFiles(tmp_path, "env")
    write(files, range(0, 10))
    files.close()
    path = file_path(tmp_path, "env", *KEY)
    with open(path, "ab") as fh:  # died while appending
        fh.write(frame(lines(range(10, 20)))[:-5])
    assert [r.o for r in read_records(path)] == list(range(10))
    again = DailyFiles(tmp_path, "env")
    write(again, range(5, 15))  # died after the fsync, before the commit: 5..9 come again
    again.close()
    assert [r.o for r in read_records(path)] == list(range(15))


def test_corruption_is_named(tmp_path: Path) -> None:
    files = DailyFiles(tmp_path, "env")
    write(files, range(0, 50))
    files.close()
    path = file_path(tmp_path, "env", *KEY)
    data = bytearray(path.read_bytes())
    data[20:24] = b"\x00\x01\x02\x03"
    path.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match=f"archive file {path} is corrupt"):
        list(read_records(path))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b'{"v":1,"station":"S1","ts":1763568000000,"interval":60,"values":{}}', 1763568000000),
        (b'{"v":1,"station":"S1","readings":[{"ts":"2025-11-20T00:00:00+08:00"}]}', 1763568000000),
        (b'{"v":1,"station":', None),
        (b'{"v":1,"station":"S1","ts":"yesterday"}', None),
    ],
)
def test_event_time_of_a_message(value: bytes, expected: int | None) -> None:
    assert event_ms(value) == expected
