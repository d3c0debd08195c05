"""Planted constants shared by every brand: windows, segments, touch responses, channel
funnels, objectives and the categorical vocabularies of the generated columns."""

from __future__ import annotations

from kpitools.vocab import Segment

#: Days after a campaign's end still counted in its outcome window.
ATTRIBUTION_DAYS = 30
#: The one campaign with a broken split (issue 12): the export of the first brand's largest
#: campaign (last month's excepted) lost this share of its control group, at random (stream
#: ``[seed, BROKEN_SPLIT_STREAM]``), so its observed control share is far below the plan.
LOST_CONTROL_SHARE = 0.6
BROKEN_SPLIT_STREAM = 12
#: Pre-period (days before the start) used for the members' segments.
SEGMENT_PREPERIOD_DAYS = 90
#: Lapse (days) that makes an order a reactivation.
REACTIVATION_LAPSE_DAYS = 365
#: The demo's own pre-treatment segment of members without an order in the pre-period (the
#: toolkit's :class:`~kpitools.vocab.Segment` splits it into ``returning`` and ``inactive``).
LAPSED = "lapsed"
#: Effect multiplier per pre-treatment segment (the planted segments, in this order).
SEGMENT_EFFECT: dict[str, float] = {
    Segment.NEW: 1.25,
    Segment.REACTIVATED: 1.5,
    Segment.STEADY: 0.8,
    LAPSED: 1.2,
}
SEGMENTS: tuple[str, ...] = tuple(SEGMENT_EFFECT)
#: Minimum months dead before a customer may come back.
MIN_DORMANCY_MONTHS = 12
#: First-response delay (minutes) under which a lead is a "fast" response.
LEAD_FAST_MINUTES = 20.0
#: Response probability of the k-th outbound touch to a lead (k = 1..8).
TOUCH_RESPONSE = (0.30, 0.22, 0.16, 0.12, 0.02, 0.015, 0.01, 0.01)
#: Probability that a contacted lead is planned 1..8 touches.
TOUCH_COUNT_PROBABILITY = (0.05, 0.08, 0.12, 0.20, 0.20, 0.15, 0.12, 0.08)
#: Monthly hazard of a newsletter unsubscription.
NEWSLETTER_UNSUBSCRIBE_HAZARD = 0.015
#: Distribution of NPS scores within promoters (9, 10), passives (7, 8), detractors (0..6).
NPS_SCORES = ((9, 10), (7, 8), (0, 1, 2, 3, 4, 5, 6))
NPS_SCORE_PROBABILITY = (
    (0.45, 0.55),
    (0.5, 0.5),
    (0.04, 0.03, 0.05, 0.08, 0.12, 0.28, 0.40),
)
#: CSAT (1..5) distribution given the NPS class of the respondent.
CSAT_BY_CLASS = (
    (0.0, 0.0, 0.0, 0.3, 0.7),
    (0.0, 0.05, 0.2, 0.55, 0.2),
    (0.25, 0.35, 0.25, 0.12, 0.03),
)

#: Per channel: delivery, open (given delivered), click (given opened), unsubscribe (given
#: delivered) probabilities; cost per contact range; fixed cost range (per 20 000 customers);
#: base effect range (per 100 currency units of the brand's mean order); duration range (days);
#: choice weight.
# fmt: off
CHANNEL_FUNNEL = {
    "email": dict(
        delivered=0.96, opened=0.30, clicked=0.15, unsubscribed=0.005,
        cost=(0.02, 0.05), fixed=(50, 300), effect=(2.0, 8.0), days=(7, 14), weight=0.35,
    ),
    "sms": dict(
        delivered=0.97, opened=0.85, clicked=0.06, unsubscribed=0.01,
        cost=(0.06, 0.10), fixed=(50, 250), effect=(3.0, 10.0), days=(3, 10), weight=0.20,
    ),
    "print": dict(
        delivered=0.93, opened=0.60, clicked=0.03, unsubscribed=0.002,
        cost=(0.60, 1.20), fixed=(300, 1_200), effect=(10.0, 25.0), days=(21, 42),
        weight=0.15,
    ),
    "phone": dict(
        delivered=0.45, opened=0.90, clicked=0.20, unsubscribed=0.02,
        cost=(2.50, 4.00), fixed=(200, 800), effect=(12.0, 30.0), days=(14, 28),
        weight=0.10,
    ),
    "social": dict(
        delivered=0.90, opened=0.10, clicked=0.02, unsubscribed=0.001,
        cost=(0.10, 0.30), fixed=(100, 600), effect=(2.0, 6.0), days=(14, 35), weight=0.20,
    ),
}
# fmt: on

OBJECTIVES = ("retention", "cross_sell", "loyalty", "seasonal", "winback")
OBJECTIVE_LABEL = {
    "en": {
        "retention": "Stay with us",
        "cross_sell": "Discover",
        "loyalty": "Members' offer",
        "seasonal": "Seasonal sale",
        "winback": "We miss you",
    },
    "fr": {
        "retention": "Fidélité",
        "cross_sell": "Découvrez",
        "loyalty": "Offre membres",
        "seasonal": "Soldes de saison",
        "winback": "Vous nous manquez",
    },
    "it": {
        "retention": "Fedeltà",
        "cross_sell": "Scopri",
        "loyalty": "Offerta soci",
        "seasonal": "Saldi di stagione",
        "winback": "Ci manchi",
    },
}

ACQUISITION_CHANNELS = ("web", "store", "referral", "social", "partner")
ACQUISITION_CHANNEL_PROBABILITY = (0.45, 0.20, 0.08, 0.19, 0.08)
ORDER_CHANNELS = ("web", "store", "phone", "marketplace")
ORDER_CHANNEL_PROBABILITY = (0.55, 0.30, 0.10, 0.05)
LEAD_SOURCES = ("web_form", "phone", "event", "partner", "referral", "campaign")
LEAD_SOURCE_PROBABILITY = (0.45, 0.15, 0.10, 0.10, 0.20)  # without "campaign"
ROLES = ("sales", "service", "marketing")
ACTIVITY_TYPES = ("call", "email", "meeting", "sms", "social")
CASE_CHANNELS = ("phone", "email", "chat", "web")
QUEUES = ("support", "complaints", "orders", "billing")
