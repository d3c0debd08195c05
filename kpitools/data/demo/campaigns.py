"""Campaigns, their members (randomised control groups, channel funnels) and planted effects."""

from __future__ import annotations

from typing import TypedDict, cast

import numpy as np
import pyarrow as pa

from kpitools.schema import CHANNELS

from .arrays import (
    DAY,
    HOUR,
    MINUTE,
    SortedTimes,
    categorical,
    column,
    expand,
    row_ids,
    timestamps,
    uniform_between,
)
from .customers import order_values
from .generator import DemoGenerator
from .planted import (
    ATTRIBUTION_DAYS,
    BROKEN_SPLIT_STREAM,
    CHANNEL_FUNNEL,
    LOST_CONTROL_SHARE,
    OBJECTIVE_LABEL,
    OBJECTIVES,
    REACTIVATION_LAPSE_DAYS,
    SEGMENT_EFFECT,
    SEGMENT_PREPERIOD_DAYS,
    SEGMENTS,
)


class _Funnel(TypedDict):
    """One channel of :data:`CHANNEL_FUNNEL`: funnel rates, cost, effect and duration ranges."""

    delivered: float
    opened: float
    clicked: float
    unsubscribed: float
    cost: tuple[float, float]
    fixed: tuple[int, int]
    effect: tuple[float, float]
    days: tuple[int, int]
    weight: float


#: ``CHANNEL_FUNNEL`` is a plain dict of dicts (its values infer as ``object``): its shape.
_FUNNEL = cast(dict[str, _Funnel], CHANNEL_FUNNEL)


def campaigns(gen: DemoGenerator) -> None:
    rng = gen.rng
    chans = list(_FUNNEL)
    ch_weight = np.array([_FUNNEL[c]["weight"] for c in chans])
    ch_weight = ch_weight / ch_weight.sum()
    plan = []
    for b in range(gen.nb):
        k = int(rng.integers(10, 15))
        channel = np.concatenate(
            [
                rng.permutation(len(chans)),
                rng.choice(len(chans), size=k - len(chans), p=ch_weight),
            ]
        )
        rng.shuffle(channel)
        objective = rng.choice(4, size=k)  # retention, cross_sell, loyalty, seasonal
        objective[int(rng.integers(0, k))] = 4  # one winback campaign
        zero = int(rng.choice(np.flatnonzero(objective != 4)))
        lo = gen.T0 + 120 * DAY
        hi = gen.T_END - (ATTRIBUTION_DAYS + 42) * DAY
        start_day = np.sort(rng.integers(lo // DAY, hi // DAY + 1, size=k))
        with_line = rng.random(k) < 0.5
        line = rng.integers(0, 2, size=k)
        for j in range(k):
            f = _FUNNEL[chans[channel[j]]]
            obj = OBJECTIVES[objective[j]]
            has_line = bool(with_line[j]) or obj == "cross_sell"
            days = int(rng.integers(f["days"][0], f["days"][1] + 1))
            effect = 0.0 if j == zero else rng.uniform(*f["effect"]) * gen.brand_scale[b]
            plan.append(
                dict(
                    brand=b,
                    channel=chans[channel[j]],
                    objective=obj,
                    line=int(line[j]) if has_line else -1,
                    starts_at=int(start_day[j]) * DAY,
                    ends_at=(int(start_day[j]) + days) * DAY,
                    fixed_cost=round(
                        rng.uniform(*f["fixed"]) * gen.brand_scale[b] * gen.n / 20_000, 2
                    ),
                    cost_per_contact=round(rng.uniform(*f["cost"]), 2),
                    planned_control_share=round(rng.uniform(0.10, 0.20), 2),
                    fraction=rng.uniform(0.05, 0.20),
                    effect=round(effect, 1),
                )
            )
    # one e-mail campaign per brand in the last month: a report on the latest period has a
    # campaign to show. Its outcome window runs past the end of the data; the planted truth
    # is the part of the effect inside the data (the window is "still open").
    late = gen.late_rng
    f = _FUNNEL["email"]
    for b in range(gen.nb):
        start = int(late.integers((gen.T_END - 26 * DAY) // DAY, (gen.T_END - 12 * DAY) // DAY))
        plan.append(
            dict(
                brand=b,
                channel="email",
                objective=OBJECTIVES[int(late.integers(0, 4))],
                line=-1,
                starts_at=start * DAY,
                ends_at=(start + 7) * DAY,
                fixed_cost=round(
                    late.uniform(*f["fixed"]) * gen.brand_scale[b] * gen.n / 20_000, 2
                ),
                cost_per_contact=round(late.uniform(*f["cost"]), 2),
                planned_control_share=0.2,
                fraction=late.uniform(0.10, 0.20),
                effect=round(late.uniform(*f["effect"]) * gen.brand_scale[b], 1),
                late=True,
            )
        )
    plan.sort(key=lambda c: (c.get("late", False), c["starts_at"], c["brand"]))
    gen.campaign_plan = plan

    base = gen.base_orders
    index = SortedTimes((base["cust"].astype(np.int64) << 32) | (base["t"] - gen.T0))
    extras: dict[str, list[np.ndarray]] = {
        k: [] for k in ("cust", "t", "code", "revenue", "cost", "channel")
    }
    members: dict[str, list[np.ndarray]] = {
        k: []
        for k in (
            "cid",
            "cust",
            "control",
            "sent",
            "delivered",
            "opened",
            "clicked",
            "unsub",
            "responded",
        )
    }
    truth_m: dict[str, list[np.ndarray]] = {
        k: [] for k in ("cid", "cust", "control", "segment", "exp_rev", "exp_margin", "real_rev")
    }
    truth_c = []
    truth_s = []
    pre = SEGMENT_PREPERIOD_DAYS * DAY
    for cid, c in enumerate(plan, start=1):
        rng = gen.late_rng if c.get("late") else gen.rng
        b = c["brand"]
        f = _FUNNEL[c["channel"]]
        t0 = c["starts_at"]
        sm = int(np.searchsorted(gen.mstart, t0, side="right") - 1)
        pool = gen.brand_members[b]
        ok = gen.first_order[pool] < t0
        if c["line"] >= 0:
            target_line = 1 - c["line"] if c["objective"] == "cross_sell" else c["line"]
            ok &= gen.line[pool] == target_line
        alive = gen.alive_in(sm)[pool]
        ok &= ~alive if c["objective"] == "winback" else alive
        eligible = pool[ok]
        m = int(round(c["fraction"] * len(eligible)))
        cust = np.sort(rng.choice(eligible, size=m, replace=False)).astype(np.int64)
        n_ctrl = int(round(c["planned_control_share"] * m))
        control = np.zeros(m, dtype=bool)
        control[rng.permutation(m)[:n_ctrl]] = True

        # pre-treatment segment from the orders placed before the start
        t0r = t0 - gen.T0
        extra_index = SortedTimes(
            (np.concatenate(extras["cust"]).astype(np.int64) << 32)
            | (np.concatenate(extras["t"]) - gen.T0)
            if extras["cust"]
            else np.zeros(0, dtype=np.int64)
        )
        t_pre = np.full(m, t0r - pre, dtype=np.int64)
        t_now = np.full(m, t0r, dtype=np.int64)
        recent = (index.count(cust, t_pre, t_now) + extra_index.count(cust, t_pre, t_now)) > 0
        first_recent = np.minimum(
            index.first_from(cust, t_pre), extra_index.first_from(cust, t_pre)
        )
        before = np.maximum(index.last_before(cust, t_pre), extra_index.last_before(cust, t_pre))
        is_new = (gen.first_order[cust] - gen.T0) >= t0r - pre
        react = recent & ~is_new & (first_recent - before >= REACTIVATION_LAPSE_DAYS * DAY)
        segment = np.where(is_new, 0, np.where(react, 1, np.where(recent, 2, 3))).astype(np.int8)
        mult = np.array([SEGMENT_EFFECT[s] for s in SEGMENTS])[segment]

        # funnel of the treatment group
        treated = ~control
        sent = np.where(treated, t0 + rng.integers(8 * HOUR, 2 * DAY, m), 0)
        delivered = treated & (rng.random(m) < f["delivered"])
        opened = delivered & (rng.random(m) < f["opened"])
        open_t = sent + np.round(np.exp(np.log(3 * HOUR) + rng.standard_normal(m))).astype(np.int64)
        clicked = opened & (rng.random(m) < f["clicked"])
        click_t = open_t + np.round(np.exp(np.log(5 * MINUTE) + rng.standard_normal(m))).astype(
            np.int64
        )
        unsub = delivered & (rng.random(m) < f["unsubscribed"])
        unsub_t = sent + np.round(np.exp(np.log(6 * HOUR) + rng.standard_normal(m))).astype(
            np.int64
        )

        # planted extra orders
        code = np.where(c["line"] >= 0, b * 2 + c["line"], b * 2 + gen.line[cust].astype(np.int64))
        exp_rev = c["effect"] * mult
        exp_margin = exp_rev * gen.line_margin[code]
        lam = np.where(delivered, exp_rev / (f["delivered"] * gen.line_mean[code]), 0.0)
        n_extra = rng.poisson(lam)
        g, _ = expand(n_extra)
        w_end = c["ends_at"] + ATTRIBUTION_DAYS * DAY
        et = uniform_between(rng, sent[g], np.full(len(g), w_end))
        inside = et < gen.T_END  # no order after the end of the data
        g, et, n_extra = g[inside], et[inside], np.bincount(g[inside], minlength=m)
        # the planted truth is the expected effect inside the data: extra orders are uniform
        # over [sent, window end), so a window cut by the end of the data keeps that share
        seen = np.clip((gen.T_END - sent) / np.maximum(w_end - sent, 1), 0.0, 1.0)
        exp_rev = np.where(treated, exp_rev * seen, exp_rev)
        exp_margin = np.where(treated, exp_margin * seen, exp_margin)
        e_cust = cust[g]
        vals = order_values(
            gen,
            e_cust.astype(np.int32),
            et,
            code[g].astype(np.int8),
            channel_p=(0.8, 0.1, 0.1, 0.0),
            rng=rng,
        )
        for key in extras:
            extras[key].append(vals[key])
        real_rev = np.bincount(g, weights=vals["revenue"], minlength=m)
        real_margin = np.bincount(g, weights=vals["revenue"] - vals["cost"], minlength=m)
        first_buy = np.full(m, np.iinfo(np.int64).max)
        np.minimum.at(first_buy, g, et)
        bought = n_extra > 0
        talk = clicked & (rng.random(m) < 0.10)
        talk_t = click_t + np.round(np.exp(np.log(2 * HOUR) + rng.standard_normal(m))).astype(
            np.int64
        )
        responded = bought | talk
        resp_t = np.where(talk, np.minimum(first_buy, talk_t), first_buy)

        def _valid(flag, t):
            return flag & (t < gen.T_END)

        members["cid"].append(np.full(m, cid))
        members["cust"].append(cust)
        members["control"].append(control)
        members["sent"].append(sent)
        members["delivered"].append(delivered)
        members["opened"].append(np.where(_valid(opened, open_t), open_t, -1))
        members["clicked"].append(np.where(_valid(clicked, click_t), click_t, -1))
        members["unsub"].append(np.where(_valid(unsub, unsub_t), unsub_t, -1))
        members["responded"].append(np.where(_valid(responded, resp_t), resp_t, -1))
        truth_m["cid"].append(np.full(m, cid))
        truth_m["cust"].append(cust)
        truth_m["control"].append(control)
        truth_m["segment"].append(segment)
        truth_m["exp_rev"].append(exp_rev)
        truth_m["exp_margin"].append(exp_margin)
        truth_m["real_rev"].append(real_rev)
        nt = int(treated.sum())
        truth_c.append(
            dict(
                brand=b,
                campaign_id=cid,
                channel=c["channel"],
                product_line=gen.line_names[b * 2 + c["line"]] if c["line"] >= 0 else None,
                objective=c["objective"],
                planted_effect=c["effect"],
                members=m,
                n_treated=nt,
                n_control=m - nt,
                true_incremental_revenue_per_treated=float(exp_rev[treated].mean()) if nt else 0.0,
                true_incremental_margin_per_treated=float(exp_margin[treated].mean())
                if nt
                else 0.0,
                realised_incremental_revenue_per_treated=float(real_rev.sum() / nt) if nt else 0.0,
                realised_incremental_margin_per_treated=float(real_margin.sum() / nt)
                if nt
                else 0.0,
                outcome_window_start=t0,
                outcome_window_end=w_end,
            )
        )
        for s, seg in enumerate(SEGMENTS):
            sel = segment == s
            st = sel & treated
            nst = int(st.sum())
            truth_s.append(
                dict(
                    brand=b,
                    campaign_id=cid,
                    segment=seg,
                    effect_multiplier=SEGMENT_EFFECT[seg],
                    n_treated=nst,
                    n_control=int((sel & control).sum()),
                    # the mean over the segment's treated members of their expected effect,
                    # like the campaign's: tau_c * m_s, cut by the end of the data for the
                    # campaigns of the last month (None without a treated member)
                    true_incremental_revenue_per_treated=(
                        float(exp_rev[st].mean()) if nst else None
                    ),
                    true_incremental_margin_per_treated=(
                        float(exp_margin[st].mean()) if nst else None
                    ),
                )
            )
    gen.extra_orders = {k: np.concatenate(v) if v else np.zeros(0) for k, v in extras.items()}
    del index
    _break_one_split(gen, plan, members, truth_m, truth_c, truth_s)
    _write_campaigns(gen, plan, members, truth_m, truth_c, truth_s)


def _break_one_split(gen: DemoGenerator, plan, members, truth_m, truth_c, truth_s) -> None:
    """Plant the one campaign whose split is not the planned one (issue 12).

    The campaign with the most members of the first brand (the last month's campaigns
    excepted; the lowest id on a tie) loses :data:`LOST_CONTROL_SHARE` of its control members
    from ``campaign_members`` (and from ``demo_truth_campaign_members``), picked at random from
    the separate stream ``[seed, BROKEN_SPLIT_STREAM]``: a broken export. Every random draw
    of the generator happens before, so every other row of every table is as without it; the
    lost members stay customers with their orders. The loss is at random, so the campaign's
    lift is still unbiased for its truth (its treated members are untouched), but its control
    share is far from the plan and the sample ratio check must flag it.

    Truth: ``demo_truth_campaigns.broken_split`` (True for that campaign only),
    ``n_control_assigned`` (controls randomised) next to ``n_control`` (controls exported)
    and ``members``; the segments' ``n_control`` count the exported ones.
    """
    for r in truth_c:
        r["broken_split"] = False
        r["n_control_assigned"] = r["n_control"]
    cands = [i for i, c in enumerate(plan) if c["brand"] == 0 and not c.get("late")]
    if not cands:
        return
    i = max(cands, key=lambda j: (len(members["cust"][j]), -j))
    control = members["control"][i]
    ctrl = np.flatnonzero(control)
    n_lost = int(round(LOST_CONTROL_SHARE * len(ctrl)))
    if n_lost == 0:
        return
    rng = np.random.default_rng([gen.seed, BROKEN_SPLIT_STREAM])
    lost = np.zeros(len(control), dtype=bool)
    lost[rng.choice(ctrl, size=n_lost, replace=False)] = True
    keep = ~lost
    for key in members:
        members[key][i] = members[key][i][keep]
    for key in truth_m:
        truth_m[key][i] = truth_m[key][i][keep]
    cid = i + 1
    rec = truth_c[i]
    assert rec["campaign_id"] == cid
    rec["broken_split"] = True
    rec["n_control"] -= n_lost
    rec["members"] -= n_lost
    segment = truth_m["segment"][i]
    kept_control = truth_m["control"][i]
    for r in truth_s:
        if r["campaign_id"] == cid:
            s = SEGMENTS.index(r["segment"])
            r["n_control"] = int(((segment == s) & kept_control).sum())


def _write_campaigns(gen: DemoGenerator, plan, members, truth_m, truth_c, truth_s) -> None:
    ids = [x.id for x in gen.brands]
    nc = len(plan)
    line = np.array([c["line"] for c in plan])
    cbrand = np.array([c["brand"] for c in plan])
    names = [
        f"{OBJECTIVE_LABEL[gen.brands[c['brand']].locale][c['objective']]}"
        + (f" {gen.line_names[c['brand'] * 2 + c['line']]}" if c["line"] >= 0 else "")
        + f" {np.datetime64(c['starts_at'], 's').astype('datetime64[M]')} ({c['channel']})"
        for c in plan
    ]
    gen.campaign_brand = cbrand
    gen.campaign_start = np.array([c["starts_at"] for c in plan], dtype=np.int64)
    gen.campaign_end = np.array([c["ends_at"] for c in plan], dtype=np.int64)
    gen.write(
        "campaigns",
        {
            "campaign_id": column(row_ids(nc)),
            "brand": categorical(cbrand, ids),
            "product_line": categorical(
                np.where(line >= 0, cbrand * 2 + line, 0), gen.line_names, mask=line < 0
            ),
            "name": pa.array(names, type=pa.string()),
            "channel": categorical(
                np.array([CHANNELS.index(c["channel"]) for c in plan]), CHANNELS
            ),
            "objective": categorical(
                np.array([OBJECTIVES.index(c["objective"]) for c in plan]), OBJECTIVES
            ),
            "starts_at": timestamps(gen.campaign_start),
            "ends_at": timestamps(gen.campaign_end),
            "fixed_cost": column(np.array([c["fixed_cost"] for c in plan], dtype=float)),
            "cost_per_contact": column(
                np.array([c["cost_per_contact"] for c in plan], dtype=float)
            ),
            "planned_control_share": column(
                np.array([c["planned_control_share"] for c in plan], dtype=float)
            ),
        },
    )

    def cat(key, dtype=None):
        v = members[key]
        return np.concatenate(v) if v else np.zeros(0, dtype=dtype or np.int64)

    cid = cat("cid")
    control = cat("control", bool)
    treated = ~control
    gen.write(
        "campaign_members",
        {
            "campaign_id": column(cid.astype(np.int64)),
            "customer_id": column(cat("cust") + 1),
            "brand": categorical(cbrand[cid - 1] if len(cid) else cid, ids),
            "group": categorical(control.astype(np.int8), ("treatment", "control")),
            "sent_at": timestamps(cat("sent"), mask=control),
            "delivered": column(cat("delivered", bool), mask=control),
            **{
                col: timestamps(np.maximum(v, 0), mask=(v < 0) | control)
                for col, v in (
                    ("opened_at", cat("opened")),
                    ("clicked_at", cat("clicked")),
                    ("unsubscribed_at", cat("unsub")),
                    ("responded_at", cat("responded")),
                )
            },
        },
    )
    del treated

    def tcat(key, dtype=np.float64):
        v = truth_m[key]
        return np.concatenate(v) if v else np.zeros(0, dtype=dtype)

    t_cid = tcat("cid", np.int64)
    gen.write_truth(
        "demo_truth_campaign_members",
        {
            "campaign_id": column(t_cid.astype(np.int64)),
            "customer_id": column(tcat("cust", np.int64) + 1),
            "brand": categorical(cbrand[t_cid - 1] if len(t_cid) else t_cid, ids),
            "group": categorical(tcat("control", bool).astype(np.int8), ("treatment", "control")),
            "segment": categorical(tcat("segment", np.int8), SEGMENTS),
            "expected_incremental_revenue": column(tcat("exp_rev")),
            "expected_incremental_margin": column(tcat("exp_margin")),
            "realised_incremental_revenue": column(np.round(tcat("real_rev"), 2)),
        },
        types={
            "campaign_id": "BIGINT",
            "customer_id": "BIGINT",
            "brand": "VARCHAR",
            "group": "VARCHAR",
            "segment": "VARCHAR",
        },
    )
    types_c = {
        "brand": "VARCHAR",
        "campaign_id": "BIGINT",
        "channel": "VARCHAR",
        "product_line": "VARCHAR",
        "objective": "VARCHAR",
        "members": "BIGINT",
        "n_treated": "BIGINT",
        "n_control": "BIGINT",
        "n_control_assigned": "BIGINT",
        "broken_split": "BOOLEAN",
        "outcome_window_start": "TIMESTAMP",
        "outcome_window_end": "TIMESTAMP",
        "segment": "VARCHAR",
    }
    gen.write_truth("demo_truth_campaigns", _records(truth_c, ids), types_c)
    gen.write_truth("demo_truth_campaign_segments", _records(truth_s, ids), types_c)


def _records(records: list[dict], ids) -> dict[str, pa.Array]:
    cols = {}
    for key in records[0]:
        values = [r[key] for r in records]
        if key == "brand":
            cols[key] = pa.array([ids[v] for v in values], type=pa.string())
        elif key.startswith("outcome_window"):
            cols[key] = timestamps(np.array(values, dtype=np.int64))
        else:
            cols[key] = pa.array(values)
    return cols
