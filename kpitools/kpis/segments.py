"""The lapse rule and the customer segments built on it: one definition for the scorecard
(:meth:`kpitools.kpis.compute.QueryContext.customer_periods`), the churn KPIs
(:mod:`kpitools.kpis.definitions.common`) and the campaign ROI (:mod:`kpitools.roi.outcomes`).

The lapse rule (non-contractual customers, ``L = settings.lapse_days``)
    A customer is *active* at an instant ``t`` when they placed an order in the ``L`` days before
    it, ``t - L <= ordered_at < t``. A customer whose last order was at ``o`` is active until
    ``o + L`` and *lapses* (becomes inactive) just after it, unless they order again by then. An
    order that comes more than ``L`` days after the previous one (``previous + L < ordered_at``)
    is a *reactivation*: the customer had lapsed and is back.

Segments of a customer who ordered in a reference period ``W`` (a calendar period of the report,
or the pre-period of a campaign), first matching rule wins:

``new``
    no order before ``W``: the first order ever falls in ``W``;
``reactivated``
    the first order in ``W`` is a reactivation (more than ``L`` days after the last order
    before ``W``): the customer was lapsed at the start of it;
``steady``
    also ordered in the reference period just before ``W`` (the previous calendar period);
``returning``
    any other customer who ordered in ``W``: active at its start (ordered in the ``L`` days
    before it) but not in the previous period.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from ..vocab import Segment


def lapse_interval(lapse_days: int) -> ir.IntervalScalar:
    """The lapse ``L`` as an Ibis interval (days)."""
    return ibis.interval(days=int(lapse_days))


def is_reactivation(
    previous_order: ir.TimestampValue, order: ir.TimestampValue, lapse_days: int
) -> ir.BooleanValue:
    """Whether ``order`` comes back after a lapse: ``previous_order + L < order``.

    NULL ``previous_order`` (a first order ever) is not a reactivation (false, not NULL).
    """
    return (previous_order + lapse_interval(lapse_days) < order).fill_null(False)


def customer_segment(
    *,
    first_ever: ir.BooleanValue,
    last_before: ir.TimestampValue,
    first_in_period: ir.TimestampValue,
    bought_previous: ir.BooleanValue,
    lapse_days: int,
) -> ir.StringValue:
    """The segment (``new``, ``reactivated``, ``steady``, ``returning``) of a customer who ordered
    in a reference period ``W``: the one segment rule of kpitools (see the module docstring).

    Parameters
    ----------
    first_ever : ibis boolean
        True when the customer has no order before ``W``.
    last_before : ibis timestamp
        The customer's last order before ``W`` (NULL when none).
    first_in_period : ibis timestamp
        The customer's first order in ``W``.
    bought_previous : ibis boolean
        Whether the customer ordered in the reference period just before ``W``.
    lapse_days : int
        ``settings.lapse_days``.

    Returns
    -------
    ibis string
        A :class:`kpitools.vocab.Segment` value.
    """
    return ibis.cases(
        (first_ever, Segment.NEW.value),
        (is_reactivation(last_before, first_in_period, lapse_days), Segment.REACTIVATED.value),
        (bought_previous.fill_null(False), Segment.STEADY.value),
        else_=Segment.RETURNING.value,
    )


__all__ = ["customer_segment", "is_reactivation", "lapse_interval"]
