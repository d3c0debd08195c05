"""Return on investment of CRM campaigns measured against a control group.

The return of a CRM operation can only be measured against a control group
("population témoin"): customers who would have been targeted but were held out. This
subpackage estimates the lift per customer (:func:`estimate_lift`), checks the control
group (:func:`sample_ratio_mismatch`, :func:`minimum_detectable_effect`,
:func:`required_control_size`, :func:`check_groups`), turns lifts into incremental margin and
ROI per campaign and for the whole programme (:func:`compute_roi`, :func:`combine_programme`,
:func:`verdict`) and tests whether the lift differs by segment or channel
(:func:`test_segment_interaction`).

Everything works on a plain :class:`pandas.DataFrame` with one row per customer.
:func:`analyse_campaigns` runs the whole analysis of a brand's campaigns from its data and
returns a :class:`CampaignReport` (plain result objects: the HTML, the sentences and the
figures are in :mod:`kpitools.report.roi` and :mod:`kpitools.plots.roi`).

Modules: ``estimators`` (lifts), ``guardrails`` (control-group checks), ``programme`` (ROI
arithmetic), ``outcomes`` (member-level data from the database), ``issues`` (reason codes,
:class:`Issue`), ``results`` (result classes), ``campaign`` (one campaign), ``views``
(segments and channels), ``analysis`` (the window of campaigns). Results hold numbers and
reason codes, never sentences.
"""

from kpitools.roi.analysis import (
    analyse_campaigns,
    analyse_campaigns_shared,
    analyse_outcomes,
    find_campaign,
)
from kpitools.roi.campaign import OUTCOMES, POWER, analyse_campaign
from kpitools.roi.estimators import (
    COV_TYPES,
    LIFT_NOTES,
    METHODS,
    LiftResult,
    RoiInputError,
    estimate_lift,
)
from kpitools.roi.guardrails import (
    ControlSizeResult,
    SRMResult,
    check_groups,
    minimum_detectable_effect,
    required_control_size,
    sample_ratio_mismatch,
)
from kpitools.roi.programme import (
    ROI_NOTES,
    RoiResult,
    SegmentInteractionResult,
    combine_programme,
    compute_roi,
    cost_of,
    test_segment_interaction,
    verdict,
    with_unmeasured_cost,
)
from kpitools.roi.results import (
    CampaignReport,
    CampaignResult,
    GroupSummary,
    GroupTest,
    Issue,
)
from kpitools.roi.verdicts import (
    AdjustedVerdict,
    Advice,
    adjust_verdicts,
    bh_reject,
    break_even_p_values,
    control_advice,
)
from kpitools.roi.views import heterogeneity_test

__all__ = [
    "COV_TYPES",
    "LIFT_NOTES",
    "METHODS",
    "OUTCOMES",
    "POWER",
    "ROI_NOTES",
    "AdjustedVerdict",
    "Advice",
    "CampaignReport",
    "CampaignResult",
    "ControlSizeResult",
    "GroupSummary",
    "GroupTest",
    "Issue",
    "LiftResult",
    "RoiInputError",
    "RoiResult",
    "SRMResult",
    "SegmentInteractionResult",
    "adjust_verdicts",
    "analyse_campaign",
    "analyse_campaigns",
    "analyse_campaigns_shared",
    "analyse_outcomes",
    "bh_reject",
    "break_even_p_values",
    "check_groups",
    "combine_programme",
    "compute_roi",
    "control_advice",
    "cost_of",
    "estimate_lift",
    "find_campaign",
    "heterogeneity_test",
    "minimum_detectable_effect",
    "required_control_size",
    "sample_ratio_mismatch",
    "test_segment_interaction",
    "verdict",
    "with_unmeasured_cost",
]
