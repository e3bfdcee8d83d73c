"""The first page: phrase bonuses checked only where they could reach it rank it as bonuses checked everywhere."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from index.engine import _contenders, _first, _newest

_docs = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 40), min_size=n, max_size=n),  # base scores, in halves (ties happen)
        st.lists(st.integers(0, 3), min_size=n, max_size=n),  # tiers
        st.lists(st.integers(-1, 4), min_size=n, max_size=n),  # groups (-1: none)
        st.lists(st.tuples(st.lists(st.booleans(), min_size=n, max_size=n), st.integers(0, 12)), max_size=3),  # bonuses
        st.permutations(list(range(n))),  # dates, distinct
    )
)


def _key(scores: np.ndarray, when: np.ndarray) -> np.ndarray:
    return np.round(scores.astype(np.float64), 4) * 1e4 * 1e9 + when


@settings(max_examples=400, deadline=None)
@given(_docs, st.integers(1, 12), st.booleans())
def test_bonuses_checked_on_the_contenders_rank_the_page_as_bonuses_checked_everywhere(
    docs: tuple[list[int], list[int], list[int], list[tuple[list[bool], int]], list[int]], wanted: int, grouped: bool
) -> None:
    base_values, tier_values, group_values, bonuses, dates = docs
    base = np.array(base_values, dtype=np.float32) / 2
    tiers = np.array(tier_values, dtype=np.int8)
    group = np.array(group_values, dtype=np.int64) if grouped else None
    when = np.array(dates, dtype=np.float64)
    room = sum(weight / 4 for _, weight in bonuses)
    contenders = _contenders(base, tiers, wanted, room, group)
    everywhere, pruned = base.copy(), base.copy()
    for holders, weight in bonuses:
        held = np.array(holders, dtype=bool)
        everywhere[held] += weight / 4
        pruned[held & contenders] += weight / 4
    page = _first(_key(everywhere, when), tiers, group, wanted)
    assert _first(_key(pruned, when), tiers, group, wanted) == page
    assert all(contenders[i] for i in page)
    assert len(page) == min(wanted, len(set(range(len(base))) if group is None else _units(group)))


def _units(group: np.ndarray) -> list[int]:
    """What a collapsed list shows at most: one entry per group, one per ungrouped document."""
    return sorted(set(int(g) for g in group if g >= 0)) + [-1 - i for i, g in enumerate(group) if g < 0]


def test_without_room_only_the_page_and_its_ties_are_contenders() -> None:
    base = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 3.0], dtype=np.float32)
    tiers = np.array([0, 0, 0, 0, 1, 1], dtype=np.int8)
    assert _contenders(base, tiers, 2, 0.0, None).tolist() == [True, True, False, False, False, False]
    assert _contenders(base, tiers, 5, 0.0, None).tolist() == [True, True, True, True, False, True]
    # Room for 1.5 more: the third of the tier may still overtake the second.
    assert _contenders(base, tiers, 2, 1.5, None).tolist() == [True, True, True, False, False, False]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.booleans()), max_size=60), st.integers(1, 70))
def test_the_newest_picked_then_sorted_equal_everything_sorted_by_date(docs: list[tuple[int, bool]], wanted: int) -> None:
    # By date, equal dates (often: a day's notices) newest document number first, as a full sort has them.
    when = np.array([w * 10_000 + 101 for w, _ in docs], dtype=np.int64)  # yyyymmdd-like, many ties
    docnums = np.arange(len(docs), dtype=np.int64) * 3
    keep = np.array([k for _, k in docs], dtype=bool)
    order = np.lexsort((-docnums, -when))
    expected = order[keep[order]][:wanted]
    assert _newest(when, docnums, np.flatnonzero(keep), wanted).tolist() == expected.tolist()
