"""CRM users and their logins (the adoption KPIs' tables)."""

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
    ROLES,
)


def crm_users(gen: DemoGenerator) -> None:
    rng = gen.rng
    brand_n = np.bincount(gen.brand, minlength=gen.nb)
    per_brand = np.maximum(10, np.round(0.005 * brand_n).astype(np.int64))
    brand = np.repeat(np.arange(gen.nb, dtype=np.int64), per_brand)
    n = len(brand)
    grp, rank = expand(per_brand)
    base_roles = np.array([0, 0, 1, 1, 2])  # at least 2 sales, 2 service, 1 marketing
    role = np.where(
        rank < 5,
        base_roles[np.minimum(rank, 4)],
        rng.choice(3, size=n, p=(0.4, 0.4, 0.2)),
    )
    early = rng.random(n) < 0.7
    created = np.where(
        early,
        gen.T0 + rng.integers(0, 14 * DAY, n),
        rng.integers(gen.T0, gen.T_END - 30 * DAY, n),
    )
    deact_t = uniform_between(rng, created + 60 * DAY, np.full(n, gen.T_END))
    deactivated = (rng.random(n) < 0.10) & (rank >= 5) & (deact_t < gen.T_END)
    gen.users_by = {
        (b, r): np.flatnonzero((brand == b) & (role == i)) + 1
        for b in range(gen.nb)
        for i, r in enumerate(ROLES)
    }
    gen.user_brand = brand
    ids = [x.id for x in gen.brands]
    gen.write(
        "crm_users",
        {
            "user_id": column(row_ids(n)),
            "brand": categorical(brand, ids),
            "role": categorical(role, ROLES),
            "created_at": timestamps(created),
            "deactivated_at": timestamps(np.where(deactivated, deact_t, 0), mask=~deactivated),
        },
    )

    # logins: per user and month while the account is active
    end = np.where(deactivated, deact_t, gen.T_END)
    um_user, um_month = expand(np.full(n, gen.months))
    lo = np.maximum(gen.mstart[um_month], created[um_user])
    hi = np.minimum(gen.mstart[um_month + 1], end[um_user])
    p_login = np.array([x.crm_monthly_login_probability for x in gen.brands])[brand]
    logs = (hi > lo) & (rng.random(len(lo)) < p_login[um_user])
    k = np.where(logs, 1 + rng.poisson(5.0, len(lo)), 0)
    g, _ = expand(k)
    t = uniform_between(rng, lo[g], hi[g])
    user = um_user[g]
    order = np.argsort(t, kind="stable")
    t, user = t[order], user[order]
    gen.write(
        "crm_logins",
        {
            "login_id": column(row_ids(len(t))),
            "user_id": column(user + 1),
            "brand": categorical(brand[user], ids),
            "logged_in_at": timestamps(t),
        },
    )
