"""Sorted document-number sets: the fast paths equal numpy's plain set operations."""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from index.sets import dedupe_sorted, difference, intersect, labelled, sorted_by_number, union, values_at

SIZE = 400
_sets = st.lists(st.lists(st.integers(0, SIZE - 1), max_size=60), max_size=5)


def _sorted(values: list[int]) -> np.ndarray:
    return np.unique(np.array(values, dtype=np.int64))


@settings(max_examples=300, deadline=None)
@given(_sets)
def test_union_equals_numpys_union(lists: list[list[int]]) -> None:
    arrays = [_sorted(v) for v in lists]
    expected = functools.reduce(np.union1d, arrays, np.zeros(0, dtype=np.int64))
    # A size far above the arrays' lengths takes the merge path, a small one the bitmap.
    for size in (SIZE * 100, SIZE):
        got = union(arrays, size)
        assert got.tolist() == expected.tolist()
        assert got.dtype.kind == "i"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-5, 50), max_size=80))
def test_dedupe_sorted_equals_unique_of_a_sorted_array(values: list[int]) -> None:
    a = np.sort(np.array(values, dtype=np.int64))
    assert dedupe_sorted(a).tolist() == np.unique(a).tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, SIZE - 1), max_size=60), st.lists(st.integers(0, SIZE - 1), max_size=60))
def test_intersect_equals_numpys_intersection(a: list[int], b: list[int]) -> None:
    x, y = _sorted(a), _sorted(b)
    for size in (SIZE * 100, SIZE):
        assert intersect(x, y, size).tolist() == np.intersect1d(x, y).tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, SIZE - 1), max_size=60), st.lists(st.integers(0, SIZE - 1), max_size=60))
def test_difference_equals_numpys_difference(a: list[int], b: list[int]) -> None:
    x, y = _sorted(a), _sorted(b)
    for size in (SIZE * 100, SIZE):
        got = difference(x, y, size)
        assert got.tolist() == np.setdiff1d(x, y).tolist()
        assert got.dtype.kind == "i"


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.integers(0, SIZE - 1), st.integers(1, 800).map(lambda k: k / 8), max_size=60),
    st.lists(st.integers(0, SIZE - 1), max_size=60),
)
def test_values_at_equals_a_lookup_of_each_document(posting: dict[int, float], docs: list[int]) -> None:
    ids = np.array(sorted(posting), dtype=np.int64)
    values = np.array([posting[i] for i in sorted(posting)], dtype=np.float32)
    wanted = _sorted(docs)
    expected = [posting.get(d, 0.0) for d in wanted.tolist()]
    for size in (SIZE * 100, SIZE):
        got = values_at(ids, values, wanted, size)
        assert got.tolist() == expected and got.dtype == np.float32


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 3), max_size=SIZE // 4))
def test_labelled_sorts_disjoint_sets_with_the_set_of_each_member(owner: list[int]) -> None:
    groups = [np.flatnonzero(np.array(owner, dtype=np.int64) == k) * 3 for k in range(4)]  # disjoint, sorted
    expected = sorted((int(d), k) for k, g in enumerate(groups) for d in g)
    for size in (SIZE * 100, SIZE):
        members, labels = labelled(groups, size)
        assert list(zip(members.tolist(), labels.tolist())) == expected
        assert members.dtype.kind == "i"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, SIZE - 1), unique=True, max_size=80))
def test_sorted_by_number_equals_an_argsort(nums: list[int]) -> None:
    ids = np.array(nums, dtype=np.int32)
    values = np.arange(len(nums), dtype=np.float32) / 4
    order = np.argsort(ids)
    for size in (SIZE * 100, SIZE):
        got_ids, got_values = sorted_by_number(ids, values, size)
        assert got_ids.tolist() == ids[order].tolist() and got_values.tolist() == values[order].tolist()
        assert got_ids.dtype == np.int32
