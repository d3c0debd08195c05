"""What a report leaves out because the data lack its inputs, and which tables would add it.

A source with only some of the canonical tables (an orders-and-customers export) gives a
report of what it can compute: a department table lists its computed KPIs and one line for the
rest, a section, headline tile, figure or notebook whose inputs are all missing is left out.
:func:`compute_coverage` gathers what was left out, so that page one says it in one line
(:func:`coverage_html`) and ``kpis.json`` records it (``coverage`` key, :meth:`Coverage.to_dict`).

The rule of what is shown: a KPI result whose status is ``not_available`` (a table or column
it needs is absent) is left out; ``no_data`` (the inputs are there, the period has no rows) is
shown, since it says something about the business.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from ..kpis.compute import Breakdown, KpiResult, NotAvailable, Scorecard
from ..roi import CampaignReport
from ..vocab import UNKNOWN_GROUP, Reason, ResultStatus
from .i18n import t
from .templating import render

#: Analyses of the KPI report (notebook variable → message id suffix ``coverage.section.*``).
ANALYSES = ("what_changed", "touch_response", "funnel", "roi", "cohorts")


def is_missing_input(result: KpiResult) -> bool:
    """Whether a KPI result has no value because a table or column it needs is absent."""
    return str(result.status) == ResultStatus.NOT_AVAILABLE


def result_needs(result: KpiResult) -> tuple[str, ...]:
    """The tables (``leads``) and columns (``orders.cost``) a left-out result needs."""
    return tuple(dict.fromkeys([*result.missing_tables, *result.missing_columns]))


def shown_results(results: Iterable[KpiResult]) -> list[KpiResult]:
    """The results a report shows: all but those whose inputs are missing."""
    return [r for r in results if not is_missing_input(r)]


def analysis_needs(result: Any) -> tuple[str, ...] | None:
    """The tables a left-out analysis needs, or None when the analysis ran.

    ``result`` is what the notebook computed through
    :func:`~kpitools.kpis.compute.unless_missing`: a :class:`NotAvailable`, a campaign
    report without its tables (issue ``missing_table``), a breakdown none of whose KPIs could
    be split (:func:`breakdown_needs`), or the analysis' own result.
    """
    if isinstance(result, NotAvailable):
        return result.missing_tables
    if isinstance(result, CampaignReport):
        for issue in result.issues:
            if issue.code == "missing_table":
                tables = str(issue.fields.get("tables", ""))
                return tuple(x.strip() for x in tables.split(",") if x.strip())
        return None
    if isinstance(result, Breakdown):
        return breakdown_needs(result)
    return None


def breakdown_needs(breakdown: Breakdown, db: Any = None) -> tuple[str, ...] | None:
    """What a breakdown none of whose KPIs could be split needs, or None if one could.

    The dimension's own input comes first: ``customers`` (or ``orders`` for segments) when
    the table is absent, then ``customers.acquisition_channel`` style columns; then the
    tables of KPIs that could not be computed at all. A KPI that cannot be split for another
    reason adds nothing.
    """
    frame = breakdown.frame
    groups = set(frame.loc[frame["value"].notna(), "group"]) if len(frame) else set()
    if breakdown.by == "product_line" and len(groups - {UNKNOWN_GROUP}) == 1:
        return ("orders.product_line",)  # one line: the breakdown repeats the totals
    if groups and not (breakdown.by != "segment" and groups <= {UNKNOWN_GROUP}):
        return None
    if groups:  # every row in "(unknown)": the dimension's column is empty
        return (_dimension_input(breakdown.by, db),)
    if any(why.reason == Reason.NO_BREAKDOWN for why in breakdown.unsupported.values()):
        # the groups themselves are missing: that alone would add the breakdown (the other
        # KPIs' own inputs are listed with the KPIs)
        return (_dimension_input(breakdown.by, db),)
    needs: list[str] = []
    for why in breakdown.unsupported.values():
        if why.reason in (Reason.NEEDS_TABLE, Reason.NEEDS_COLUMN):
            needs.extend(why.missing_tables)
    if not needs and len(frame) == 0:
        needs.append(_dimension_input(breakdown.by, db))
    return tuple(dict.fromkeys(needs))


def _dimension_input(by: str, db: Any) -> str:
    """The table or column a breakdown by ``by`` reads its groups from."""
    table = "orders" if by == "segment" else "customers"
    if db is not None and not db.has(table):
        return table
    return table if by == "segment" else f"customers.{by}"


@dataclass(frozen=True)
class LeftOut:
    """One thing a report leaves out: a section, some KPIs of a department, a report.

    Attributes
    ----------
    kind : {"department", "kpis", "section", "headline", "report"}
        A whole department table, some of a department's KPIs, an analysis section, a
        headline tile, or a whole report (notebook).
    key : str
        The department (``service``), analysis (``funnel``), KPI id or report id.
    needs : tuple of str
        The tables (``cases``) or columns (``customers.acquisition_channel``) that would add it.
    kpis : tuple of str
        The KPI ids left out (departments and KPIs).
    """

    kind: str
    key: str
    needs: tuple[str, ...]
    kpis: tuple[str, ...] = ()

    def label(self, locale: str) -> str:
        """What is left out, in words."""
        if self.kind == "department":
            return t(f"department.{self.key}", locale)
        if self.kind == "kpis":
            dep = t(f"department.{self.key}", locale)
            if len(self.kpis) == 1:
                return t("coverage.some_kpis_one", locale, department=dep)
            return t("coverage.some_kpis_many", locale, department=dep, n=len(self.kpis))
        if self.kind == "headline":
            from .i18n import kpi_name

            return f"{t('coverage.section.headline', locale)} {kpi_name(self.key, locale)}"
        if self.kind == "report":
            return t(f"coverage.report.{self.key}", locale)
        return t(f"coverage.section.{self.key}", locale)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "key": self.key, "needs": list(self.needs)}
        if self.kpis:
            out["kpis"] = list(self.kpis)
        return out


@dataclass(frozen=True)
class Coverage:
    """What a report shows and leaves out (see the module's docstring).

    Attributes
    ----------
    left_out : tuple of LeftOut
        In report order: departments and their KPIs, headline tiles, sections, reports.
    shown : tuple of str
        The KPI ids the department tables show.
    """

    left_out: tuple[LeftOut, ...] = ()
    shown: tuple[str, ...] = field(default_factory=tuple)
    locale: str = "en"

    @property
    def needs(self) -> tuple[str, ...]:
        """Every table or column that would add something, in order."""
        return tuple(dict.fromkeys(n for x in self.left_out for n in x.needs))

    def text(self, locale: str | None = None) -> str:
        """``Not in this report: Service (needs cases, calls), …`` or "" when nothing is."""
        loc = locale or self.locale
        items = [
            t("coverage.item", loc, what=x.label(loc), needs=", ".join(x.needs))
            for x in self.left_out
        ]
        return t("coverage.left_out", loc, items="; ".join(items)) if items else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "left_out": [x.to_dict() for x in self.left_out],
            "needs": list(self.needs),
            "shown": list(self.shown),
            "text": self.text(),
        }


#: The report notebooks (output stem) that ``kpitools run`` leaves out when the source lacks
#: all of the tables they need: nothing of them could be shown.
REPORT_TABLES: dict[str, tuple[str, ...]] = {
    "campaign-roi": ("campaigns",),
    # customer value is expected margin: without the cost of the orders every figure of
    # the report would be "not available" (kpitools.kpis.columns.ANALYSIS_COLUMNS)
    "customer-value": ("orders", "orders.cost"),
}


def report_needs(stem: str, db: Any) -> tuple[str, ...]:
    """The tables (``campaigns``) and columns (``orders.cost``) a report notebook needs that
    ``db`` lacks or leaves empty (empty: it can run). ``db`` may also be the list of the
    tables the source holds (columns are then not checked)."""
    if isinstance(db, list | tuple | set):
        have, empty = set(db), None
    else:
        have, empty = set(db.available_tables), db.empty_column
    out = []
    for need in REPORT_TABLES.get(stem, ()):
        table, _, column = need.partition(".")
        if table not in have:
            out.append(table)
        elif column and empty is not None and empty(need):
            out.append(need)
    return tuple(dict.fromkeys(out))


def skipped_reports(db: Any) -> dict[str, tuple[str, ...]]:
    """Report id (``campaign_roi``) → what it needs that ``db`` lacks, for those left out.

    The same rule as the runner's (:func:`report_needs`), for page one's coverage line.
    """
    out = {}
    for stem in REPORT_TABLES:
        needs = report_needs(stem, db)
        if needs:
            out[stem.replace("-", "_")] = needs
    return out


def department_left_out(scorecard: Scorecard) -> list[LeftOut]:
    """Per department (report order): the whole table, or the KPIs, whose inputs are missing."""
    out: list[LeftOut] = []
    departments = dict.fromkeys(r.kpi.department for r in scorecard)
    for dep in departments:
        results = [r for r in scorecard if r.kpi.department == dep]
        missing = [r for r in results if is_missing_input(r)]
        if not missing:
            continue
        needs = tuple(dict.fromkeys(n for r in missing for n in result_needs(r)))
        kind = "department" if len(missing) == len(results) else "kpis"
        out.append(LeftOut(kind, dep, needs, tuple(r.id for r in missing)))
    return out


def compute_coverage(
    scorecard: Scorecard,
    *,
    headline: Sequence[str] = (),
    analyses: Mapping[str, Any] | None = None,
    breakdowns: Sequence[Breakdown] = (),
    reports: Mapping[str, Sequence[str]] | None = None,
    db: Any = None,
) -> Coverage:
    """What the KPI report leaves out and which tables or columns would add it.

    Parameters
    ----------
    scorecard : Scorecard
    headline : list of str
        The headline KPIs (``params.report.headline``): a missing one is left out of the tiles.
    analyses : mapping, optional
        Analysis name (one of :data:`ANALYSES`) → the notebook's result (a
        :class:`NotAvailable` when a table is absent).
    breakdowns : list of Breakdown
        The report's breakdowns; one none of whose KPIs could be split is left out.
    reports : mapping, optional
        Report id (``campaign_roi``, ``customer_value``) → the tables it needs that the
        source lacks (see :func:`skipped_reports`); empty: produced.
    db : Database, optional
        Names the breakdown dimension's missing table rather than its column.
    """
    left: list[LeftOut] = []
    for kid in headline:
        r = scorecard.results.get(kid)
        if r is not None and is_missing_input(r):
            left.append(LeftOut("headline", kid, result_needs(r), (kid,)))
    left += department_left_out(scorecard)
    for name, result in (analyses or {}).items():
        needs = analysis_needs(result)
        if needs:
            left.append(LeftOut("section", name, needs))
    for b in breakdowns:
        needs = breakdown_needs(b, db)
        if needs:
            left.append(LeftOut("section", f"breakdown.{b.by}", needs))
    for rid, tables in (reports or {}).items():
        if tables:
            left.append(LeftOut("report", rid, tuple(tables)))
    shown = tuple(r.id for r in shown_results(scorecard))
    return Coverage(tuple(left), shown, scorecard.locale)


def coverage_html(coverage: Coverage | None, locale: str | None = None) -> Markup:
    """Page one's line of what the report leaves out (empty when nothing is)."""
    text = coverage.text(locale) if coverage is not None else ""
    return render("kpis/coverage.html", text=text)


def rest_text(missing: Sequence[KpiResult], locale: str) -> str:
    """Under a department table: ``Not shown: 22 more indicators, which need leads, …``."""
    if not missing:
        return ""
    needs = ", ".join(dict.fromkeys(n for r in missing for n in result_needs(r)))
    if len(missing) == 1:
        return t("coverage.rest_one", locale, needs=needs)
    return t("coverage.rest_many", locale, n=len(missing), needs=needs)


__all__ = [
    "ANALYSES",
    "Coverage",
    "LeftOut",
    "REPORT_TABLES",
    "analysis_needs",
    "breakdown_needs",
    "compute_coverage",
    "coverage_html",
    "department_left_out",
    "is_missing_input",
    "report_needs",
    "rest_text",
    "result_needs",
    "shown_results",
    "skipped_reports",
]
