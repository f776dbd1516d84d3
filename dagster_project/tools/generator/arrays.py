"""Vectorised numpy helpers: enum codes, categorical draws, group offsets, stable multi-key sorts."""
from __future__ import annotations

import numpy as np
import pandas as pd


def codes(values, *names) -> tuple[int, ...]:
    """Each name's position in ``values`` (an enum of the contract): the code the arrays hold.

    Raises ValueError when the contract no longer has one of the names."""
    return tuple(values.index(name) for name in names)


def per_value(mapping: dict, values) -> list:
    """``mapping``'s entries in the order of ``values`` (an enum of the contract), e.g. the share
    of each ticket channel; raises ValueError unless its keys are exactly those values."""
    if set(mapping) != set(values):
        raise ValueError(f"expected one entry per value of {tuple(values)}, got {tuple(mapping)}")
    return [mapping[v] for v in values]


def offsets(counts: np.ndarray) -> np.ndarray:
    """Start position of each group in a flat array holding ``counts[i]`` items of group i."""
    off = np.zeros(len(counts), dtype=np.int64)
    if len(counts) > 1:
        np.cumsum(counts[:-1], out=off[1:])
    return off


def scramble(x: np.ndarray, mod: int = 10**8) -> np.ndarray:
    """Bijection of [0, mod) used to make unique phone numbers."""
    return (x.astype(np.int64) * 48271 + 12345) % mod


def cat_choice(rng, probs, n) -> np.ndarray:
    """``n`` draws of a category index (int8) with the given (unnormalised) probabilities."""
    p = np.asarray(probs, dtype=float)
    cum = np.cumsum(p / p.sum())
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(p) - 1).astype(np.int8)


def rowwise_choice(rng, cum_rows: np.ndarray, row_idx: np.ndarray) -> np.ndarray:
    """Pick a column per row from per-row cumulative probabilities."""
    u = rng.random(len(row_idx))
    return (u[:, None] > cum_rows[row_idx]).sum(axis=1)


def argsort_keys(*keys) -> np.ndarray:
    """Stable argsort by several integer keys (first = most significant).

    Keys are packed into one int64 when they fit (much faster than np.lexsort on
    CPUs without SIMD sort); ties keep input order, so the result is the same on
    every platform."""
    keys = [np.asarray(k, dtype=np.int64) for k in keys]
    n = len(keys[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    packed = np.zeros(n, dtype=np.int64)
    bits_used = 0
    for k in keys:
        lo = int(k.min())
        width = max(1, int(k.max()) - lo).bit_length()
        if bits_used + width > 62:
            return np.lexsort(tuple(reversed(keys)))
        packed = (packed << width) | (k - lo)
        bits_used += width
    return np.argsort(packed, kind="stable")


def frame(**cols) -> pd.DataFrame:
    """A DataFrame over the given arrays, without copying them."""
    return pd.DataFrame({k: np.asarray(v) for k, v in cols.items()}, copy=False)
