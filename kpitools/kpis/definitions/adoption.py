"""CRM adoption KPIs (seed 003 "Metriche di adozione").

Measure groups (one database query each):

``crm_usage``
    the CRM users who held an account during each period of the window (range join with the
    window's periods), with their logins in the period.
``customer_records``
    customer records created in the period, and those with every key field filled.

CRM users and logins have no product line: a product-line report shows the brand's figures.
"""

from __future__ import annotations

import ibis

from ..registry import kpi, measure
from .common import flag, period_grid, safe_div

#: Customer fields that a complete record has filled (see ``data_completeness_rate``).
KEY_FIELDS = ("email", "phone", "region", "acquisition_channel")


@measure("crm_usage", tables=("crm_users", "crm_logins"))
def crm_usage(ctx):
    """Per period, the CRM users whose account existed during it, those of them with at least
    one login in the period, and their logins.

    An account exists from ``created_at`` (when unknown: from the user's first login, or for a
    user who never logged in from the brand's first login, so that the periods before the CRM
    was in use say "no data" rather than 0 %) until ``deactivated_at`` (none: still active).
    """
    lg = ctx.table("crm_logins")  # all dates: when an account started is not a measure
    first = lg.group_by(first_user=lg.user_id).aggregate(first_login=lg.logged_in_at.min())
    u = ctx.table("crm_users")
    u = u.left_join(first, u.user_id == first.first_user)
    u = u.mutate(
        since=ibis.coalesce(u.created_at, u.first_login, lg.logged_in_at.min().as_scalar())
    )
    u = u.filter(
        (u.since.isnull() | (u.since < ctx.end))
        & (u.deactivated_at.isnull() | (u.deactivated_at >= ctx.start))
    )
    g = period_grid(ctx)
    t = u.inner_join(
        g,
        [
            u.since.isnull() | (u.since < g.period_end),
            u.deactivated_at.isnull() | (u.deactivated_at >= g.period),
        ],
    )
    lg = lg.filter(ctx.in_window(lg.logged_in_at))
    per_user = lg.group_by(
        login_user=lg.user_id, login_period=ctx.bucket(lg.logged_in_at)
    ).aggregate(logins=lg.count())
    t = t.left_join(
        per_user, (t.user_id == per_user.login_user) & (t.period == per_user.login_period)
    )
    t, keys = ctx.grouped(t, "period", customer_col=None)
    logins = t.logins.fill_null(0)
    return t.group_by(**keys).aggregate(
        n_rows=t.count(),
        crm_users=t.count(),
        active_crm_users=flag(logins > 0),
        logins=logins.sum(),
    )


def _filled(col):
    """A value is filled when it is not NULL and, for text, not blank."""
    if col.type().is_string():
        return col.notnull() & (col.strip() != "")
    return col.notnull()


@measure("customer_records", tables=("customers",))
def customer_records(ctx):
    """Customer records created per period, and those with every *captured* key field of
    :data:`KEY_FIELDS` filled. A key field is captured when at least one of the brand's records
    (any date) has it filled: a field the source does not hold, or never fills, would
    otherwise make every record incomplete."""
    c = ctx.table("customers")
    whole = ibis.window()
    captured = {f: ibis.ifelse(_filled(c[f]), 1, 0).sum().over(whole) > 0 for f in KEY_FIELDS}
    c = c.mutate(
        _complete=ibis.and_(*(~captured[f] | _filled(c[f]) for f in KEY_FIELDS)),
        _captured=sum(ibis.ifelse(captured[f], 1, 0) for f in KEY_FIELDS),
    )
    c = c.filter(ctx.in_window(c.created_at))
    c, keys = ctx.grouped(c, "created_at")
    return c.group_by(**keys).aggregate(
        n_rows=c.count(),
        customer_records=c.count(),
        complete_records=flag(c._complete),
        key_fields=c._captured.max(),
    )


@kpi("active_crm_users_rate")
def active_crm_users_rate(m):
    """CRM users with at least one login (``crm_logins.logged_in_at``) in the period, divided by
    the CRM users whose account existed during the period: ``crm_users.created_at`` before the
    period's end and ``deactivated_at`` missing or not before its start (a user without
    ``created_at`` counts from their first login; one who never logged in, from the brand's
    first login). Logins of users not in ``crm_users`` are ignored."""
    return safe_div(m["active_crm_users"], m["crm_users"])


@kpi("logins_per_user")
def logins_per_user(m):
    """Logins in the period of the CRM users whose account existed during the period, divided by
    those users (the denominator of ``active_crm_users_rate``: users who never logged in count)."""
    return safe_div(m["logins"], m["crm_users"])


@kpi("data_completeness_rate")
def data_completeness_rate(m):
    """Customer records whose ``created_at`` falls in the period with e-mail, phone, region and
    acquisition channel all filled (not NULL, text not blank), divided by the customer records
    created in the period. Records created in the period measure how the CRM is used now (a
    stock of old records hardly moves); a key field that no record of the brand ever fills
    (absent from the source) is not required; no data when none is captured."""
    return safe_div(m["complete_records"], m["customer_records"]).where(m["key_fields"] > 0)
