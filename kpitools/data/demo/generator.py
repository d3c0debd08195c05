"""The generator's state: random streams, calendar, brand parameters as arrays, and what one
table family leaves for the next (customers' lives, CRM users, campaign windows...)."""

from __future__ import annotations

import sys
import time

import numpy as np
import pyarrow as pa

from kpitools.schema import TABLES

from .arrays import SQL_TYPE, categorical, lognormal_mu, uniform_between
from .brands import DEMO_BRANDS


class DemoGenerator:
    """State of one demo database being generated: the connection it writes to, the random
    streams, the calendar, the brand parameters as arrays, and what each table family leaves for
    the families after it (the order is fixed by :func:`kpitools.data.demo.generate.generate_demo`).

    Times are integer seconds since the epoch (naive); customers, users and leads are 0-based
    indices (their ids are index + 1).
    """

    # left by customers.customers: per customer
    brand: np.ndarray  #: brand index (int8)
    month: np.ndarray  #: acquisition month index
    created: np.ndarray  #: created_at, sorted
    line: np.ndarray  #: acquisition product line, 0 or 1
    first_order: np.ndarray  #: time of the first order
    acq: np.ndarray  #: acquisition channel code, -1 when NULL
    has_email: np.ndarray
    opt_in: np.ndarray
    brand_members: list[np.ndarray]  #: customer indices of each brand
    # left by customers.purchase_process
    end1: np.ndarray  #: last month of the first life
    s2: np.ndarray  #: first month of the second life
    end2: np.ndarray  #: last month of the second life
    has2: np.ndarray  #: has a second life inside the span
    act_cust: np.ndarray  #: active customer-months: customer
    act_month: np.ndarray  #: active customer-months: month index
    base_orders: dict[str, np.ndarray]  #: the regular orders (until customers.orders)
    # left by adoption.crm_users
    users_by: dict[tuple[int, str], np.ndarray]  #: user ids by (brand, role)
    user_brand: np.ndarray
    # left by campaigns.campaigns
    campaign_plan: list[dict]
    extra_orders: dict[str, np.ndarray]  #: campaign-driven orders (until customers.orders)
    campaign_brand: np.ndarray
    campaign_start: np.ndarray
    campaign_end: np.ndarray
    # left by sales.leads and sales.opportunities for sales.activities
    touches: dict[str, np.ndarray]
    opp_activities: dict[str, np.ndarray]
    lead_conversion_rate: float

    def __init__(self, con, customers: int, seed: int, start: str, months: int, progress: bool):
        self.con = con
        self.n = int(customers)
        self.rng = np.random.default_rng(seed)
        self.seed = int(seed)  # for the separate streams of columns added later (sales.py)
        # a separate stream for the campaigns of the last month, so that adding them leaves every
        # other table exactly as it was
        self.late_rng = np.random.default_rng([seed, 2])
        # a separate stream for the product lines of service, survey, web, referral rows
        # (issue 10), so that adding them leaves every other column exactly as it was
        self.line_rng = np.random.default_rng([seed, 10])
        self.progress = progress
        self.t_start = time.perf_counter()
        self.rows: dict[str, int] = {}
        self.brands = DEMO_BRANDS
        self.nb = len(DEMO_BRANDS)

        start_day = np.datetime64(start, "D")
        first_month = start_day.astype("datetime64[M]")
        if first_month.astype("datetime64[D]") != start_day:
            raise ValueError(f"start must be the first day of a month, got {start!r}")
        self.months = int(months)
        self.mstart = (
            (first_month + np.arange(self.months + 1)).astype("datetime64[s]").astype(np.int64)
        )
        self.T0 = int(self.mstart[0])
        self.T_END = int(self.mstart[-1])  # exclusive
        self.month_of_year = ((first_month + np.arange(self.months)).astype(int) % 12).astype(
            np.int64
        )

        b = self.brands
        self.line_names = tuple(f"{x.product_lines[i]}" for x in b for i in range(2))
        self.p_hazard = np.array([x.monthly_churn_hazard for x in b])
        self.p_active = np.array([x.monthly_active_probability for x in b])
        self.p_lambda = np.array([x.extra_orders_per_active_month for x in b])
        self.p_return = np.array([x.return_probability for x in b])
        self.p_share0 = np.array([x.acquisition_share[0] for x in b])
        mean = np.array([m for x in b for m in x.order_revenue_mean])
        sigma = np.array([s for x in b for s in x.order_revenue_sigma])
        self.line_mean = mean
        self.line_sigma = sigma
        self.line_mu = lognormal_mu(mean, sigma)
        self.line_margin = np.array([m for x in b for m in x.margin_rate])
        self.line_cross = np.array([c for x in b for c in x.cross_sell_probability])
        self.brand_scale = np.array(
            [np.dot(x.acquisition_share, x.order_revenue_mean) / 100.0 for x in b]
        )

    # -- infrastructure ------------------------------------------------------------------------

    def log(self, msg: str) -> None:
        if self.progress:
            dt = time.perf_counter() - self.t_start
            print(f"[{dt:6.1f}s] {msg}", file=sys.stderr, flush=True)

    def write(self, name: str, cols: dict[str, pa.Array], exprs: dict[str, str] | None = None):
        """Create canonical table ``name`` from Arrow columns, casting to the schema's kinds."""
        spec = TABLES[name]
        exprs = exprs or {}
        missing = [c.name for c in spec.columns if c.name not in cols and c.name not in exprs]
        if missing:  # pragma: no cover - programming error
            raise AssertionError(f"{name}: no data for {missing}")
        src = pa.table(cols)
        sources = {c.name: exprs.get(c.name, f'"{c.name}"') for c in spec.columns}
        select = ", ".join(
            f'CAST({sources[c.name]} AS {SQL_TYPE[c.kind]}) AS "{c.name}"' for c in spec.columns
        )
        self._create(name, src, select)

    def write_truth(self, name: str, cols: dict[str, pa.Array], types: dict[str, str]):
        src = pa.table(cols)
        select = ", ".join(f'CAST("{c}" AS {types.get(c, "DOUBLE")}) AS "{c}"' for c in cols)
        self._create(name, src, select)

    def _create(self, name: str, src: pa.Table, select: str) -> None:
        self.con.register("_demo_src", src)
        try:
            self.con.execute(f'CREATE TABLE "{name}" AS SELECT {select} FROM _demo_src')
        finally:
            self.con.unregister("_demo_src")
        self.rows[name] = src.num_rows
        self.log(f"{name}: {src.num_rows:,} rows")

    def brand_counts(self, total: int) -> np.ndarray:
        """Split ``total`` rows over brands by weight (deterministic, sums to ``total``)."""
        w = np.array([b.weight for b in self.brands])
        w = w / w.sum()
        counts = np.floor(w * total).astype(np.int64)
        counts[0] += total - counts.sum()
        return counts

    def month_weights(self, b: int) -> np.ndarray:
        brand = self.brands[b]
        w = (1.0 + brand.acquisition_growth) ** np.arange(self.months)
        w = w * np.array(brand.seasonality)[self.month_of_year]
        return w / w.sum()

    def times_over_span(self, brand: np.ndarray) -> np.ndarray:
        """Timestamps spread like acquisitions (growth and seasonality of each row's brand)."""
        n = len(brand)
        month = np.empty(n, dtype=np.int64)
        u = self.rng.random(n)
        for b in range(self.nb):
            idx = brand == b
            cdf = np.cumsum(self.month_weights(b))
            month[idx] = np.minimum(np.searchsorted(cdf, u[idx], side="right"), self.months - 1)
        return uniform_between(self.rng, self.mstart[month], self.mstart[month + 1])

    def sample_active(self, k: int):
        """``k`` (customer index, timestamp) pairs drawn from active customer-months."""
        i = self.rng.integers(0, len(self.act_cust), k)
        cust = self.act_cust[i].astype(np.int64)
        month = self.act_month[i].astype(np.int64)
        lo = np.maximum(self.mstart[month], self.first_order[cust])
        t = uniform_between(self.rng, lo, self.mstart[month + 1])
        order = np.argsort(t, kind="stable")
        return cust[order], t[order]

    def draw_lines(
        self,
        brand: np.ndarray,
        customer: np.ndarray,
        *,
        own: float,
        other: float,
        anonymous_null: float = 0.15,
    ) -> np.ndarray:
        """Product-line codes (index into ``line_names``; -1: no line, NULL) of rows about
        customers, drawn from :attr:`line_rng`.

        A row with a customer (index >= 0) is about the line the customer was acquired on
        with probability ``own``, about the brand's other line with ``other``, and about no
        line otherwise. A row without a customer (-1) is on a line drawn with the brand's
        acquisition shares, or about no line with probability ``anonymous_null``.
        """
        n = len(brand)
        u = self.line_rng.random(n)
        known = customer >= 0
        line = np.where(known, self.line[np.maximum(customer, 0)], 0).astype(np.int64)
        anon_line = (self.line_rng.random(n) >= self.p_share0[brand]).astype(np.int64)
        pick = np.where(u < own, line, np.where(u < own + other, 1 - line, -1))
        pick = np.where(known, pick, np.where(u < anonymous_null, -1, anon_line))
        return np.where(pick < 0, -1, brand.astype(np.int64) * 2 + pick)

    def line_column(self, codes: np.ndarray):
        """A ``product_line`` column from :meth:`draw_lines` codes (-1: NULL)."""
        return categorical(np.maximum(codes, 0), self.line_names, mask=codes < 0)

    def pick_user(self, brand: np.ndarray, roles: tuple[str, ...]) -> np.ndarray:
        """A random CRM user of each row's brand with one of ``roles``."""
        out = np.zeros(len(brand), dtype=np.int64)
        u = self.rng.random(len(brand))
        for b in range(self.nb):
            pool = np.concatenate([self.users_by[(b, r)] for r in roles])
            idx = brand == b
            out[idx] = pool[np.minimum((u[idx] * len(pool)).astype(np.int64), len(pool) - 1)]
        return out

    def alive_in(self, m: int) -> np.ndarray:
        return ((self.month <= m) & (m <= self.end1)) | (
            self.has2 & (self.s2 <= m) & (m <= self.end2)
        )
