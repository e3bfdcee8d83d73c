"""Sorted arrays of document numbers as sets: union and intersection (by bitmap when they are big),
lookup of documents in a posting, BM25's IDF, and per-document columns as codes, which every
engine's readers share."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

EMPTY = np.zeros(0, dtype=np.int64)


def dedupe_sorted(a: np.ndarray) -> np.ndarray:
    """A sorted array without its repeats. (`np.unique` hashes first, whatever the order: on sorted
    runs of document numbers it was 10-30 times slower than comparing neighbours.)"""
    if len(a) < 2:
        return a
    keep = np.empty(len(a), dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a if keep.all() else a[keep]


def union(arrays: list[np.ndarray], size: int) -> np.ndarray:
    """Sorted union of sorted document-number arrays (a bitmap over `size` documents when they are big)."""
    arrays = [a for a in arrays if len(a)]
    if not arrays:
        return EMPTY
    if len(arrays) == 1:
        return arrays[0]
    if sum(len(a) for a in arrays) * 16 < size:
        merged = np.concatenate(arrays)
        merged.sort(kind="stable")  # a merge of the sorted runs
        return dedupe_sorted(merged)
    mask = np.zeros(size, dtype=bool)
    for a in arrays:
        mask[a] = True
    return np.flatnonzero(mask).astype(np.result_type(*arrays))  # the arrays' own integer type


def intersect(a: np.ndarray, b: np.ndarray, size: int) -> np.ndarray:
    """Sorted intersection of two sorted document-number arrays."""
    if not len(a) or not len(b):
        return EMPTY
    if (len(a) + len(b)) * 16 < size:
        return np.intersect1d(a, b, assume_unique=True)
    mask = np.zeros(size, dtype=bool)
    mask[a] = True
    return b[mask[b]]


def difference(a: np.ndarray, b: np.ndarray, size: int) -> np.ndarray:
    """The sorted members of `a` not in `b` (both sorted; by bitmap when they are big: `np.setdiff1d`
    sorts both together, about ten times the bitmap's cost at a million documents)."""
    if not len(a) or not len(b):
        return a
    if (len(a) + len(b)) * 16 < size:
        return np.setdiff1d(a, b, assume_unique=True)
    mask = np.zeros(size, dtype=bool)
    mask[b] = True
    return a[~mask[a]]


def values_at(ids: np.ndarray, values: np.ndarray, docs: np.ndarray, size: int) -> np.ndarray:
    """The value of each of the sorted `docs` in a posting (sorted `ids` with their `values`), 0 where
    a document is not in it. Big ones through an array over all `size` documents: a binary search
    of each document was about nine times slower at a million documents."""
    if not len(ids) or (len(ids) + len(docs)) * 16 < size:
        out = np.zeros(len(docs), dtype=values.dtype)
        if not len(ids):
            return out
        where, present = locate(ids, docs)
        out[present] = values[where[present]]
        return out
    dense = np.zeros(size, dtype=values.dtype)
    dense[ids] = values
    return dense[docs]


def sorted_by_number(nums: np.ndarray, values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct document numbers with a value each (as a query's hits come, by score), in number
    order. Many are placed through an array over all `size` documents, in one pass: sorting half a
    million took about ten times as long."""
    if len(nums) * 16 < size:
        order = np.argsort(nums, kind="stable")
        return nums[order], values[order]
    at = np.full(size, -1, dtype=np.int64)
    at[nums] = np.arange(len(nums))
    ordered = np.flatnonzero(at >= 0)
    return ordered.astype(nums.dtype, copy=False), values[at[ordered]]


def labelled(groups: list[np.ndarray], size: int) -> tuple[np.ndarray, np.ndarray]:
    """The members of disjoint sorted arrays, sorted, with the index of the array holding each."""
    total = sum(len(g) for g in groups)
    if total * 16 < size:
        members = np.concatenate(groups) if groups else EMPTY
        order = np.argsort(members, kind="stable")
        labels = np.repeat(np.arange(len(groups), dtype=np.int8), [len(g) for g in groups])
        return members[order].astype(np.int64), labels[order]
    label = np.full(size, -1, dtype=np.int8)
    for i, g in enumerate(groups):
        label[g] = i
    members = np.flatnonzero(label >= 0)
    return members, label[members]


def locate(ids: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of the sorted `docs`: its index in the sorted `ids` (0 when absent), and whether it is there."""
    where = np.searchsorted(ids, docs)
    where[where >= len(ids)] = 0
    return where, ids[where] == docs


def bm25_idf(live: int, df: int) -> float:
    """BM25's IDF of a term held by `df` of `live` documents."""
    return math.log(1 + (live - df + 0.5) / (df + 0.5))


def code_values(raw: list[Any]) -> tuple[list[str], np.ndarray]:
    """A column of one value per document as (its distinct values, sorted as text; each document's
    index into them, -1 for None)."""
    values = sorted({v for v in raw if v is not None}, key=str)
    index = {v: i for i, v in enumerate(values)}
    codes = np.fromiter((index.get(v, -1) for v in raw), dtype=np.int32, count=len(raw))
    return [str(v) for v in values], codes


def code_keys(keys: np.ndarray, label: Callable[[int], str]) -> tuple[list[str], np.ndarray]:
    """`code_values` of the column `[label(k) for k in keys]`, computed over the integer keys (`label`
    one-to-one), without a Python object per document."""
    distinct, inverse = np.unique(keys, return_inverse=True)
    labels = [label(int(k)) for k in distinct]
    order = sorted(range(len(labels)), key=labels.__getitem__)
    rank = np.empty(len(labels), dtype=np.int32)
    rank[order] = np.arange(len(labels), dtype=np.int32)
    return [labels[i] for i in order], rank[inverse.reshape(-1)].astype(np.int32)
