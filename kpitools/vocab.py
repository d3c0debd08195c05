"""The shared vocabulary: every status, verdict, segment and unit name, declared once.

Each is a :class:`enum.StrEnum`, so a member *is* its string value: it compares equal to
``"on_track"``, is written to ``kpis.json`` as ``"on_track"``, and a params file or an older
``kpis.json`` that spells the value keeps working.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where a metric, strategy or objective stands against its paced target."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    UNKNOWN = "unknown"


class Verdict(StrEnum):
    """What a campaign's (or the programme's) ROI against its control group says."""

    PROFITABLE = "profitable"
    NOT_PROFITABLE = "not profitable"
    INCONCLUSIVE = "inconclusive"
    NOT_MEASURED = "not measured"


#: Verdicts an ROI estimate can give (a campaign that was not measured has no estimate).
ESTIMATE_VERDICTS: tuple[Verdict, ...] = (
    Verdict.PROFITABLE,
    Verdict.NOT_PROFITABLE,
    Verdict.INCONCLUSIVE,
)


class Segment(StrEnum):
    """A customer's segment in a period, by their orders.

    ``new``: first order ever in the period; ``reactivated``: ordered after a gap longer than
    ``settings.lapse_days``; ``steady``: ordered in the period and in the lapse before it;
    ``returning``: ordered before but neither new nor reactivated in a coarser grain;
    ``inactive``: no order in the period (for rows that are not orders).
    """

    NEW = "new"
    REACTIVATED = "reactivated"
    STEADY = "steady"
    RETURNING = "returning"
    INACTIVE = "inactive"


#: The group a row falls in when its dimension (channel, product line) is NULL.
UNKNOWN_GROUP = "(unknown)"


class Department(StrEnum):
    """The department a KPI belongs to (the report's sections, in this order)."""

    SALES = "sales"
    MARKETING = "marketing"
    SERVICE = "service"
    PERCEPTION = "perception"
    ADOPTION = "adoption"


class Unit(StrEnum):
    """A KPI's unit; ``ratio`` values are fractions in [0, 1] shown as percentages."""

    COUNT = "count"
    RATIO = "ratio"
    CURRENCY = "currency"
    SCORE = "score"
    DAYS = "days"
    HOURS = "hours"
    MINUTES = "minutes"
    SECONDS = "seconds"
    NUMBER = "number"


class Scope(StrEnum):
    """What a KPI's value covers in a product-line report: the line, or the whole brand."""

    LINE = "line"
    BRAND = "brand"


class Direction(StrEnum):
    """Which way a KPI is better."""

    HIGHER = "higher"
    LOWER = "lower"


class ResultStatus(StrEnum):
    """Whether a KPI has a value: ``ok``, ``no_data`` (no rows in the period, or an undefined
    ratio) or ``not_available`` (a table it needs is absent from the source)."""

    OK = "ok"
    NO_DATA = "no_data"
    NOT_AVAILABLE = "not_available"


class Reason(StrEnum):
    """Why a KPI (or a KPI's breakdown) has no value; the report words it from the catalogue
    (``report.no_data``, ``report.needs_table``, ``report.no_breakdown``)."""

    NO_DATA = "no_data"
    NEEDS_TABLE = "needs_table"
    NO_BREAKDOWN = "no_breakdown"
    #: status ``no_data``: an optional column the KPI needs is absent or empty
    #: (``KpiResult.missing_columns``), e.g. renewal due dates for ``renewal_rate``
    NEEDS_COLUMN = "needs_column"


class KpiStatus(StrEnum):
    """The state of the KPI an objective's metric reads from the scorecard: a
    :class:`ResultStatus` value, or ``missing`` (the KPI is not in the scorecard)."""

    OK = "ok"
    NO_DATA = "no_data"
    NOT_AVAILABLE = "not_available"
    MISSING = "missing"


class FitStatus(StrEnum):
    """Whether a model was fitted: ``ok``, ``not_fitted`` (tried, failed: a reason code says
    why) or ``not_run`` (not tried, e.g. a holdout check with no calibration window)."""

    OK = "ok"
    NOT_FITTED = "not_fitted"
    NOT_RUN = "not_run"


class CalibrationQuality(StrEnum):
    """How a holdout forecast compares with what happened: ``good`` (within the tolerance),
    ``over`` (forecast too high) or ``under`` (forecast too low)."""

    GOOD = "good"
    OVER = "over"
    UNDER = "under"


__all__ = [
    "ESTIMATE_VERDICTS",
    "UNKNOWN_GROUP",
    "CalibrationQuality",
    "Department",
    "Direction",
    "FitStatus",
    "KpiStatus",
    "Reason",
    "Scope",
    "ResultStatus",
    "Segment",
    "Status",
    "Unit",
    "Verdict",
]
