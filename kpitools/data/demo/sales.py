"""The sales pipeline: leads and their touches, opportunities, and every activity."""

from __future__ import annotations

import numpy as np

from .arrays import (
    DAY,
    MINUTE,
    categorical,
    column,
    expand,
    lognormal_mu,
    row_ids,
    timestamps,
    uniform_between,
)
from .generator import DemoGenerator
from .planted import (
    ACTIVITY_TYPES,
    LEAD_FAST_MINUTES,
    LEAD_SOURCE_PROBABILITY,
    LEAD_SOURCES,
    TOUCH_COUNT_PROBABILITY,
    TOUCH_RESPONSE,
)

#: Key of the random stream of the renewals' due dates (``[seed, RENEWAL_DUE_STREAM]``).
RENEWAL_DUE_STREAM = 10


def leads(gen: DemoGenerator) -> None:
    rng = gen.rng
    n = int(round(0.3 * gen.n))
    brand = np.repeat(np.arange(gen.nb, dtype=np.int64), gen.brand_counts(n))
    created = gen.times_over_span(brand)
    order = np.argsort(created, kind="stable")
    brand, created = brand[order], created[order]
    line = (rng.random(n) >= gen.p_share0[brand]).astype(np.int64)
    line_null = rng.random(n) < 0.10
    owner = gen.pick_user(brand, ("sales",))
    owner_null = rng.random(n) < 0.10
    median = np.array([x.lead_response_median_minutes for x in gen.brands])[brand]
    delay_min = np.exp(np.log(median) + rng.standard_normal(n))
    first_resp = created + np.maximum(np.round(delay_min * MINUTE), 30).astype(np.int64)
    contacted = (rng.random(n) < 0.95) & (first_resp < gen.T_END)

    # outbound touches until the first response
    kmax = np.where(contacted, rng.choice(8, size=n, p=TOUCH_COUNT_PROBABILITY) + 1, 0).astype(
        np.int64
    )
    g, rank = expand(kmax)
    gaps = np.where(rank == 0, 0, np.exp(np.log(2 * DAY) + 0.6 * rng.standard_normal(len(g))))
    first_of = np.cumsum(kmax) - kmax
    csum = np.cumsum(gaps)
    offset = csum - (csum[first_of[g]] - gaps[first_of[g]])
    t = first_resp[g] + np.round(offset).astype(np.int64)
    resp = rng.random(len(g)) < np.array(TOUCH_RESPONSE)[rank]
    r_cum = np.cumsum(resp)
    before = r_cum - resp - (r_cum[first_of[g]] - resp[first_of[g]])
    keep = (before == 0) & (t < gen.T_END)
    g, rank, t, resp = g[keep], rank[keep], t[keep], resp[keep]
    responded = np.zeros(n, dtype=bool)
    responded[g[resp]] = True
    resp_t = np.zeros(n, dtype=np.int64)
    resp_t[g[resp]] = t[resp]

    fast = delay_min <= LEAD_FAST_MINUTES
    p_conv = np.where(
        fast,
        np.array([x.lead_conversion_fast for x in gen.brands])[brand],
        np.array([x.lead_conversion_slow for x in gen.brands])[brand],
    )
    target = resp_t + np.round(np.exp(np.log(3 * DAY) + 0.8 * rng.standard_normal(n)))
    convert = responded & (rng.random(n) < p_conv) & (target < gen.T_END)
    customer = np.full(n, -1, dtype=np.int64)
    for b in range(gen.nb):
        sel = np.flatnonzero(convert & (brand == b))
        sel = sel[np.argsort(target[sel], kind="stable")]
        pool = gen.brand_members[b]
        pos = np.searchsorted(gen.created[pool], target[sel])
        j = np.arange(len(sel))
        pos = j + np.maximum.accumulate(pos - j) if len(sel) else pos
        ok = pos < len(pool)
        customer[sel[ok]] = pool[pos[ok]]
    converted = customer >= 0
    converted_at = np.where(converted, gen.created[np.maximum(customer, 0)], 0)

    # campaign attribution for leads created while a campaign of their brand runs
    campaign = np.zeros(n, dtype=np.int64)
    for b in range(gen.nb):
        cidx = np.flatnonzero(gen.campaign_brand == b)
        if not len(cidx):
            continue
        sel = np.flatnonzero(brand == b)
        j = np.searchsorted(gen.campaign_start[cidx], created[sel], side="right") - 1
        inside = (j >= 0) & (created[sel] < gen.campaign_end[cidx][np.maximum(j, 0)])
        campaign[sel[inside]] = cidx[j[inside]] + 1
    by_campaign = (campaign > 0) & (rng.random(n) < 0.5)
    source = rng.choice(5, size=n, p=LEAD_SOURCE_PROBABILITY)
    source = np.where(by_campaign, 5, source)

    ids = [x.id for x in gen.brands]
    gen.write(
        "leads",
        {
            "lead_id": column(row_ids(n)),
            "brand": categorical(brand, ids),
            "product_line": categorical(brand * 2 + line, gen.line_names, mask=line_null),
            "created_at": timestamps(created),
            "source": categorical(source, LEAD_SOURCES),
            "campaign_id": column(campaign, mask=~by_campaign),
            "first_response_at": timestamps(first_resp, mask=~contacted),
            "converted_at": timestamps(converted_at, mask=~converted),
            "customer_id": column(customer + 1, mask=~converted),
            "owner_id": column(owner, mask=owner_null),
        },
    )
    touch_owner = np.where(owner_null[g], gen.pick_user(brand[g], ("sales",)), owner[g])
    ttype = rng.choice(3, size=len(g), p=(0.5, 0.35, 0.15))
    gen.touches = dict(
        brand=brand[g],
        owner=touch_owner,
        lead=g + 1,
        t=t,
        type=np.array([0, 1, 3])[ttype],  # call, email, sms
        responded=resp,
    )
    gen.lead_conversion_rate = float(converted.mean()) if n else 0.0


def opportunities(gen: DemoGenerator) -> None:
    rng = gen.rng
    n = int(round(0.06 * gen.n))
    brand = np.repeat(np.arange(gen.nb, dtype=np.int64), gen.brand_counts(n))
    created = gen.times_over_span(brand)
    order = np.argsort(created, kind="stable")
    brand, created = brand[order], created[order]
    customer = np.full(n, -1, dtype=np.int64)
    u = rng.random(n)
    for b in range(gen.nb):
        sel = np.flatnonzero(brand == b)
        pool = gen.brand_members[b]
        before = np.searchsorted(gen.created[pool], created[sel])
        pick = np.minimum((u[sel] * before).astype(np.int64), np.maximum(before - 1, 0))
        customer[sel] = np.where(before > 0, pool[pick], -1)
    renewal = (rng.random(n) < 0.20) & (customer >= 0)
    customer = np.where(renewal | (rng.random(n) < 0.7), customer, -1)
    line = (rng.random(n) >= gen.p_share0[brand]).astype(np.int64)
    line_null = rng.random(n) < 0.05
    cycle = np.round(rng.gamma(2.0, 12.0 * DAY, n)).astype(np.int64)
    p_win = np.where(
        renewal,
        np.array([x.renewal_win_probability for x in gen.brands])[brand],
        np.array([x.opportunity_win_probability for x in gen.brands])[brand],
    )
    won = rng.random(n) < p_win
    closed = created + cycle
    is_open = closed >= gen.T_END
    status = np.where(is_open, 0, np.where(won, 1, 2))
    amount_mean = np.array([x.deal_amount_mean for x in gen.brands])[brand] * np.where(
        renewal, 0.8, 1.0
    )
    amount = np.round(np.exp(lognormal_mu(amount_mean, 0.7) + 0.7 * rng.standard_normal(n)), 2)
    amount_null = rng.random(n) < 0.03
    quotes = np.where(rng.random(n) < 0.15, 0, 1 + rng.poisson(0.7, n))
    owner = gen.pick_user(brand, ("sales",))
    ids = [x.id for x in gen.brands]
    # a renewal is opened 20 to 75 days before the contract it renews ends (its due date);
    # drawn from a separate stream so that every other column keeps its values
    due_rng = np.random.default_rng([gen.seed, RENEWAL_DUE_STREAM])
    lead_time = np.round(due_rng.uniform(20 * DAY, 75 * DAY, n)).astype(np.int64)
    due = created + lead_time
    gen.write(
        "opportunities",
        {
            "opportunity_id": column(row_ids(n)),
            "brand": categorical(brand, ids),
            "product_line": categorical(brand * 2 + line, gen.line_names, mask=line_null),
            "customer_id": column(customer + 1, mask=customer < 0),
            "owner_id": column(owner),
            "created_at": timestamps(created),
            "closed_at": timestamps(closed, mask=is_open),
            "status": categorical(status, ("open", "won", "lost")),
            "amount": column(amount, mask=amount_null),
            "quote_count": column(quotes.astype(np.int64)),
            "is_renewal": column(renewal),
            "renewal_due_at": timestamps(due, mask=~renewal),
        },
    )
    # sales activities on each opportunity
    k = 1 + rng.poisson(2.0, n)
    g, _ = expand(k)
    end = np.where(is_open, np.minimum(created + 60 * DAY, gen.T_END), closed)
    t = uniform_between(rng, created[g], end[g])
    gen.opp_activities = dict(
        brand=brand[g],
        owner=owner[g],
        customer=customer[g],
        opp=g + 1,
        t=t,
        type=np.array([0, 2, 1])[rng.choice(3, size=len(g), p=(0.65, 0.15, 0.20))],
        responded=rng.random(len(g)) < 0.55,
    )


def activities(gen: DemoGenerator) -> None:
    rng = gen.rng
    n_out = int(round(0.45 * gen.n))
    n_in = int(round(0.15 * gen.n))
    cust_o, t_o = gen.sample_active(n_out)
    cust_i, t_i = gen.sample_active(n_in)
    b_o, b_i = gen.brand[cust_o].astype(np.int64), gen.brand[cust_i].astype(np.int64)
    # outbound: call, email, meeting, sms with type-specific response rates
    type_o = np.array([0, 1, 2, 3])[rng.choice(4, size=n_out, p=(0.25, 0.45, 0.10, 0.20))]
    p_resp = np.array([0.45, 0.12, 0.90, 0.08, 0.05])[type_o]
    resp_o = rng.random(n_out) < p_resp
    type_i = np.array([0, 1, 4])[rng.choice(3, size=n_in, p=(0.5, 0.35, 0.15))]
    own_o = gen.pick_user(b_o, ("marketing", "service"))
    own_i = gen.pick_user(b_i, ("service",))
    tch, opp = gen.touches, gen.opp_activities
    none = np.int64(-1)
    parts = [
        # brand, owner, customer, lead, opportunity, t, type, direction, responded(-1 null)
        (
            tch["brand"],
            tch["owner"],
            np.full(len(tch["t"]), none),
            tch["lead"],
            np.full(len(tch["t"]), none),
            tch["t"],
            tch["type"],
            1,
            tch["responded"].astype(np.int8),
        ),
        (
            opp["brand"],
            opp["owner"],
            opp["customer"],
            np.full(len(opp["t"]), none),
            opp["opp"],
            opp["t"],
            opp["type"],
            1,
            opp["responded"].astype(np.int8),
        ),
        (
            b_o,
            own_o,
            cust_o,
            np.full(n_out, none),
            np.full(n_out, none),
            t_o,
            type_o,
            1,
            resp_o.astype(np.int8),
        ),
        (
            b_i,
            own_i,
            cust_i,
            np.full(n_in, none),
            np.full(n_in, none),
            t_i,
            type_i,
            0,
            np.full(n_in, -1, dtype=np.int8),
        ),
    ]
    cols = [np.concatenate([np.asarray(p[i]) for p in parts]) for i in range(7)]
    direction = np.concatenate([np.full(len(p[5]), p[7], dtype=np.int8) for p in parts])
    responded = np.concatenate([p[8] for p in parts])
    brand, owner, customer, lead, opp_id, t, typ = cols
    order = np.argsort(t, kind="stable")
    del gen.touches, gen.opp_activities
    ids = [x.id for x in gen.brands]
    customer, lead, opp_id = customer[order], lead[order], opp_id[order]
    responded = responded[order]
    gen.write(
        "activities",
        {
            "activity_id": column(row_ids(len(t))),
            "brand": categorical(brand[order], ids),
            "owner_id": column(owner[order]),
            "customer_id": column(customer + 1, mask=customer < 0),
            "lead_id": column(lead, mask=lead < 0),
            "opportunity_id": column(opp_id, mask=opp_id < 0),
            "occurred_at": timestamps(t[order]),
            "type": categorical(typ[order], ACTIVITY_TYPES),
            "direction": categorical(direction[order], ("inbound", "outbound")),
            "responded": column(responded == 1, mask=responded < 0),
        },
    )
