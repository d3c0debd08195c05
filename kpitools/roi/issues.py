"""Reason codes of the campaign ROI analysis: :class:`Issue`.

An :class:`Issue` is a guardrail warning or a remark as a *reason code* with the numbers it is
made of, never a sentence: the sentence a reader sees is written by :mod:`kpitools.report.roi`
from the translation catalogue (messages ``roi.issue.<code>``, ``roi.message.<code>``). It is
its own module so that :mod:`kpitools.roi.guardrails` (:func:`~kpitools.roi.guardrails.check_groups`)
and :mod:`kpitools.roi.results` can both use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kpitools.numbers import json_safe

__all__ = ["BLOCKING_CODES", "Issue", "Severity"]

#: The issue codes that block a verdict: the campaign cannot be measured when one of them is
#: raised. In order, most telling first (a report explains an unmeasured campaign by the first).
BLOCKING_CODES: tuple[str, ...] = (
    "no_members",
    "no_treated",
    "no_control",
    "too_few_controls",
    "lift_failed",
    "zero_cost",
)

Severity = Literal["warning", "info"]


@dataclass(frozen=True)
class Issue:
    """A guardrail warning or a remark about an estimate, as a reason code.

    Parameters
    ----------
    code : str
        Stable reason code: ``no_members``, ``no_treated``, ``no_control``,
        ``small_control``, ``srm``, ``no_planned_share``, ``underpowered``, ``lift_failed``,
        ``method_fallback``, ``zero_cost``, ``not_contacted``, ``cost_missing``,
        ``provisional``, ``missing_table``, ``no_campaigns``, ``unmeasured``, ``overlap``,
        ``cells_skipped``, ``segment_test_failed``, ``single_group``, ``too_few_controls``
        (fewer controls than ``roi.min_control_judge``: no interval, no verdict), ``needs_cost`` (the
        orders carry no cost: margin lift and ROI not available); in a product-line
        report ``line_cost_share`` (a brand-wide campaign's share of cost on the line),
        ``line_cost_shared`` and ``line_cost_whole`` (the programme's brand-wide campaigns:
        cost shared, or carried whole when it cannot be).
    severity : {"warning", "info"}
        ``warning``: the figures may be wrong or missing; ``info``: read with care.
    fields : mapping
        The numbers (as numbers), dates and names the issue is about; written to
        ``kpis.json`` as ``values``.
    detail : mapping
        Further numbers a full sentence quotes (e.g. the chi-square statistic of a sample
        ratio mismatch); not written to ``kpis.json``.
    variant : str or None
        Refines ``code`` for the full English sentence (message
        ``roi.message.<code>.<variant>``), e.g. ``lift_failed`` / ``group_too_small``.
    """

    code: str
    severity: Severity = "warning"
    fields: Mapping[str, Any] = field(default_factory=dict, compare=False)
    detail: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    variant: str | None = None

    @property
    def message_fields(self) -> dict[str, Any]:
        """``fields`` and ``detail`` together: everything the issue's sentence is made of."""
        return {**self.fields, **self.detail}

    def to_dict(self) -> dict[str, Any]:
        """``code``, ``severity`` and ``values`` (JSON-safe); the sentence is added by the
        report's export (:func:`kpitools.report.roi.export_roi_json`)."""
        return {
            "code": self.code,
            "severity": self.severity,
            "values": json_safe(dict(self.fields)),
        }
