import itertools

from hypothesis import given
from hypothesis import strategies as st

from streams.rankings.rank import Scored, rank


def s(subject: str, score: float) -> Scored:
    return Scored(subject, subject, subject, score, 1)


def test_ties_share_a_rank_and_skip_the_next() -> None:
    entries = rank([s("c", 80), s("a", 50), s("b", 50), s("d", 90)], previous={"a": 3, "d": 1})
    assert [(e.subject, e.rank, e.rank_change) for e in entries] == [
        ("a", 1, 2),
        ("b", 1, None),
        ("c", 3, None),
        ("d", 4, -3),
    ]


@given(
    st.lists(
        st.tuples(st.text(min_size=1, max_size=3), st.integers(0, 20)), unique_by=lambda t: t[0]
    )
)
def test_ranks_follow_scores(items: list[tuple[str, int]]) -> None:
    entries = rank([s(k, v) for k, v in items], {})
    for a, b in itertools.pairwise(entries):
        assert a.score <= b.score
        assert (a.rank == b.rank) == (a.score == b.score)
    assert all(e.rank == 1 + sum(x.score < e.score for x in entries) for e in entries)
