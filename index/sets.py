"""Sorted arrays of document numbers as sets: union and intersection (by bitmap when they are big),
lookup of documents in a posting, and BM25's IDF, which every engine's postings share."""

from __future__ import annotations

import math

import numpy as np

EMPTY = np.zeros(0, dtype=np.int64)


def union(arrays: list[np.ndarray], size: int) -> np.ndarray:
    """Sorted union of sorted document-number arrays (a bitmap over `size` documents when they are big)."""
    arrays = [a for a in arrays if len(a)]
    if not arrays:
        return EMPTY
    if len(arrays) == 1:
        return arrays[0]
    if sum(len(a) for a in arrays) * 16 < size:
        return np.unique(np.concatenate(arrays))
    mask = np.zeros(size, dtype=bool)
    for a in arrays:
        mask[a] = True
    return np.flatnonzero(mask).astype(np.int64)


def intersect(a: np.ndarray, b: np.ndarray, size: int) -> np.ndarray:
    """Sorted intersection of two sorted document-number arrays."""
    if not len(a) or not len(b):
        return EMPTY
    if (len(a) + len(b)) * 16 < size:
        return np.intersect1d(a, b, assume_unique=True)
    mask = np.zeros(size, dtype=bool)
    mask[a] = True
    return b[mask[b]]


def locate(ids: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of the sorted `docs`: its index in the sorted `ids` (0 when absent), and whether it is there."""
    where = np.searchsorted(ids, docs)
    where[where >= len(ids)] = 0
    return where, ids[where] == docs


def bm25_idf(live: int, df: int) -> float:
    """BM25's IDF of a term held by `df` of `live` documents."""
    return math.log(1 + (live - df + 0.5) / (df + 0.5))
