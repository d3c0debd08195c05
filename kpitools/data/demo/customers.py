"""Customers, their lives and active months, and the orders (regular and campaign-driven)."""

from __future__ import annotations

import numpy as np

from .arrays import (
    DAY,
    categorical,
    column,
    expand,
    row_ids,
    timestamps,
    uniform_between,
)
from .generator import DemoGenerator
from .planted import (
    ACQUISITION_CHANNEL_PROBABILITY,
    ACQUISITION_CHANNELS,
    MIN_DORMANCY_MONTHS,
    ORDER_CHANNEL_PROBABILITY,
    ORDER_CHANNELS,
)


def customers(gen: DemoGenerator) -> None:
    rng, n = gen.rng, gen.n
    counts = gen.brand_counts(n)
    brand = np.repeat(np.arange(gen.nb, dtype=np.int8), counts)
    month = np.empty(n, dtype=np.int64)
    u = rng.random(n)
    for b in range(gen.nb):
        idx = brand == b
        cdf = np.cumsum(gen.month_weights(b))
        month[idx] = np.minimum(np.searchsorted(cdf, u[idx], side="right"), gen.months - 1)
    created = uniform_between(rng, gen.mstart[month], gen.mstart[month + 1])
    order = np.argsort(created, kind="stable")
    brand, month, created = brand[order], month[order], created[order]
    day_end = (created // DAY + 1) * DAY
    first_order = uniform_between(rng, created, np.minimum(day_end, gen.T_END))
    line = (rng.random(n) >= gen.p_share0[brand]).astype(np.int8)

    acq = rng.choice(len(ACQUISITION_CHANNELS), size=n, p=ACQUISITION_CHANNEL_PROBABILITY)
    acq_null = rng.random(n) < 0.02
    nreg = np.array([len(x.regions) for x in gen.brands])
    reg_off = np.concatenate([[0], np.cumsum(nreg)[:-1]])
    region = reg_off[brand] + np.floor(rng.random(n) * nreg[brand]).astype(np.int64)
    region_null = rng.random(n) < 0.03
    has_email = rng.random(n) < 0.90
    has_phone = rng.random(n) < 0.70
    opt_in = rng.random(n) < 0.65
    phone_num = rng.integers(0, 10**8, n)

    gen.brand, gen.month, gen.created, gen.line = brand, month, created, line
    gen.first_order = first_order
    gen.acq = np.where(acq_null, -1, acq)
    gen.has_email, gen.opt_in = has_email, opt_in
    gen.brand_members = [np.flatnonzero(brand == b) for b in range(gen.nb)]

    ids = [x.id for x in gen.brands]
    gen.write(
        "customers",
        {
            "customer_id": column(row_ids(n)),
            "brand": categorical(brand, ids),
            "product_line": categorical(brand.astype(np.int64) * 2 + line, gen.line_names),
            "created_at": timestamps(created),
            "acquisition_channel": categorical(acq, ACQUISITION_CHANNELS, mask=acq_null),
            "region": categorical(
                region, [r for x in gen.brands for r in x.regions], mask=region_null
            ),
            "email_opt_in": column(opt_in, mask=~has_email),
            "_has_email": column(has_email),
            "_has_phone": column(has_phone),
            "_domain": categorical(brand, [x.email_domain for x in gen.brands]),
            "_prefix": categorical(brand, [x.phone_prefix for x in gen.brands]),
            "_phone": column(phone_num),
        },
        exprs={
            "email": "CASE WHEN _has_email THEN 'customer' || CAST(customer_id AS VARCHAR)"
            " || '@' || CAST(_domain AS VARCHAR) END",
            "phone": "CASE WHEN _has_phone THEN CAST(_prefix AS VARCHAR) || "
            "lpad(CAST(_phone AS VARCHAR), 8, '0') END",
        },
    )


def purchase_process(gen: DemoGenerator) -> None:
    """Lives, active months and the regular (campaign-free) orders."""
    rng, n, brand = gen.rng, gen.n, gen.brand
    last = gen.months - 1
    h = gen.p_hazard[brand]
    end1 = gen.month + rng.geometric(h) - 1
    comes_back = rng.random(n) < gen.p_return[brand]
    s2 = end1 + 1 + MIN_DORMANCY_MONTHS + rng.geometric(0.25, n) - 1
    end2 = s2 + rng.geometric(h) - 1
    has2 = comes_back & (s2 <= last)
    gen.end1, gen.s2, gen.end2, gen.has2 = end1, s2, end2, has2

    second = np.flatnonzero(has2)
    seg_cust = np.concatenate([np.arange(n), second])
    seg_start = np.concatenate([gen.month, s2[second]])
    seg_end = np.minimum(np.concatenate([end1, end2[second]]), last)
    seg_kind = np.concatenate([np.zeros(n, np.int8), np.ones(len(second), np.int8)])
    grp, off = expand(seg_end - seg_start + 1)
    a_cust = seg_cust[grp]
    a_month = seg_start[grp] + off
    first_month = off == 0
    active = first_month | (rng.random(len(grp)) < gen.p_active[brand[a_cust]])
    # kind: 0 acquisition month, 1 return month, 2 other
    a_kind = np.where(first_month, seg_kind[grp], 2).astype(np.int8)
    gen.act_cust = a_cust[active].astype(np.int32)
    gen.act_month = a_month[active].astype(np.int16)
    act_kind = a_kind[active]
    del grp, off, a_cust, a_month, first_month, active, a_kind
    gen.log(f"active customer-months: {len(gen.act_cust):,}")

    k = 1 + rng.poisson(gen.p_lambda[brand[gen.act_cust]])
    grp, rank = expand(k)
    cust = gen.act_cust[grp].astype(np.int64)
    month = gen.act_month[grp].astype(np.int64)
    kind = act_kind[grp]
    del grp
    is_first = (kind == 0) & (rank == 0)
    lo = np.where(kind == 0, gen.first_order[cust], gen.mstart[month])
    t = uniform_between(rng, lo, gen.mstart[month + 1])
    t[is_first] = gen.first_order[cust[is_first]]
    del lo, month, kind, rank
    b = brand[cust].astype(np.int64)
    code = b * 2 + gen.line[cust]
    cross = (~is_first) & (rng.random(len(cust)) < gen.line_cross[code])
    code = np.where(cross, b * 2 + (1 - gen.line[cust]), code).astype(np.int8)
    del b, cross, is_first
    gen.base_orders = order_values(gen, cust.astype(np.int32), t, code)
    gen.log(f"regular orders: {len(t):,}")


def order_values(
    gen: DemoGenerator, cust, t, code, channel_p=ORDER_CHANNEL_PROBABILITY, rng=None
) -> dict:
    rng = rng or gen.rng
    n = len(t)
    revenue = np.exp(gen.line_mu[code] + gen.line_sigma[code] * rng.standard_normal(n))
    rate = np.clip(gen.line_margin[code] + 0.03 * rng.standard_normal(n), 0.02, 0.98)
    cost = np.round(revenue * (1.0 - rate), 2)
    revenue = np.round(revenue, 2)
    channel = rng.choice(len(ORDER_CHANNELS), size=n, p=channel_p).astype(np.int8)
    return dict(cust=cust, t=t, code=code, revenue=revenue, cost=cost, channel=channel)


def orders(gen: DemoGenerator) -> None:
    base, extra = gen.base_orders, gen.extra_orders
    cols = {}
    for k in base:
        cols[k] = np.concatenate([base[k], extra[k].astype(base[k].dtype)])
    del gen.base_orders, gen.extra_orders, base, extra
    order = np.argsort(cols["t"], kind="stable")
    for k in list(cols):
        cols[k] = cols[k][order]
    del order
    n = len(cols["t"])
    ids = [x.id for x in gen.brands]
    code = cols.pop("code")
    gen.write(
        "orders",
        {
            "order_id": column(row_ids(n)),
            "customer_id": column(cols.pop("cust").astype(np.int64) + 1),
            "brand": categorical(code // 2, ids),
            "product_line": categorical(code, gen.line_names),
            "ordered_at": timestamps(cols.pop("t")),
            "revenue": column(cols.pop("revenue")),
            "cost": column(cols.pop("cost")),
            "channel": categorical(cols.pop("channel"), ORDER_CHANNELS),
        },
    )
