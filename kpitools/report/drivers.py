"""Words and fragments of page one's "what changed and why": sentences naming the drivers of a
KPI's change, and a small table of the driver figures that add up to it.

The numbers come from :mod:`kpitools.kpis.drivers` (computed by the notebook cell before);
phrases are the ``drivers.*`` messages (``report/locales/<locale>/drivers.yaml``), numbers are
formatted for the locale with :mod:`kpitools.report.formatting`. HTML comes from
``templates/drivers/*.html`` (autoescaped: a product line or channel named ``<script>`` is
text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from ..kpis.compute import NotAvailable
from ..kpis.drivers import Comparison, GroupSplit, KpiDrivers, Part, WhatChanged
from ..numbers import finite_or_none
from .formatting import (
    format_change,
    format_money_whole,
    format_percent_short,
    format_value,
    period_title,
)
from .i18n import has_message, kpi_name, label, t
from .templating import render

#: A factor or a group is named only if its effect is at least this share of the largest one.
MIN_SHARE_NAMED = 0.25


def _rows_changed(change: float) -> str:
    return "up" if change > 0 else ("down" if change < 0 else "flat")


def format_effect(value: float | None, unit: str, locale: str, currency: str) -> str:
    """A signed effect in the KPI's unit: ``+£4,500``, ``−1,2 pt``, ``+35``, ``−0.4 days``."""
    value = finite_or_none(value)
    if value is None:
        return "–"
    if unit == "ratio":
        return format_change(value, "points_ratio", locale)
    if unit == "currency":  # whole currency units: a sentence reads "+£190", not "+£190.00"
        body = format_money_whole(abs(value), locale, currency)
    else:
        body = format_value(abs(value), unit, locale, currency)
    if round(value, 2) == 0 or (unit == "count" and round(value) == 0):
        return "\u00b1" + body
    return ("+" if value > 0 else "\u2212") + body


def group_label(by: str, group: str, locale: str) -> str:
    """A group's name as the data spell it, or the catalogue's word for a segment, a customer
    type (new / returning) or a channel."""
    if by in ("segment", "customer_type"):
        return label("segment", group, locale)
    if by in ("channel", "acquisition_channel"):
        return label("channel", group, locale)
    return group


def _group_phrase(by: str, group: str, locale: str) -> str:
    """``the machines line``, ``steady customers``, ``the web channel`` …: a known segment
    has its own words (``drivers.group.segment.<code>``), anything else the dimension's
    pattern around its name."""
    if by in ("segment", "customer_type"):
        own = f"drivers.group.segment.{group}"
        if has_message(own, locale):
            return t(own, locale)
    return t(f"drivers.group.{by}", locale, group=group_label(by, group, locale))


def _head(item: KpiDrivers, c: Comparison, locale: str, currency: str) -> str:
    """``Revenue rose 7.3% against November 2025 (+£51,694)`` or ``Churn rate: +1.6 pp
    against November 2025``."""
    unit = item.kpi.unit
    period = period_title(c.base_period, locale)
    total = c.total or 0.0
    if item.id == "revenue":
        return t(
            f"drivers.revenue.{_rows_changed(total)}",
            locale,
            change=format_percent_short(abs(c.relative or 0.0), locale),
            period=period,
            amount=format_effect(total, "currency", locale, currency),
        )
    if unit in ("ratio", "score") or c.relative is None:
        change = format_effect(total, unit if unit != "score" else "number", locale, currency)
        return t(
            "drivers.kpi.head", locale, kpi=kpi_name(item.id, locale), change=change, period=period
        )
    return t(
        "drivers.kpi.head_amount",
        locale,
        kpi=kpi_name(item.id, locale),
        change=format_change(c.relative, "relative", locale),
        period=period,
        amount=format_effect(total, unit, locale, currency),
    )


def _factor(p: Part, locale: str) -> str:
    return t(
        f"drivers.factor.{p.driver}.{'up' if p.effect > 0 else 'down'}",
        locale,
        change=format_change(p.change, "relative", locale),
    )


def _factors_clause(c: Comparison, locale: str) -> str | None:
    total = c.total or 0.0
    if not c.factors or total == 0:
        return None
    biggest = max(abs(p.effect) for p in c.factors)
    named = [p for p in c.factors if abs(p.effect) >= MIN_SHARE_NAMED * biggest and p.effect]
    along = sorted((p for p in named if p.effect * total > 0), key=lambda p: -abs(p.effect))
    against = sorted((p for p in named if p.effect * total < 0), key=lambda p: -abs(p.effect))
    if not along:
        return None
    if against:
        return t(
            "drivers.factors.outweighed",
            locale,
            main=_factor(along[0], locale),
            counter=_factor(against[0], locale),
        )
    if len(along) >= 2:
        return t(
            "drivers.factors.two",
            locale,
            main=_factor(along[0], locale),
            second=_factor(along[1], locale),
        )
    form = "one" if along[0].effect / total >= 0.5 else "lead"
    return t(f"drivers.factors.{form}", locale, main=_factor(along[0], locale))


def _top_along(split: GroupSplit, total: float, skip: str | None = None) -> Part | None:
    along = [p for p in split.parts if p.effect * total > 0 and p.driver != skip]
    return max(along, key=lambda p: abs(p.effect)) if along else None


def _who_clause(c: Comparison, locale: str) -> str | None:
    split = c.splits.get("customer_type")
    total = c.total or 0.0
    if split is None or not total:
        return None
    top = _top_along(split, total)
    if top is None or top.driver not in ("new", "returning"):
        return None
    return t(f"drivers.who.{top.driver}.{_rows_changed(total)}", locale)


def _where_clause(item: KpiDrivers, c: Comparison, locale: str, currency: str) -> str | None:
    total = c.total or 0.0
    if c.lead is None or c.lead not in c.splits or not total:
        return None
    split = c.splits[c.lead]
    unit = item.kpi.unit if item.id != "revenue" else "currency"
    if split.method == "movers":
        movers = split.parts[:2]
        if not movers:
            return None
        named = [
            (
                _group_phrase(split.by, p.driver, locale),
                format_effect(p.effect, unit, locale, currency),
            )
            for p in movers
        ]
        if len(named) == 1:
            return t("drivers.movers.one", locale, first=named[0][0], c1=named[0][1])
        return t(
            "drivers.movers.two",
            locale,
            first=named[0][0],
            c1=named[0][1],
            second=named[1][0],
            c2=named[1][1],
        )
    skip = "new" if split.by == "segment" and "customer_type" in c.splits else None
    top = _top_along(split, total, skip=skip)
    if top is None:
        return None
    where = t(
        "drivers.where",
        locale,
        group=_group_phrase(split.by, top.driver, locale),
        amount=format_effect(top.effect, unit, locale, currency),
    )
    if split.method == "mix_rate":
        totals = split.totals()
        kind = "rate" if abs(totals["rate"]) >= abs(totals["mix"]) else "mix"
        effect = t(
            f"drivers.ratio.{kind}",
            locale,
            mix=format_effect(totals["mix"], unit, locale, currency),
            rate=format_effect(totals["rate"], unit, locale, currency),
        )
        return t("drivers.join", locale, first=effect, second=where)
    return where


def comparison_sentence(item: KpiDrivers, c: Comparison, locale: str, currency: str) -> str:
    """One sentence: the change against ``c``'s base period and the drivers that moved it."""
    head = _head(item, c, locale, currency)
    clauses = [
        x
        for x in (
            _factors_clause(c, locale),
            _who_clause(c, locale),
            _where_clause(item, c, locale, currency),
        )
        if x
    ]
    if not clauses or not c.total:
        return t("drivers.sentence.plain", locale, head=head)
    body = clauses[0]
    for extra in clauses[1:]:
        body = t("drivers.join", locale, first=body, second=extra)
    form = "drivers.sentence.one" if item.id == "revenue" else "drivers.sentence.kpi"
    return t(form, locale, head=head, first=body)


def what_changed_sentences(item: KpiDrivers, locale: str, currency: str = "EUR") -> list[str]:
    """The KPI's sentences: against the previous period, then the year before."""
    return [comparison_sentence(item, c, locale, currency) for c in item.comparisons]


@dataclass
class _Row:
    label: str
    cells: list[str]
    kind: str = "part"  # total | part | residual | sub


@dataclass
class _Block:
    name: str
    sentences: list[str]
    columns: list[str]
    rows: list[_Row] = field(default_factory=list)
    note: str | None = None


def _is_residual(value: float | None, scale: float) -> bool:
    return value is not None and abs(value) > max(1e-6 * abs(scale), 1e-9) and abs(value) >= 0.005


def _block(item: KpiDrivers, locale: str, currency: str) -> _Block:
    comps = item.comparisons
    unit = "currency" if item.id == "revenue" else item.kpi.unit
    cols = [
        t("drivers.column.against", locale, period=period_title(c.base_period, locale))
        for c in comps
    ]
    fmt = lambda v: format_effect(v, unit, locale, currency)  # noqa: E731
    block = _Block(kpi_name(item.id, locale), what_changed_sentences(item, locale, currency), cols)
    block.rows.append(_Row(t("drivers.row.total", locale), [fmt(c.total) for c in comps], "total"))
    if item.method == "factors":
        for i, driver in enumerate(("buyers", "orders_per_buyer", "average_order")):
            cells = []
            for c in comps:
                p = c.factors[i] if i < len(c.factors) else None
                cells.append(
                    "–"
                    if p is None
                    else f"{fmt(p.effect)} ({format_change(p.change, 'relative', locale)})"
                )
            block.rows.append(_Row(t(f"drivers.row.{driver}", locale), cells))
        residuals = [c.factor_residual for c in comps]
        if any(_is_residual(r, c.total or 0.0) for r, c in zip(residuals, comps, strict=True)):
            block.rows.append(
                _Row(t("drivers.row.residual", locale), [fmt(r) for r in residuals], "residual")
            )
        for group in ("new", "returning"):
            cells = []
            for c in comps:
                split = c.splits.get("customer_type")
                p = next((x for x in split.parts if x.driver == group), None) if split else None
                cells.append(fmt(p.effect if p else 0.0))
            block.rows.append(_Row(t(f"drivers.row.{group}", locale), cells, "sub"))
        block.note = t("drivers.note.buyers", locale)
        return block
    lead = next((c.lead for c in comps if c.lead), None)
    if lead is None:
        return block
    splits = [c.splits.get(lead) for c in comps]
    if item.method == "ratio":
        for kind in ("mix", "rate"):
            cells = [fmt(s.totals()[kind]) if s else "–" for s in splits]
            block.rows.append(_Row(t(f"drivers.row.{kind}", locale), cells))
        block.note = t(f"drivers.note.by.{lead}", locale)
    else:
        first = next(s for s in splits if s is not None)
        top = [p.driver for p in first.parts[:3]]
        for g in top:
            cells = []
            for s in splits:
                p = next((x for x in s.parts if x.driver == g), None) if s else None
                cells.append(fmt(p.effect) if p else "–")
            block.rows.append(_Row(_group_phrase(lead, g, locale), cells))
        if item.method == "movers":
            block.note = t("drivers.note.movers", locale)
            return block
        others = []
        for s in splits:
            rest = [x.effect for x in s.parts if x.driver not in top] if s else []
            others.append(sum(rest) if rest else None)
        if any(o is not None for o in others):
            block.rows.append(_Row(t("drivers.row.others", locale), [fmt(o) for o in others]))
    residuals = [s.residual if s else None for s in splits]
    if any(_is_residual(r, c.total or 0.0) for r, c in zip(residuals, comps, strict=True)):
        block.rows.append(
            _Row(t("drivers.row.residual", locale), [fmt(r) for r in residuals], "residual")
        )
        block.note = t("drivers.note.residual", locale)
    return block


def what_changed_html(what_changed: WhatChanged, *, locale: str | None = None) -> Markup:
    """Page one's "what changed": each KPI's sentences and its table of drivers."""
    loc = locale or what_changed.locale
    blocks = [_block(item, loc, what_changed.currency) for item in what_changed]
    return render("drivers/what_changed.html", blocks=blocks, locale=loc)


def what_changed_document(what_changed: WhatChanged | NotAvailable) -> dict[str, Any]:
    """The ``what_changed`` section of ``kpis.json``: the decomposition (:meth:`to_dict`) plus
    each KPI's sentences in the report's language (``{"status": "not_available", …}`` when
    the source has no orders)."""
    if isinstance(what_changed, NotAvailable):
        return what_changed.to_dict()
    doc = what_changed.to_dict()
    doc["locale"] = what_changed.locale
    for item in what_changed:
        doc["kpis"][item.id]["sentences"] = what_changed_sentences(
            item, what_changed.locale, what_changed.currency
        )
    return doc


__all__ = [
    "comparison_sentence",
    "format_effect",
    "group_label",
    "what_changed_document",
    "what_changed_html",
    "what_changed_sentences",
]
