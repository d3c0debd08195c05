"""Customer service: cases and the calls of the phone ones."""

from __future__ import annotations

import numpy as np

from .arrays import (
    DAY,
    HOUR,
    MINUTE,
    categorical,
    column,
    expand,
    row_ids,
    timestamps,
    uniform_between,
)
from .generator import DemoGenerator
from .planted import (
    CASE_CHANNELS,
    QUEUES,
)


def cases_and_calls(gen: DemoGenerator) -> None:
    rng = gen.rng
    n = int(round(0.2 * gen.n))
    n_anon = int(round(0.05 * n))
    cust, t_c = gen.sample_active(n - n_anon)
    b_anon = rng.choice(gen.nb, size=n_anon, p=gen.brand_counts(1000) / 1000)
    t_anon = gen.times_over_span(b_anon)
    brand = np.concatenate([gen.brand[cust].astype(np.int64), b_anon])
    customer = np.concatenate([cust, np.full(n_anon, -1)])
    opened = np.concatenate([t_c, t_anon])
    order = np.argsort(opened, kind="stable")
    brand, customer, opened = brand[order], customer[order], opened[order]

    channel = rng.choice(len(CASE_CHANNELS), size=n, p=(0.5, 0.3, 0.1, 0.1))
    phone = channel == 0
    complaint = rng.random(n) < np.array([x.complaint_share for x in gen.brands])[brand]
    sla = np.where(complaint | phone, 24.0, 48.0)
    first_delay = np.exp(
        np.where(phone, np.log(2 * MINUTE), np.log(40 * MINUTE)) + rng.standard_normal(n)
    )
    first_resp = opened + np.round(first_delay).astype(np.int64)
    fcr = np.array([x.first_contact_resolution_probability for x in gen.brands])[brand]
    contacts = np.where(
        rng.random(n) < fcr, 1, 2 + rng.choice(3, size=n, p=(0.6, 0.25, 0.15))
    ).astype(np.int64)
    res_h = np.exp(np.log(8.0) + 1.2 * rng.standard_normal(n))
    res_h = res_h * np.where(complaint, 3.0, 1.0) * (1.0 + 0.7 * (contacts - 1))
    resolved = opened + np.maximum(
        np.round(res_h * HOUR).astype(np.int64), first_resp - opened + 5 * MINUTE
    )
    unresolved = (rng.random(n) < 0.02) | (resolved >= gen.T_END)
    first_null = first_resp >= gen.T_END
    cost = np.round(contacts * rng.uniform(6.0, 12.0, n) * np.where(complaint, 1.5, 1.0), 2)
    ids = [x.id for x in gen.brands]
    # the line a case is about: mostly the customer's own line (their machine, their capsule
    # order), sometimes the other one, sometimes none (an account or billing question)
    case_line = gen.draw_lines(brand, customer, own=0.82, other=0.1)
    gen.write(
        "cases",
        {
            "case_id": column(row_ids(n)),
            "brand": categorical(brand, ids),
            "customer_id": column(customer + 1, mask=customer < 0),
            "product_line": gen.line_column(case_line),
            "channel": categorical(channel, CASE_CHANNELS),
            "opened_at": timestamps(opened),
            "first_response_at": timestamps(first_resp, mask=first_null),
            "resolved_at": timestamps(resolved, mask=unresolved),
            "sla_hours": column(sla),
            "is_complaint": column(complaint),
            "contacts_to_resolve": column(contacts, mask=unresolved),
            "handling_cost": column(cost, mask=unresolved),
        },
    )

    # calls: one per contact of phone cases (callbacks after the first), plus unlinked calls
    k = np.where(phone, np.where(unresolved, 1, contacts), 0)
    g, rank = expand(k)
    horizon = np.where(unresolved, np.minimum(opened + 7 * DAY, gen.T_END), resolved)[g]
    t_link = np.where(rank == 0, opened[g], uniform_between(rng, opened[g] + HOUR, horizon))
    t_link = np.minimum(t_link, gen.T_END - 1)
    n_free = int(round(0.35 * len(g)))
    f_cust, t_free = gen.sample_active(n_free)
    c_brand = np.concatenate([brand[g], gen.brand[f_cust].astype(np.int64)])
    c_case = np.concatenate([g + 1, np.full(n_free, -1)])
    queue = np.concatenate(
        [np.where(complaint[g], 1, 0), rng.choice([0, 2, 3], size=n_free, p=(0.3, 0.4, 0.3))]
    )
    offered = np.concatenate([t_link, t_free])
    order = np.argsort(offered, kind="stable")
    c_brand, c_case, queue, offered = (
        c_brand[order],
        c_case[order],
        queue[order],
        offered[order],
    )
    m = len(offered)
    # a case's calls are about its line; other calls about the caller's line (or none)
    call_line = np.concatenate(
        [
            case_line[g],
            gen.draw_lines(gen.brand[f_cust].astype(np.int64), f_cust, own=0.8, other=0.1),
        ]
    )[order]
    p_ab = np.array([x.call_abandonment_probability for x in gen.brands])[c_brand]
    abandoned = rng.random(m) < p_ab
    answered = offered + np.round(rng.exponential(40.0, m)).astype(np.int64)
    handle = np.round(
        np.exp(np.log(300.0) + 0.5 * rng.standard_normal(m)) * np.where(queue == 1, 1.5, 1.0)
    )
    ended = answered + handle.astype(np.int64)
    no_answer = abandoned | (ended >= gen.T_END)
    agent = gen.pick_user(c_brand, ("service",))
    gen.write(
        "calls",
        {
            "call_id": column(row_ids(m)),
            "brand": categorical(c_brand, ids),
            "queue": categorical(queue, QUEUES),
            "product_line": gen.line_column(call_line),
            "agent_id": column(agent, mask=no_answer),
            "case_id": column(c_case, mask=c_case < 0),
            "offered_at": timestamps(offered),
            "answered_at": timestamps(answered, mask=no_answer),
            "ended_at": timestamps(ended, mask=no_answer),
            "handle_seconds": column(handle, mask=no_answer),
        },
    )
