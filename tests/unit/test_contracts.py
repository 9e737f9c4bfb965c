"""The contracts under ``tests/contracts/`` are verbatim copies of ``../shared/contracts/``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

COPIES = Path(__file__).resolve().parents[1] / "contracts"
PUBLISHED = Path(__file__).resolve().parents[3] / "shared" / "contracts"


def _copies() -> list[Path]:
    return sorted(p for p in COPIES.rglob("*.json"))


def test_every_copy_is_listed_with_its_checksum() -> None:
    grafana = COPIES / "grafana"
    listed = {}
    for line in (grafana / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        listed[(grafana / name).resolve()] = digest
    for path in _copies():
        if grafana in path.parents:
            assert hashlib.sha256(path.read_bytes()).hexdigest() == listed[path], path


@pytest.mark.skipif(not PUBLISHED.is_dir(), reason="../shared/contracts is not on this machine")
@pytest.mark.parametrize("copy", _copies(), ids=lambda p: str(p.relative_to(COPIES)))
def test_copy_equals_the_published_contract(copy: Path) -> None:
    assert copy.read_bytes() == (PUBLISHED / copy.relative_to(COPIES)).read_bytes()
