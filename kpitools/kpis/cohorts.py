"""Cohort activity ("cohort retention"): of the customers acquired in a period, the share who
bought in the period k periods on.

This is a purchase-activity matrix, not the retention of the customer base: a customer who
skips a period counts as not buying in it and may buy again later (the report's heading says
"share of each acquisition cohort that bought in each later period"). The retention and churn
of the base by the lapse rule are the ``retention_rate`` and ``churn_rate`` KPIs.

One query: orders are rolled up per customer and period in the database
(:meth:`QueryContext.customer_periods`), then counted per (first period, period); only that
small table (at most 12 × 12 cells) comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..data.sources import Database
from ..params import BrandParams
from ..periods import MONTHS_PER, Period
from .compute import QueryContext, resolve_period


@dataclass
class CohortRetention:
    """Cohort retention matrix.

    Attributes
    ----------
    period : Period
        The report's period (the last column of the matrix).
    sizes : pandas.Series
        Customers acquired in each cohort period (index: cohort label).
    rates : pandas.DataFrame
        Rows: cohort (acquisition period label); columns: periods since acquisition (0, 1, …);
        values: share of the cohort with at least one order in that period (0..1), NaN where the
        period lies after the report's period.
    """

    period: Period
    sizes: pd.Series
    rates: pd.DataFrame
    locale: str = "en"

    def to_dict(self) -> dict[str, Any]:
        """Period, cohort sizes and the retention matrix (``{cohort: {age: rate}}``)."""
        return {
            "period": self.period.label,
            "sizes": {str(k): int(v) for k, v in self.sizes.items()},
            "rates": {
                str(c): {int(a): v for a, v in row.items()}
                for c, row in self.rates.to_dict(orient="index").items()
            },
        }


def compute_cohort_retention(
    db: Database,
    params: BrandParams,
    period: Period | str | None = None,
    *,
    cohorts: int = 12,
) -> CohortRetention:
    """Share of each acquisition cohort with at least one order in each following period.

    Parameters
    ----------
    db : kpitools.data.sources.Database
        Needs table ``orders``.
    params : kpitools.params.BrandParams
    period : Period or str, optional
        The last period shown (default: as for :func:`compute_kpis`).
    cohorts : int
        Number of cohorts (acquisition periods) shown, ending with ``period``.

    Returns
    -------
    CohortRetention

    Raises
    ------
    MissingTableError
        When the source has no ``orders`` table.
    """
    period = resolve_period(db, params, period)
    first = period.shift(-(cohorts - 1))
    ctx = QueryContext(
        db=db,
        grain=period.grain,
        periods=[period.shift(-k) for k in range(cohorts - 1, -1, -1)],
        settings=params.settings,
    )
    cp = ctx.customer_periods(first_period=True)
    cp = cp.filter(cp.first_period >= first.start_ts())
    counts = (
        cp.group_by(cohort=cp.first_period, period=cp.period)
        .aggregate(customers=cp.count())
        .execute()
    )
    labels = {pd.Timestamp(p.start): p.label for p in ctx.periods}
    index = [p.label for p in ctx.periods]
    if counts.empty:
        return CohortRetention(period, pd.Series(0, index=index), pd.DataFrame(index=index))
    counts["cohort"] = pd.to_datetime(counts["cohort"]).dt.tz_localize(None)
    counts["period"] = pd.to_datetime(counts["period"]).dt.tz_localize(None)
    months = MONTHS_PER[period.grain]
    counts["age"] = (
        (counts["period"].dt.year - counts["cohort"].dt.year) * 12
        + counts["period"].dt.month
        - counts["cohort"].dt.month
    ) // months
    counts["cohort"] = counts["cohort"].map(lambda ts: labels.get(pd.Timestamp(ts)))
    counts = counts.dropna(subset=["cohort"])
    table = counts.pivot_table(index="cohort", columns="age", values="customers", aggfunc="sum")
    table = table.reindex(index=index, columns=range(cohorts))
    sizes = table[0].fillna(0)
    rates = table.div(sizes.where(sizes > 0), axis=0)
    for i, label in enumerate(index):  # ages beyond the report period are unknown, not zero
        if not sizes.loc[label] > 0:
            continue
        observable = cohorts - i
        rates.loc[label, [a for a in rates.columns if a < observable]] = rates.loc[
            label, [a for a in rates.columns if a < observable]
        ].fillna(0.0)
    keep = sizes > 0  # periods before the data start have no cohort at all
    sizes, rates = sizes[keep], rates[keep]
    rates.columns.name = "periods_since_acquisition"
    return CohortRetention(period, sizes.astype(int), rates, locale=params.locale)
