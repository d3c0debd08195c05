"""Status: a value against its (paced) bounds, and the roll-up of several statuses."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from ..params.objectives import ROLLUPS, points_to_unit
from ..vocab import Status

_SEVERITY = {Status.ON_TRACK: 0, Status.AT_RISK: 1, Status.OFF_TRACK: 2}


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def tolerance_band(tolerance: tuple[str, float], reference: float, unit: str) -> float:
    """How far (KPI scale) a value may miss ``reference`` and still be at risk.

    ``tolerance`` is ``("relative", share)`` or ``("points", amount)``, as
    :func:`~kpitools.params.objectives.parse_tolerance` gives it.
    """
    kind, amount = tolerance
    if kind == "points":
        return points_to_unit(amount, unit)
    return amount * abs(reference)


def assess(
    value: float | None,
    low: float | None,
    high: float | None,
    tolerance: tuple[str, float],
    unit: str,
) -> tuple[Status, float | None, float | None]:
    """Status, gap and relative gap of ``value`` against the bounds ``[low, high]``.

    One bound is a one-sided target (at least ``low``, at most ``high``); both are a range.
    The gap is ``value - bound`` for a one-sided target; for a range, value minus the missed
    bound, 0 inside. The relative gap divides it by the bound's magnitude (None when 0).
    A missing value is :attr:`Status.UNKNOWN`, with no gap.
    """
    if value is None:
        return Status.UNKNOWN, None, None
    if low is not None and value < low and not _close(value, low):
        miss, ref = low - value, low
    elif high is not None and value > high and not _close(value, high):
        miss, ref = value - high, high
    else:
        miss, ref = None, None
    if low is not None and high is not None:
        gap_ref = ref
        gap = 0.0 if ref is None else value - ref
    else:
        gap_ref = low if low is not None else high
        if gap_ref is None:
            raise ValueError("a target needs a lower or an upper bound")
        gap = value - gap_ref
    rel = gap / abs(gap_ref) if gap_ref not in (None, 0) else (0.0 if gap == 0 else None)
    if miss is None:
        return Status.ON_TRACK, gap, rel
    assert ref is not None  # a bound was missed
    band = tolerance_band(tolerance, ref, unit)
    status = Status.AT_RISK if (miss <= band or _close(miss, band)) else Status.OFF_TRACK
    return status, gap, rel


def rollup(statuses: Iterable[str], rule: str = "worst") -> Status:
    """Combine statuses by ``worst`` or ``majority`` (see :mod:`kpitools.objectives`).

    >>> str(rollup(["on_track", "at_risk", "off_track"], "worst"))
    'off_track'
    >>> str(rollup(["on_track", "on_track", "off_track"], "majority"))
    'on_track'
    >>> str(rollup(["on_track", "unknown"], "worst"))
    'unknown'
    """
    items = [Status(s) for s in statuses]
    if rule not in ROLLUPS:
        raise ValueError(f"unknown roll-up rule {rule!r}; choose {' or '.join(ROLLUPS)}")
    known = [s for s in items if s != Status.UNKNOWN]
    if not known:
        return Status.UNKNOWN
    if rule == "worst":
        result = max(known, key=_SEVERITY.__getitem__)
    else:
        counts = Counter(known)
        result = max(counts, key=lambda s: (counts[s], _SEVERITY[s]))
    if result == Status.ON_TRACK and len(known) < len(items):
        return Status.UNKNOWN
    return result


__all__ = ["assess", "rollup", "tolerance_band"]
