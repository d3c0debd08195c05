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
"""

from kpitools.roi.estimators import COV_TYPES, METHODS, LiftResult, RoiInputError, estimate_lift
from kpitools.roi.guardrails import (
    ControlSizeResult,
    SRMResult,
    check_groups,
    minimum_detectable_effect,
    required_control_size,
    sample_ratio_mismatch,
)
from kpitools.roi.programme import (
    RoiResult,
    SegmentInteractionResult,
    combine_programme,
    compute_roi,
    cost_of,
    test_segment_interaction,
    verdict,
)

__all__ = [
    "COV_TYPES",
    "METHODS",
    "ControlSizeResult",
    "LiftResult",
    "RoiInputError",
    "RoiResult",
    "SRMResult",
    "SegmentInteractionResult",
    "check_groups",
    "combine_programme",
    "compute_roi",
    "cost_of",
    "estimate_lift",
    "minimum_detectable_effect",
    "required_control_size",
    "sample_ratio_mismatch",
    "test_segment_interaction",
    "verdict",
]
