"""The campaign funnel: sent -> delivered -> opened -> clicked -> purchased, and unsubscriptions.

Seed 002 ("taux de conversion de l'entonnoir"): how many messages were delivered, opened and
clicked, how many contacted customers bought, how many unsubscribed, per campaign or per
channel. The counts come from one database query over ``campaigns``, ``campaign_members`` and
``orders`` (see :func:`kpitools.kpis.definitions.marketing.member_outcomes` for the exact step
and attribution rules); the rates are computed on that small result.

The campaigns of a period are those whose ``starts_at`` falls in it; their members' events
count whenever they happen, so the funnel of a recent period still grows until the campaigns'
outcome windows (``starts_at`` to ``ends_at`` + ``roi.attribution_days``, default 30 days)
have closed. The funnel totals of a
period equal the period's values of the funnel KPIs (``delivery_rate``, ``open_rate``,
``click_rate``, ``purchase_rate``, ``unsubscribe_rate``, ``campaign_response_rate``,
``attributed_campaign_revenue``, the ``attributed_revenue`` column: last-touch attributed,
not incremental, revenue; incremental revenue comes from the ROI analysis).

This module computes numbers only; report tables and plots format them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from ..data.sources import Database
from ..errors import KpitoolsError, MissingTableError
from ..params import BrandParams
from ..periods import YEAR_LAG, Period
from .compute import resolve_period
from .definitions.common import safe_div
from .definitions.marketing import attribution_window, funnel_aggregates, member_outcomes

TABLES = ("campaigns", "campaign_members", "orders")
BY = ("campaign", "channel")

#: Funnel steps in order (``purchased`` is measured on every contacted member, not only on
#: clickers: customers buy through any channel).
STEPS = ("sent", "delivered", "opened", "clicked", "purchased")

#: Rate name -> (numerator, denominator).
RATES = {
    "delivery_rate": ("delivered", "sent"),
    "open_rate": ("opened", "delivered"),
    "click_rate": ("clicked", "opened"),
    "purchase_rate": ("purchased", "sent"),
    "unsubscribe_rate": ("unsubscribed", "delivered"),
    "response_rate": ("responded", "sent"),
}

COUNTS = (
    "members",
    "control",
    "sent",
    "delivered",
    "opened",
    "clicked",
    "purchased",
    "unsubscribed",
    "responded",
    "attributed_orders",
)

_KEYS = {
    "campaign": ("campaign_id", "name", "channel", "product_line", "starts_at", "ends_at"),
    "channel": ("channel",),
}


def add_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the step rates (:data:`RATES`) to a frame of funnel counts; NaN where undefined."""
    out = frame.copy()
    for name, (num, den) in RATES.items():
        out[name] = safe_div(out[num], out[den])
    return out


def compute_funnel(
    db: Database,
    params: BrandParams,
    period: Period | str | None = None,
    *,
    by: str = "campaign",
    trailing: int | Literal["year"] = 1,
) -> pd.DataFrame:
    """Funnel counts and step rates of the campaigns that started in a period.

    Parameters
    ----------
    db : kpitools.data.Database
        The brand's data; needs ``campaigns``, ``campaign_members`` and ``orders``.
    params : kpitools.params.BrandParams
        Grain; ``roi.attribution_days`` (default 30) sets the outcome window.
    period : Period or str, optional
        Default ``params.period.current``, else the latest complete period in the data.
    trailing : int or "year"
        Number of periods ending with ``period`` whose campaigns are counted; ``"year"``: the
        periods of the last year (12 months, 4 quarters or 1 year), for a channel comparison
        that one month of campaigns cannot give.
    by : {"campaign", "channel"}
        One row per campaign (``campaign_id, name, channel, product_line, starts_at,
        ends_at``) or per channel (with ``campaigns``, the number of campaigns).

    Returns
    -------
    pandas.DataFrame
        The keys, then counts of members: ``members`` (treatment and control), ``control``,
        ``sent`` (contacted treatment members), ``delivered``, ``opened``, ``clicked``,
        ``purchased`` (ordered in the outcome window), ``unsubscribed``, ``responded``;
        ``attributed_orders`` and ``attributed_revenue`` (last touch, currency units); and the
        rates of :data:`RATES` (fractions; NaN when the denominator is 0). Campaigns without
        members are absent. ``frame.attrs`` holds ``period`` (label) and ``by``. Empty (with
        these columns) when no campaign started in the period.

    Raises
    ------
    MissingTableError
        When one of the three tables is absent.
    """
    if by not in BY:
        raise KpitoolsError(f"funnel by {by!r}: choose one of {', '.join(BY)}")
    for name in TABLES:
        if not db.has(name):
            raise MissingTableError(name, needed_by="the campaign funnel")
    period = resolve_period(db, params, period)
    if trailing == "year":
        trailing = YEAR_LAG[period.grain]
    first = period.shift(-(max(int(trailing), 1) - 1))
    t = member_outcomes(
        db.table,
        first.start_ts(),
        period.end_ts(),
        attribution_window(params),
    )
    keys = _KEYS[by]
    aggs = funnel_aggregates(t)
    if by == "channel":
        aggs = {"campaigns": t.campaign_id.nunique(), **aggs}
    df = t.group_by(list(keys)).aggregate(**aggs).execute()

    counts = (["campaigns"] if by == "channel" else []) + list(COUNTS)
    columns = list(keys) + counts + ["attributed_revenue"] + list(RATES)
    if df.empty:
        df = pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    else:
        for c in counts:
            df[c] = df[c].fillna(0).astype("int64")
        df["attributed_revenue"] = df["attributed_revenue"].astype("float64")
    df = add_rates(df)
    sort = ["starts_at", "campaign_id"] if by == "campaign" else ["channel"]
    df = df[columns].sort_values(sort, kind="stable").reset_index(drop=True)
    label = period.label if first == period else f"{first.label} – {period.label}"
    df.attrs.update(period=label, by=by)
    return df


@dataclass
class Funnel:
    """The funnel of one period's campaigns (see :func:`compute_funnel`).

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per campaign or channel.
    period : Period
    by : str
    """

    frame: pd.DataFrame
    period: Period
    by: str

    @classmethod
    def compute(
        cls,
        db: Database,
        params: BrandParams,
        period: Period | str | None = None,
        *,
        by: str = "campaign",
        trailing: int | Literal["year"] = 1,
    ) -> Funnel:
        """:func:`compute_funnel`, kept with its period and grouping."""
        period = resolve_period(db, params, period)
        return cls(compute_funnel(db, params, period, by=by, trailing=trailing), period, by)

    @property
    def label(self) -> str:
        """The periods whose campaigns are counted (``2025-03``, ``2025-01 – 2025-12``)."""
        return self.frame.attrs.get("period", self.period.label)

    @property
    def empty(self) -> bool:
        return self.frame.empty

    def total(self) -> pd.Series:
        """Counts summed over the rows, with the rates recomputed (not averaged)."""
        cols = [c for c in ("campaigns", *COUNTS, "attributed_revenue") if c in self.frame]
        sums = self.frame[cols].sum().to_frame().T
        if "campaigns" not in sums:
            sums.insert(0, "campaigns", len(self.frame))
        return add_rates(sums).iloc[0]

    def steps(self) -> pd.DataFrame:
        """Long table for a funnel chart: one row per (group, step).

        Columns: ``group`` (campaign name or channel; ``"total"`` for the whole period),
        ``step`` (:data:`STEPS`), ``count``, ``share_of_sent`` and ``step_rate`` (the count over
        the previous step's; for ``purchased``, over ``sent``).
        """
        label = "name" if self.by == "campaign" else "channel"
        parts = [(str(r[label]), r) for _, r in self.frame.iterrows()]
        if not self.frame.empty:
            parts.append(("total", self.total()))
        rows = []
        for group, r in parts:
            for i, step in enumerate(STEPS):
                prev = "sent" if step in ("sent", "purchased") else STEPS[i - 1]
                rows.append(
                    {
                        "group": group,
                        "step": step,
                        "count": float(r[step]),
                        "share_of_sent": _ratio(r[step], r["sent"]),
                        "step_rate": _ratio(r[step], r[prev]),
                    }
                )
        return pd.DataFrame(rows, columns=["group", "step", "count", "share_of_sent", "step_rate"])

    def to_dict(self) -> dict[str, Any]:
        """Period, grouping, and one record per row (NaN rates as they are)."""
        return {
            "period": self.label,
            "by": self.by,
            "rows": self.frame.to_dict(orient="records"),
        }


def _ratio(num, den) -> float:
    return float(num) / float(den) if den else float("nan")
