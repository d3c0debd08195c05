"""Service KPIs (seed 003 "Service", seed 000).

Two measure groups, one query each:

``cases``
    one pass over ``cases``. A case belongs to the period of its resolution (``resolved_at``);
    a case still unresolved belongs to the period in which its SLA deadline
    (``opened_at + sla_hours``) passed, where it counts as an SLA breach and in nothing else.
``calls``
    one pass over ``calls``; a call belongs to the period in which it was offered
    (``offered_at``). Calls carry no customer, so they cannot be broken down by segment,
    product line or acquisition channel.
"""

from __future__ import annotations

import ibis

from ..compute import safe_div
from ..registry import kpi, measure
from .common import flag

HOUR_SECONDS = 3600.0


@measure("cases", tables=("cases",))
def cases_measure(ctx):
    """Cases per period of resolution, plus unresolved cases whose SLA deadline passed in the
    period (SLA breaches), with resolution, first-response and cost figures.

    A resolution (or first-response) time is ``resolved_at - opened_at`` in hours; cases whose
    timestamps are in the wrong order (resolved or answered before being opened) are left out
    of the time statistics as data errors, but still count as handled.
    """
    c = ctx.table("cases")
    due = c.opened_at + (c.sla_hours * HOUR_SECONDS).round().cast("int64").as_interval("s")
    c = c.mutate(case_placed_at=ibis.coalesce(c.resolved_at, due))
    c = c.filter(ctx.in_window(c.case_placed_at))
    c, keys = ctx.grouped(c, "case_placed_at")

    resolved = c.resolved_at.notnull()
    res_secs = c.resolved_at.epoch_seconds() - c.opened_at.epoch_seconds()
    res_hours = ibis.ifelse(resolved & (res_secs >= 0), res_secs / HOUR_SECONDS, ibis.null())
    first_secs = c.first_response_at.epoch_seconds() - c.opened_at.epoch_seconds()
    first_hours = ibis.ifelse(resolved & (first_secs >= 0), first_secs / HOUR_SECONDS, ibis.null())
    complaint = resolved & c.is_complaint
    costed = resolved & c.handling_cost.notnull() & (c.contacts_to_resolve > 0)
    with_sla = c.sla_hours.notnull()
    return c.group_by(**keys).aggregate(
        n_rows=c.count(),
        cases_resolved=flag(resolved),
        same_day=flag(resolved & (c.opened_at.truncate("D") == c.resolved_at.truncate("D"))),
        resolution_n=res_hours.count(),
        resolution_hours_sum=res_hours.sum(),
        resolution_hours_median=res_hours.median(),
        resolution_hours_p90=res_hours.quantile(0.9),
        first_response_hours_median=first_hours.median(),
        complaint_resolution_n=flag(complaint & res_hours.notnull()),
        complaint_resolution_hours_sum=ibis.ifelse(complaint, res_hours, ibis.null()).sum(),
        handling_cost=ibis.ifelse(costed, c.handling_cost, ibis.null()).sum(),
        interactions=ibis.ifelse(costed, c.contacts_to_resolve, ibis.null()).sum(),
        sla_cases=flag(with_sla),
        sla_met=flag(with_sla & resolved & (res_secs <= c.sla_hours * HOUR_SECONDS)),
        fcr_cases=flag(resolved & c.contacts_to_resolve.notnull()),
        fcr_first_contact=flag(resolved & (c.contacts_to_resolve == 1)),
    )


@measure("calls", tables=("calls",))
def calls_measure(ctx):
    """Inbound service calls per period in which they were offered: answered, abandoned,
    handle times, distinct answering agents, callbacks, and the number of days in the period.

    A callback is a call linked to a case (``case_id``) that is not the first call of that
    case (first by ``offered_at``, ties broken by ``call_id``), looking back over all history.
    """
    c = ctx.table("calls")
    c = c.filter(c.offered_at < ctx.end)
    order = ibis.window(group_by=c.case_id, order_by=[c.offered_at, c.call_id])
    c = c.mutate(case_call_rank=ibis.row_number().over(order))
    c = c.filter(c.offered_at >= ctx.start)
    c, keys = ctx.grouped(c, "offered_at", customer_col=None)

    answered = c.answered_at.notnull()
    handle = ibis.ifelse(answered & (c.handle_seconds >= 0), c.handle_seconds, ibis.null()).cast(
        "float64"
    )
    agg = c.group_by(**keys).aggregate(
        n_rows=c.count(),
        calls_offered=c.count(),
        calls_answered=flag(answered),
        callbacks=flag(c.case_id.notnull() & (c.case_call_rank > 0)),
        handle_n=handle.count(),
        handle_seconds_sum=handle.sum(),
        handle_seconds_median=handle.median(),
        handle_seconds_p90=handle.quantile(0.9),
        calls_with_agent=flag(answered & c.agent_id.notnull()),
        answering_agents=c.agent_id.nunique(where=answered),
    )
    period_seconds = (agg.period + ctx.step).epoch_seconds() - agg.period.epoch_seconds()
    return agg.mutate(days_in_period=period_seconds / 86400.0)


# -- cases ---------------------------------------------------------------------------------------


@kpi(
    "cases_handled",
    department="service",
    unit="count",
    direction="higher",
    measure="cases",
    labels={
        "en": ("Cases handled", "Service cases closed (resolved) in the period."),
        "fr": ("Dossiers traités", "Dossiers de service clôturés (résolus) dans la période."),
        "it": ("Casi gestiti", "Casi di assistenza chiusi (risolti) nel periodo."),
    },
)
def cases_handled(m):
    """Number of cases whose ``resolved_at`` falls in the period (whenever they were opened)."""
    return m["cases_resolved"]


@kpi(
    "same_day_closure_rate",
    department="service",
    unit="ratio",
    direction="higher",
    measure="cases",
    labels={
        "en": (
            "Same-day closure rate",
            "Share of the cases closed in the period that were closed on the day they opened.",
        ),
        "fr": (
            "Taux de clôture le jour même",
            "Part des dossiers clôturés dans la période qui l'ont été le jour de leur ouverture.",
        ),
        "it": (
            "Tasso di chiusura in giornata",
            "Quota dei casi chiusi nel periodo chiusi lo stesso giorno dell'apertura.",
        ),
    },
)
def same_day_closure_rate(m):
    """Cases resolved in the period whose ``resolved_at`` is on the same calendar day as their
    ``opened_at``, divided by cases resolved in the period."""
    return safe_div(m["same_day"], m["cases_resolved"])


@kpi(
    "avg_resolution_hours",
    department="service",
    unit="hours",
    direction="lower",
    measure="cases",
    labels={
        "en": ("Average resolution time", "Mean hours from opening to resolution of a case."),
        "fr": (
            "Délai moyen de résolution",
            "Nombre moyen d'heures entre l'ouverture et la résolution d'un dossier.",
        ),
        "it": ("Tempo medio di risoluzione", "Ore medie dall'apertura alla risoluzione del caso."),
    },
)
def avg_resolution_hours(m):
    """Mean of ``resolved_at - opened_at`` in hours over cases resolved in the period (cases
    resolved before they were opened are left out as data errors)."""
    return safe_div(m["resolution_hours_sum"], m["resolution_n"])


@kpi(
    "median_resolution_hours",
    department="service",
    unit="hours",
    direction="lower",
    measure="cases",
    labels={
        "en": ("Median resolution time", "Median hours from opening to resolution of a case."),
        "fr": (
            "Délai médian de résolution",
            "Nombre médian d'heures entre l'ouverture et la résolution d'un dossier.",
        ),
        "it": (
            "Tempo mediano di risoluzione",
            "Ore mediane dall'apertura alla risoluzione del caso.",
        ),
    },
)
def median_resolution_hours(m):
    """Median of ``resolved_at - opened_at`` in hours over cases resolved in the period
    (interpolated between the two middle values)."""
    return m["resolution_hours_median"]


@kpi(
    "p90_resolution_hours",
    department="service",
    unit="hours",
    direction="lower",
    measure="cases",
    labels={
        "en": (
            "Resolution time, 90th percentile",
            "Hours within which 90 % of the period's resolved cases were resolved.",
        ),
        "fr": (
            "Délai de résolution, 90e centile",
            "Heures en deçà desquelles 90 % des dossiers résolus de la période l'ont été.",
        ),
        "it": (
            "Tempo di risoluzione, 90° percentile",
            "Ore entro cui è stato risolto il 90 % dei casi risolti nel periodo.",
        ),
    },
)
def p90_resolution_hours(m):
    """90th percentile (linear interpolation) of ``resolved_at - opened_at`` in hours over
    cases resolved in the period."""
    return m["resolution_hours_p90"]


@kpi(
    "first_response_hours",
    department="service",
    unit="hours",
    direction="lower",
    measure="cases",
    labels={
        "en": (
            "First response time",
            "Median hours from opening to the first response, cases closed in the period.",
        ),
        "fr": (
            "Délai de première réponse",
            "Nombre médian d'heures entre l'ouverture et la première réponse, dossiers clôturés dans la période.",
        ),
        "it": (
            "Tempo di prima risposta",
            "Ore mediane dall'apertura alla prima risposta, casi chiusi nel periodo.",
        ),
    },
)
def first_response_hours(m):
    """Median of ``first_response_at - opened_at`` in hours over cases resolved in the period
    that have a first response (interpolated). Placed by ``resolved_at`` like the other case
    KPIs, so that a period's figure no longer changes once its cases are closed."""
    return m["first_response_hours_median"]


@kpi(
    "complaint_resolution_hours",
    department="service",
    unit="hours",
    direction="lower",
    measure="cases",
    labels={
        "en": ("Complaint resolution time", "Mean hours to resolve a complaint case."),
        "fr": (
            "Délai de traitement des réclamations",
            "Nombre moyen d'heures pour résoudre une réclamation.",
        ),
        "it": ("Tempo di risoluzione dei reclami", "Ore medie per risolvere un reclamo."),
    },
)
def complaint_resolution_hours(m):
    """Mean of ``resolved_at - opened_at`` in hours over complaint cases (``is_complaint``)
    resolved in the period; no data when no complaint was resolved."""
    return safe_div(m["complaint_resolution_hours_sum"], m["complaint_resolution_n"])


@kpi(
    "cost_per_interaction",
    department="service",
    unit="currency",
    direction="lower",
    measure="cases",
    labels={
        "en": (
            "Service cost per interaction",
            "Handling cost of the cases closed in the period per customer contact.",
        ),
        "fr": (
            "Coût du service par interaction",
            "Coût de traitement des dossiers clôturés dans la période par contact client.",
        ),
        "it": (
            "Costo medio del servizio per interazione",
            "Costo di gestione dei casi chiusi nel periodo per contatto con il cliente.",
        ),
    },
)
def cost_per_interaction(m):
    """Sum of ``handling_cost`` divided by the sum of ``contacts_to_resolve`` (the customer
    interactions each case took), over cases resolved in the period that have a handling cost
    and at least one contact (currency units)."""
    return safe_div(m["handling_cost"], m["interactions"])


@kpi(
    "sla_compliance_rate",
    department="service",
    unit="ratio",
    direction="higher",
    measure="cases",
    labels={
        "en": ("SLA compliance", "Share of cases resolved within their SLA."),
        "fr": ("Respect des SLA", "Part des dossiers résolus dans le délai de leur SLA."),
        "it": ("Conformità agli SLA", "Percentuale di casi risolti entro lo SLA."),
    },
)
def sla_compliance_rate(m):
    """Cases resolved in the period within ``sla_hours`` of ``opened_at``, divided by the cases
    with an SLA that were resolved in the period plus those still unresolved whose deadline
    (``opened_at + sla_hours``) passed in the period (breaches). Cases without ``sla_hours``
    are left out."""
    return safe_div(m["sla_met"], m["sla_cases"])


@kpi(
    "first_contact_resolution_rate",
    department="service",
    unit="ratio",
    direction="higher",
    measure="cases",
    labels={
        "en": (
            "First contact resolution",
            "Share of the cases closed in the period that were solved at the first contact.",
        ),
        "fr": (
            "Résolution au premier contact",
            "Part des dossiers clôturés dans la période résolus dès le premier contact.",
        ),
        "it": (
            "Risoluzione al primo contatto",
            "Quota dei casi chiusi nel periodo risolti al primo contatto.",
        ),
    },
)
def first_contact_resolution_rate(m):
    """Cases resolved in the period with ``contacts_to_resolve`` = 1, divided by cases resolved
    in the period with a known ``contacts_to_resolve``."""
    return safe_div(m["fcr_first_contact"], m["fcr_cases"])


# -- calls ---------------------------------------------------------------------------------------


@kpi(
    "service_calls_per_day",
    department="service",
    unit="number",
    direction="higher",
    measure="calls",
    labels={
        "en": ("Service calls per day", "Answered service calls per calendar day of the period."),
        "fr": (
            "Appels de service par jour",
            "Appels de service décrochés par jour civil de la période.",
        ),
        "it": (
            "Chiamate di servizio al giorno",
            "Chiamate di servizio con risposta per giorno di calendario del periodo.",
        ),
    },
)
def service_calls_per_day(m):
    """Calls offered in the period with an ``answered_at``, divided by the number of calendar
    days of the period (28 to 31 for a month, 90 to 92 for a quarter)."""
    return safe_div(m["calls_answered"], m["days_in_period"])


@kpi(
    "customer_callbacks",
    department="service",
    unit="count",
    direction="lower",
    measure="calls",
    labels={
        "en": (
            "Customer callbacks",
            "Calls in which the customer had to call again about the same case.",
        ),
        "fr": (
            "Rappels clients",
            "Appels pour lesquels le client a dû rappeler au sujet du même dossier.",
        ),
        "it": (
            "Richiamate dei clienti",
            "Chiamate in cui il cliente ha dovuto richiamare per lo stesso caso.",
        ),
    },
)
def customer_callbacks(m):
    """Calls offered in the period that are linked to a case (``case_id``) which already had an
    earlier call (by ``offered_at``, at any date): every call of a case but its first, answered
    or not."""
    return m["callbacks"]


@kpi(
    "abandoned_call_rate",
    department="service",
    unit="ratio",
    direction="lower",
    measure="calls",
    labels={
        "en": (
            "Abandoned call rate",
            "Share of the calls offered in the period that were abandoned before an answer.",
        ),
        "fr": (
            "Taux d'appels abandonnés",
            "Part des appels reçus dans la période raccrochés avant d'avoir obtenu une réponse.",
        ),
        "it": (
            "Tasso di chiamate perse",
            "Quota delle chiamate del periodo perse prima di ricevere risposta.",
        ),
    },
)
def abandoned_call_rate(m):
    """Calls offered in the period with no ``answered_at``, divided by calls offered in the
    period."""
    return safe_div(m["calls_offered"] - m["calls_answered"], m["calls_offered"])


@kpi(
    "avg_handle_seconds",
    department="service",
    unit="seconds",
    direction="lower",
    measure="calls",
    labels={
        "en": ("Average handle time", "Mean handle time of the answered calls, in seconds."),
        "fr": (
            "Durée moyenne de traitement",
            "Durée moyenne de traitement des appels décrochés, en secondes.",
        ),
        "it": (
            "Tempo medio di gestione delle chiamate",
            "Durata media di gestione delle chiamate con risposta, in secondi.",
        ),
    },
)
def avg_handle_seconds(m):
    """Mean of ``handle_seconds`` over calls offered in the period that were answered (and have
    a non-negative handle time)."""
    return safe_div(m["handle_seconds_sum"], m["handle_n"])


@kpi(
    "median_handle_seconds",
    department="service",
    unit="seconds",
    direction="lower",
    measure="calls",
    labels={
        "en": ("Median handle time", "Median handle time of the answered calls, in seconds."),
        "fr": (
            "Durée médiane de traitement",
            "Durée médiane de traitement des appels décrochés, en secondes.",
        ),
        "it": (
            "Tempo mediano di gestione delle chiamate",
            "Durata mediana di gestione delle chiamate con risposta, in secondi.",
        ),
    },
)
def median_handle_seconds(m):
    """Median (interpolated) of ``handle_seconds`` over answered calls offered in the period."""
    return m["handle_seconds_median"]


@kpi(
    "p90_handle_seconds",
    department="service",
    unit="seconds",
    direction="lower",
    measure="calls",
    labels={
        "en": (
            "Handle time, 90th percentile",
            "Seconds within which 90 % of the answered calls were handled.",
        ),
        "fr": (
            "Durée de traitement, 90e centile",
            "Secondes en deçà desquelles 90 % des appels décrochés ont été traités.",
        ),
        "it": (
            "Tempo di gestione, 90° percentile",
            "Secondi entro cui è stato gestito il 90 % delle chiamate con risposta.",
        ),
    },
)
def p90_handle_seconds(m):
    """90th percentile (linear interpolation) of ``handle_seconds`` over answered calls offered
    in the period."""
    return m["handle_seconds_p90"]


@kpi(
    "calls_handled_per_agent",
    department="service",
    unit="number",
    direction="higher",
    measure="calls",
    labels={
        "en": (
            "Calls handled per agent",
            "Answered calls of the period per agent who answered at least one.",
        ),
        "fr": (
            "Appels traités par agent",
            "Appels décrochés de la période par agent ayant pris au moins un appel.",
        ),
        "it": (
            "Chiamate gestite per operatore",
            "Chiamate con risposta del periodo per operatore che ne ha gestita almeno una.",
        ),
    },
)
def calls_handled_per_agent(m):
    """Calls offered in the period with an ``answered_at`` and an ``agent_id``, divided by the
    number of distinct ``agent_id`` among them (agents who answered at least one call)."""
    return safe_div(m["calls_with_agent"], m["answering_agents"])
