"""Perception: survey answers (NPS, CSAT) and social mentions."""

from __future__ import annotations

import numpy as np

from .arrays import (
    categorical,
    column,
    row_ids,
    timestamps,
    uniform_between,
)
from .generator import DemoGenerator
from .planted import (
    CSAT_BY_CLASS,
    NPS_SCORE_PROBABILITY,
    NPS_SCORES,
)


def surveys(gen: DemoGenerator) -> None:
    rng = gen.rng
    n = int(round(0.12 * gen.n))
    cust, t = gen.sample_active(n)
    brand = gen.brand[cust].astype(np.int64)
    mix = np.array([x.nps_mix for x in gen.brands])[brand]
    u = rng.random(n)
    klass = (u >= mix[:, 0]).astype(np.int64) + (u >= mix[:, 0] + mix[:, 1])
    nps = np.zeros(n, dtype=np.int64)
    csat = np.zeros(n, dtype=np.int64)
    for c in range(3):
        sel = klass == c
        nps[sel] = rng.choice(NPS_SCORES[c], size=int(sel.sum()), p=NPS_SCORE_PROBABILITY[c])
        csat[sel] = rng.choice(5, size=int(sel.sum()), p=CSAT_BY_CLASS[c]) + 1
    kind = rng.choice(3, size=n, p=(0.6, 0.25, 0.15))  # both, NPS only, CSAT only
    ids = [x.id for x in gen.brands]
    # transactional surveys (after a purchase or a case) are about a line; a quarter of the
    # answers come from relationship surveys about the brand as a whole (no line)
    survey_line = gen.draw_lines(brand, cust, own=0.67, other=0.08)
    gen.write(
        "surveys",
        {
            "response_id": column(row_ids(n)),
            "brand": categorical(brand, ids),
            "customer_id": column(cust + 1),
            "product_line": gen.line_column(survey_line),
            "responded_at": timestamps(t),
            "nps_score": column(nps, mask=kind == 2),
            "csat_score": column(csat, mask=kind == 1),
        },
    )


def social_mentions(gen: DemoGenerator) -> None:
    rng = gen.rng
    n = int(round(0.15 * gen.n))
    brand = np.repeat(np.arange(gen.nb, dtype=np.int64), gen.brand_counts(n))
    t = uniform_between(rng, np.full(n, gen.T0), np.full(n, gen.T_END))
    order = np.argsort(t, kind="stable")
    t, brand = t[order], brand[order]  # keep each mention with its brand
    sov = np.array([x.own_share_of_voice for x in gen.brands])[brand]
    u = rng.random(n)
    who = np.where(u < sov, 0, np.where(u < sov + (1 - sov) * 0.6, 1, 2))
    names = [x.id for x in gen.brands] + [c for x in gen.brands for c in x.competitors]
    code = np.where(who == 0, brand, gen.nb + brand * 2 + who - 1)
    mean = np.where(
        who == 0,
        np.array([x.mean_sentiment for x in gen.brands])[brand],
        np.where(who == 1, 0.10, 0.0),
    )
    sentiment = np.round(np.clip(mean + 0.45 * rng.standard_normal(n), -1.0, 1.0), 3)
    reach = np.round(np.exp(np.log(400.0) + 1.4 * rng.standard_normal(n))).astype(np.int64)
    gen.write(
        "social_mentions",
        {
            "mention_id": column(row_ids(n)),
            "brand": categorical(brand, names[: gen.nb]),
            "mentioned_brand": categorical(code, names),
            "is_competitor": column(who > 0),
            "occurred_at": timestamps(t),
            "sentiment": column(sentiment, mask=rng.random(n) < 0.05),
            "reach": column(reach, mask=rng.random(n) < 0.04),
        },
    )
