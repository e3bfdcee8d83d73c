"""Sorted arrays of document numbers as sets: union and intersection, by bitmap when they are big."""

from __future__ import annotations

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
