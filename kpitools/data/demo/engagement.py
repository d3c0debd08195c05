"""Digital engagement: web sessions, newsletter subscriptions and referrals."""

from __future__ import annotations

import numpy as np

from .arrays import (
    DAY,
    HOUR,
    categorical,
    column,
    row_ids,
    timestamps,
    uniform_between,
)
from .generator import DemoGenerator
from .planted import (
    ACQUISITION_CHANNELS,
    NEWSLETTER_UNSUBSCRIBE_HAZARD,
)


def web_sessions(gen: DemoGenerator) -> None:
    rng = gen.rng
    n = int(round(0.8 * gen.n))
    n_known = int(round(0.6 * n))
    cust, t_k = gen.sample_active(n_known)
    b_anon = rng.choice(gen.nb, size=n - n_known, p=gen.brand_counts(1000) / 1000)
    t_a = gen.times_over_span(b_anon)
    brand = np.concatenate([gen.brand[cust].astype(np.int64), b_anon])
    customer = np.concatenate([cust, np.full(n - n_known, -1)])
    t = np.concatenate([t_k, t_a])
    order = np.argsort(t, kind="stable")
    brand, customer, t = brand[order], customer[order], t[order]
    views = 1 + rng.poisson(2.5, n)
    duration = np.round(np.exp(np.log(45.0 * views) + 0.6 * rng.standard_normal(n)), 1)
    goal = rng.random(n) < np.array([x.web_goal_completion_probability for x in gen.brands])[brand]
    ids = [x.id for x in gen.brands]
    # the section of the site visited: a line's pages, or none (home page, account, blog)
    web_line = gen.draw_lines(brand, customer, own=0.5, other=0.15, anonymous_null=0.4)
    gen.write(
        "web_sessions",
        {
            "session_id": column(row_ids(n)),
            "brand": categorical(brand, ids),
            "customer_id": column(customer + 1, mask=customer < 0),
            "product_line": gen.line_column(web_line),
            "started_at": timestamps(t),
            "page_views": column(views.astype(np.int64)),
            "duration_seconds": column(duration),
            "goal_completed": column(goal),
        },
    )


def subscriptions(gen: DemoGenerator) -> None:
    rng = gen.rng
    cust = np.flatnonzero(gen.has_email & gen.opt_in)
    n = len(cust)
    sub = uniform_between(rng, gen.created[cust], np.minimum(gen.created[cust] + HOUR, gen.T_END))
    months = rng.exponential(1.0 / NEWSLETTER_UNSUBSCRIBE_HAZARD, n)
    unsub = sub + np.round(months * 30.44 * DAY).astype(np.int64)
    stays = unsub >= gen.T_END
    ids = [x.id for x in gen.brands]
    gen.write(
        "subscriptions",
        {
            "customer_id": column(cust.astype(np.int64) + 1),
            "list": categorical(np.zeros(n, dtype=np.int8), ("newsletter",)),
            "brand": categorical(gen.brand[cust], ids),
            # each line has its newsletter: a customer gets the one of the line they came on
            "product_line": categorical(
                gen.brand[cust].astype(np.int64) * 2 + gen.line[cust], gen.line_names
            ),
            "subscribed_at": timestamps(sub),
            "unsubscribed_at": timestamps(unsub, mask=stays),
        },
    )


def referrals(gen: DemoGenerator) -> None:
    rng = gen.rng
    referred = np.flatnonzero(gen.acq == ACQUISITION_CHANNELS.index("referral"))
    rank_in_brand = np.empty(gen.n, dtype=np.int64)
    for pool in gen.brand_members:
        rank_in_brand[pool] = np.arange(len(pool))
    r = rank_in_brand[referred]
    referred = referred[r > 0]
    r = r[r > 0]
    b = gen.brand[referred].astype(np.int64)
    pick = np.minimum((rng.random(len(r)) * r).astype(np.int64), r - 1)
    referrer = np.empty(len(r), dtype=np.int64)
    for bb in range(gen.nb):
        sel = b == bb
        referrer[sel] = gen.brand_members[bb][pick[sel]]
    lo = np.maximum(gen.created[referrer], gen.created[referred] - 21 * DAY)
    t_conv = uniform_between(rng, lo, gen.created[referred])
    n_open = int(round(0.6 * len(referred)))
    o_ref, t_open = gen.sample_active(n_open)
    ref_by = np.concatenate([referrer, o_ref])
    ref_to = np.concatenate([referred, np.full(n_open, -1)])
    t = np.concatenate([t_conv, t_open])
    order = np.argsort(t, kind="stable")
    ref_by, ref_to, t = ref_by[order], ref_to[order], t[order]
    ids = [x.id for x in gen.brands]
    # a referral is for the line the friend bought on; an open one for the referrer's line
    # (mostly), the other line or none
    ref_brand = gen.brand[ref_by].astype(np.int64)
    ref_line = np.where(
        ref_to >= 0,
        ref_brand * 2 + gen.line[np.maximum(ref_to, 0)],
        gen.draw_lines(ref_brand, ref_by, own=0.8, other=0.15),
    )
    gen.write(
        "referrals",
        {
            "referral_id": column(row_ids(len(t))),
            "brand": categorical(gen.brand[ref_by], ids),
            "referrer_customer_id": column(ref_by + 1),
            "referred_customer_id": column(ref_to + 1, mask=ref_to < 0),
            "product_line": gen.line_column(ref_line),
            "created_at": timestamps(t),
        },
    )
