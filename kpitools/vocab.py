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


class Direction(StrEnum):
    """Which way a KPI is better."""

    HIGHER = "higher"
    LOWER = "lower"


__all__ = [
    "ESTIMATE_VERDICTS",
    "UNKNOWN_GROUP",
    "Department",
    "Direction",
    "Segment",
    "Status",
    "Unit",
    "Verdict",
]
