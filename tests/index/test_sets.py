"""Sorted document-number sets: the fast paths equal numpy's plain set operations."""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from index.sets import dedupe_sorted, intersect, union

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
