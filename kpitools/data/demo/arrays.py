"""Small vectorised helpers shared by the table families: time units, Arrow columns,
group expansion and per-customer sorted order times."""

from __future__ import annotations

from math import erf, sqrt

import numpy as np
import pyarrow as pa

DAY = 86_400
HOUR = 3_600
MINUTE = 60


#: SQL type of each canonical column kind in the written tables.
SQL_TYPE = {
    "id": "BIGINT",
    "int": "INTEGER",
    "float": "DOUBLE",
    "string": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
}


def lognormal_mu(mean: np.ndarray | float, sigma: np.ndarray | float):
    """Location parameter of a log-normal with the given mean and log-sd."""
    return np.log(mean) - 0.5 * np.asarray(sigma) ** 2


def normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + erf(x / sqrt(2.0)))


def expand(counts: np.ndarray):
    """Group index and rank within group for ``counts[i]`` repetitions of each ``i``."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    group = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    first = np.cumsum(counts) - counts
    rank = np.arange(total, dtype=np.int64) - np.repeat(first, counts)
    return group, rank


def uniform_between(rng, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Integer seconds uniformly in ``[lo, hi)`` (``lo`` when the interval is empty)."""
    width = np.maximum(hi - lo, 1)
    return lo + np.floor(rng.random(len(lo)) * width).astype(np.int64)


def categorical(codes: np.ndarray, values, mask: np.ndarray | None = None) -> pa.Array:
    """Dictionary-encoded string column from integer codes into ``values``."""
    idx = pa.array(np.asarray(codes, dtype=np.int32), mask=mask)
    return pa.DictionaryArray.from_arrays(idx, pa.array(list(values), type=pa.string()))


def timestamps(seconds: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64), type=pa.timestamp("s"), mask=mask)


def column(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(values, mask=mask)


def row_ids(n: int) -> np.ndarray:
    return np.arange(1, n + 1, dtype=np.int64)


class SortedTimes:
    """Per-customer sorted order times, for the campaign segment queries.

    Keys are ``customer << 32 | seconds since the start of the span``.
    """

    def __init__(self, keys: np.ndarray):
        self.keys = np.sort(keys)

    def add(self, keys: np.ndarray) -> None:
        if len(keys):
            self.keys = np.sort(np.concatenate([self.keys, keys]))

    def _pos(self, cust: np.ndarray, t: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.keys, (cust << 32) | t, side="left")

    def count(self, cust, t1, t2) -> np.ndarray:
        """Orders in ``[t1, t2)``."""
        return self._pos(cust, t2) - self._pos(cust, t1)

    def last_before(self, cust, t) -> np.ndarray:
        """Time of the last order before ``t``; -2**40 when none."""
        if not len(self.keys):
            return np.full(len(cust), -(2**40), dtype=np.int64)
        i = self._pos(cust, t) - 1
        ok = i >= 0
        k = self.keys[np.maximum(i, 0)]
        ok &= (k >> 32) == cust
        return np.where(ok, k & 0xFFFFFFFF, -(2**40))

    def first_from(self, cust, t) -> np.ndarray:
        """Time of the first order at or after ``t``; 2**40 when none."""
        if not len(self.keys):
            return np.full(len(cust), 2**40, dtype=np.int64)
        i = self._pos(cust, t)
        ok = i < len(self.keys)
        k = self.keys[np.minimum(i, len(self.keys) - 1)]
        ok &= (k >> 32) == cust
        return np.where(ok, k & 0xFFFFFFFF, 2**40)
