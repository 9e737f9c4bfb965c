"""Rank subjects by score, smaller is better (AQI, composite index, CWQI).

Equal scores share a rank and the next rank is skipped (1, 2, 2, 4): "指数相同的城市以并列计"
(城市环境空气质量排名技术规定, 2018). ``rank_change`` is the previous rank minus the new one
(positive = improved), None for a subject not ranked before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipeline.messages import RankEntry


@dataclass(frozen=True, slots=True)
class Scored:
    subject: str
    name_zh: str
    name_en: str
    score: float
    valid_stations: int


def rank(scored: Sequence[Scored], previous: Mapping[str, int]) -> list[RankEntry]:
    ordered = sorted(scored, key=lambda s: (s.score, s.subject))
    entries: list[RankEntry] = []
    for position, s in enumerate(ordered, start=1):
        shared = entries and entries[-1].score == s.score
        rank_ = entries[-1].rank if shared else position
        before = previous.get(s.subject)
        entries.append(
            RankEntry(
                subject=s.subject,
                name_zh=s.name_zh,
                name_en=s.name_en,
                rank=rank_,
                score=s.score,
                rank_change=None if before is None else before - rank_,
                valid_stations=s.valid_stations,
            )
        )
    return entries
