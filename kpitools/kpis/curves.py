"""Curves behind two sales KPIs, where one number per period is not enough (seed 002).

- :func:`compute_touch_response`: the response rate of the 1st, 2nd, 3rd ... outbound touch to
  a lead ("if customers stop answering after four attempts, spend less time on them"); the
  scalar KPI is ``touches_to_convert``.
- :func:`compute_response_time_conversion`: lead conversion by delay to first contact ("in real
  estate a prospect thinks less of your offer after barely 20 minutes"); the scalar KPIs are
  ``lead_response_minutes`` and ``lead_response_target_rate``.

Both run inside the database (one query each, a few rows back) over the leads created in the
last ``periods`` periods ending with the report's period, in the brand and its product lines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import pandas as pd

from ..data.sources import Database
from ..errors import KpitoolsError
from ..params import BrandParams
from ..periods import TREND_LENGTH, Period
from .compute import resolve_period
from .definitions.common import flag, seconds_between

__all__ = [
    "DEFAULT_DELAY_BOUNDS",
    "ResponseTimeConversion",
    "TouchResponse",
    "compute_response_time_conversion",
    "compute_touch_response",
]

#: Upper bounds (minutes, inclusive) of the first-contact delay classes: up to 5 minutes,
#: 5 to 10, ... 4 hours to 1 day, then over a day.
DEFAULT_DELAY_BOUNDS = (5, 10, 20, 30, 60, 120, 240, 1440)


def _window(
    db: Database, params: BrandParams, period: Period | str | None, periods: int
) -> tuple[Period, Period]:
    if int(periods) < 1:
        raise KpitoolsError(f"periods must be at least 1, not {periods!r}")
    last = resolve_period(db, params, period)
    return last.trailing(int(periods))[0], last


@dataclass
class TouchResponse:
    """Response rate by touch number, for the leads created from ``first`` to ``last``.

    Attributes
    ----------
    brand : str
    first, last : Period
        First and last period of lead creation.
    frame : pandas.DataFrame
        One row per touch number ``k`` (1 to ``max_touch``) reached by at least one lead:
        ``touch_number``; ``leads_touched``, leads that got a ``k``-th outbound touch;
        ``responses``, those whose ``k``-th touch is marked ``responded``; ``response_rate``
        (``responses / leads_touched``); ``share_of_responses``, the share of all responses
        (to touches 1 to ``max_touch``) that came by touch ``k`` (cumulative).
    max_touch : int
    """

    brand: str
    first: Period
    last: Period
    frame: pd.DataFrame
    max_touch: int

    def to_dict(self) -> dict[str, Any]:
        """Window, maximum touch, and one record per touch number."""
        return {
            "brand": self.brand,
            "first": self.first.label,
            "last": self.last.label,
            "max_touch": self.max_touch,
            "rows": self.frame.to_dict(orient="records"),
        }

    def last_useful_touch(self, min_rate: float = 0.05, min_leads: int = 30) -> int | None:
        """The touch after which leads stop answering.

        Parameters
        ----------
        min_rate : float
            Response rate below which a touch is not worth making (default 5 %).
        min_leads : int
            Touch numbers reached by fewer leads are too noisy to decide on.

        Returns
        -------
        int or None
            ``k - 1`` for the first touch number ``k`` whose response rate is below
            ``min_rate`` (0: not even the first touch is answered), looking at touch numbers in
            order and stopping at the first one reached by fewer than ``min_leads`` leads;
            the last touch number looked at when none falls below; None when the first touch
            itself has too few leads.
        """
        useful = None
        for row in self.frame.itertuples():
            if row.leads_touched < min_leads:
                break
            if row.response_rate < min_rate:
                return int(row.touch_number) - 1
            useful = int(row.touch_number)
        return useful


def compute_touch_response(
    db: Database,
    params: BrandParams,
    period: Period | str | None = None,
    *,
    periods: int = TREND_LENGTH,
    max_touch: int = 10,
) -> TouchResponse:
    """Response rate of each successive outbound touch to the leads of the last periods.

    A lead's touches are its outbound activities (``activities`` with its ``lead_id`` and
    ``direction = 'outbound'``, any type), numbered by ``occurred_at`` (ties by
    ``activity_id``); touches after the end of the report's period are not counted. A touch
    whose ``responded`` is NULL counts as not answered.

    Parameters
    ----------
    db : kpitools.data.Database
    params : kpitools.params.BrandParams
    period : Period or str, optional
        The report's period (default as for :func:`~kpitools.kpis.compute.compute_kpis`).
    periods : int
        Leads created in this many periods ending with ``period`` (default 12).
    max_touch : int
        Touch numbers beyond this one are left out.

    Returns
    -------
    TouchResponse

    Raises
    ------
    MissingTableError
        When the source has no ``leads`` or no ``activities`` table.
    """
    first, last = _window(db, params, period, periods)
    start, end = first.start_ts(), last.end_ts()
    lead = db.table("leads")
    lead = lead.filter((lead.created_at >= start) & (lead.created_at < end))
    lead = lead.select(window_lead=lead.lead_id)
    a = db.table("activities")
    a = a.filter(a.lead_id.notnull() & (a.direction == "outbound") & (a.occurred_at < end))
    a = a.inner_join(lead, a.lead_id == lead.window_lead)
    order = ibis.window(group_by=a.lead_id, order_by=[a.occurred_at, a.activity_id])
    a = a.mutate(touch_number=ibis.row_number().over(order) + 1)
    a = a.filter(a.touch_number <= int(max_touch))
    rows = (
        a.group_by("touch_number")
        .aggregate(leads_touched=a.count(), responses=flag(a.responded))
        .order_by("touch_number")
        .execute()
    )
    frame = pd.DataFrame(
        {
            "touch_number": rows["touch_number"].astype("int64"),
            "leads_touched": rows["leads_touched"].astype("int64"),
            "responses": rows["responses"].astype("int64"),
        }
    )
    frame["response_rate"] = frame["responses"] / frame["leads_touched"]
    total = frame["responses"].sum()
    frame["share_of_responses"] = frame["responses"].cumsum() / total if total else float("nan")
    return TouchResponse(db.brand or "", first, last, frame.reset_index(drop=True), int(max_touch))


@dataclass
class ResponseTimeConversion:
    """Lead conversion by delay to first contact, for the leads created from ``first`` to
    ``last``.

    Attributes
    ----------
    brand : str
    first, last : Period
    frame : pandas.DataFrame
        One row per delay class, in order, then a ``not contacted`` row: ``delay``
        (label), ``lower_minutes`` (exclusive; 0 for the first class) and ``upper_minutes``
        (inclusive; ``inf`` for the last), ``leads``, ``converted_leads`` (within
        ``settings.conversion_window_days``, as ``lead_conversion_rate``), ``conversion_rate``
        and ``share_of_leads``. Classes without leads have 0 leads and no rate.
    conversion_window_days : int
    """

    brand: str
    first: Period
    last: Period
    frame: pd.DataFrame
    conversion_window_days: int

    def to_dict(self) -> dict[str, Any]:
        """Window, conversion window, and one record per delay class."""
        return {
            "brand": self.brand,
            "first": self.first.label,
            "last": self.last.label,
            "conversion_window_days": self.conversion_window_days,
            "rows": self.frame.to_dict(orient="records"),
        }

    def _contacted(self) -> pd.DataFrame:
        return self.frame[self.frame["delay"] != "not contacted"]

    def _bound(self, minutes: float) -> None:
        if float(minutes) not in set(self._contacted()["upper_minutes"]):
            raise KpitoolsError(
                f"{minutes} minutes is not a bound of the delay classes "
                f"({', '.join(f'{b:g}' for b in self._contacted()['upper_minutes'])})"
            )

    def conversion_within(self, minutes: float) -> float | None:
        """Conversion rate of the leads first contacted at most ``minutes`` after creation
        (``minutes`` must be one of the class bounds)."""
        self._bound(minutes)
        rows = self._contacted()
        rows = rows[rows["upper_minutes"] <= float(minutes)]
        return _rate(rows)

    def conversion_after(self, minutes: float) -> float | None:
        """Conversion rate of the leads first contacted more than ``minutes`` after creation."""
        self._bound(minutes)
        rows = self._contacted()
        rows = rows[rows["lower_minutes"] >= float(minutes)]
        return _rate(rows)


def _rate(rows: pd.DataFrame) -> float | None:
    n = rows["leads"].sum()
    return float(rows["converted_leads"].sum() / n) if n else None


def _label(lo: float, hi: float) -> str:
    def m(x: float) -> str:
        if x >= 1440 and x % 1440 == 0:
            return f"{x / 1440:g} d"
        if x >= 60 and x % 60 == 0:
            return f"{x / 60:g} h"
        return f"{x:g} min"

    if math.isinf(hi):
        return f"> {m(lo)}"
    return f"≤ {m(hi)}" if lo == 0 else f"{m(lo)} – {m(hi)}"


def compute_response_time_conversion(
    db: Database,
    params: BrandParams,
    period: Period | str | None = None,
    *,
    periods: int = TREND_LENGTH,
    bounds: Sequence[float] = DEFAULT_DELAY_BOUNDS,
) -> ResponseTimeConversion:
    """Conversion rate of leads by how fast they were first contacted.

    Delay is ``first_response_at - created_at`` in minutes; a lead without ``first_response_at``
    (or with one before ``created_at``) is *not contacted*. A lead converts when its
    ``converted_at`` falls within ``settings.conversion_window_days`` of its creation (the
    definition of ``lead_conversion_rate``). The brand's ``settings.lead_response_target_minutes``
    is always one of the bounds, so that :meth:`ResponseTimeConversion.conversion_within` can
    compare leads answered within the target with the others.

    Parameters
    ----------
    db, params, period, periods :
        As for :func:`compute_touch_response`.
    bounds : sequence of float
        Upper bounds (minutes, inclusive) of the delay classes; a last class holds longer
        delays.

    Returns
    -------
    ResponseTimeConversion

    Raises
    ------
    MissingTableError
        When the source has no ``leads`` table.
    """
    target = float(params.settings.lead_response_target_minutes)
    edges = sorted({float(b) for b in bounds if float(b) > 0} | {target})
    first, last = _window(db, params, period, periods)
    start, end = first.start_ts(), last.end_ts()
    days = int(params.settings.conversion_window_days)
    lead = db.table("leads")
    lead = lead.filter((lead.created_at >= start) & (lead.created_at < end))
    contacted = lead.first_response_at.notnull() & (lead.first_response_at >= lead.created_at)
    minutes = seconds_between(lead.created_at, lead.first_response_at) / 60
    cls = ibis.cases(*((minutes <= e, i) for i, e in enumerate(edges)), else_=len(edges))
    converted = (
        lead.converted_at.notnull()
        & (lead.converted_at >= lead.created_at)
        & (lead.converted_at < lead.created_at + ibis.interval(days=days))
    )
    lead = lead.mutate(delay_class=ibis.ifelse(contacted, cls, -1), _converted=converted)
    rows = (
        lead.group_by("delay_class")
        .aggregate(leads=lead.count(), converted_leads=flag(lead._converted))
        .execute()
    )
    got = {int(r.delay_class): (int(r.leads), int(r.converted_leads)) for r in rows.itertuples()}
    lows = [0.0, *edges]
    highs = [*edges, math.inf]
    records = []
    for i, (lo, hi) in enumerate(zip(lows, highs, strict=True)):
        n, c = got.get(i, (0, 0))
        records.append((_label(lo, hi), lo, hi, n, c))
    n, c = got.get(-1, (0, 0))
    records.append(("not contacted", math.nan, math.nan, n, c))
    frame = pd.DataFrame(
        records,
        columns=["delay", "lower_minutes", "upper_minutes", "leads", "converted_leads"],
    )
    frame["conversion_rate"] = frame["converted_leads"] / frame["leads"].where(frame["leads"] > 0)
    total = frame["leads"].sum()
    frame["share_of_leads"] = frame["leads"] / total if total else math.nan
    return ResponseTimeConversion(db.brand or "", first, last, frame, days)
