"""Demo CRM database with planted, documented ground truth.

:func:`generate_demo` writes every table of the canonical model (:data:`kpitools.schema.TABLES`)
for the three demo brands of :data:`DEMO_BRANDS` into one DuckDB file, plus ``demo_truth_*``
tables holding the parameters the data were drawn from, so that tests and notebooks can check
that the toolkit recovers what was planted. Everything is vectorised numpy (no Python loop over
customers, orders or members) and written one table at a time through Arrow, so one million
customers (about ten million orders) take well under two minutes.

Calendar
--------
The data cover ``months`` calendar months from ``start`` (the first day of a month): with the
defaults, 2024-01-01 00:00:00 up to 2025-12-31 23:59:59. No timestamp of any table falls after
the end of the span and none before its start. Timestamps are naive, with one-second resolution.

Brands, customers and product lines
-----------------------------------
Three brands (:data:`DEMO_BRANDS`), each with two product lines. A customer belongs to one
brand (shares 0.45 / 0.35 / 0.20) and is acquired on one product line (``acquisition_share``
of :class:`DemoBrand`). Acquisitions are spread over the whole span with a monthly growth of
``acquisition_growth`` and a brand-specific calendar seasonality. Customer ids increase with
``created_at``. About 90 % of customers have an e-mail, 70 % a phone, 97 % a region and 98 % an
acquisition channel; ``email_opt_in`` is NULL when there is no e-mail.

Purchase and churn process (planted per brand)
----------------------------------------------
Time is cut into calendar months. A customer acquired in month ``a`` is *alive* in month ``a``
and, after each month, stays alive with probability ``1 - h`` (``h`` = ``monthly_churn_hazard``),
independently of everything else; so the number of further months alive is geometric. A
customer who dies may come back once (``return_probability``) after a dormancy of
``MIN_DORMANCY_MONTHS`` + Geometric(0.25) - 1 months (at least 12 months, so the return is a
"reactivation" after a lapse of at least 365 days), and then lives again with the same hazard.

The first month of each life (the acquisition month and the return month) is always *active*.
Every other alive month is active with probability ``q`` (``monthly_active_probability``),
independently. An active month holds ``1 + Poisson(lambda)`` orders
(``extra_orders_per_active_month``). The very first order is placed on the day of
``created_at``, after it, on the acquisition line; the other orders of the acquisition month
fall after the first, those of other months uniformly within the month. Each order other than
the first is on the customer's other product line with probability ``cross_sell_probability``
of the acquisition line. Order revenue is log-normal with mean ``order_revenue_mean`` and log
standard deviation ``order_revenue_sigma`` of the order's line; ``cost = revenue * (1 - r)``
where ``r`` is the line's ``margin_rate`` plus N(0, 0.03) noise (clipped to [0.02, 0.98]), so
the expected margin is ``margin_rate * revenue``. Revenue and cost are rounded to cents.

Expected monthly churn (derivation)
-----------------------------------
The churn KPI counts customers active (at least one order) in month ``m - 1`` who are not
active in month ``m``. Under the process above, *active in m - 1* implies *alive in m - 1*.
Being alive is a Markov chain and month ``m`` is not the first month of a life (the customer
was alive in the previous month of the same life), so

    P(active in m | active in m - 1) = P(alive in m | alive in m - 1) * P(active | alive, not
    first month) = (1 - h) * q,

whatever the tenure, the month or the history before ``m - 1`` (a return month follows a dead,
hence inactive, month, so it never enters the conditioning set). Hence

    expected_monthly_retention_rate = (1 - h) * q,
    expected_monthly_churn_rate = 1 - (1 - h) * q.

With the default brands: aurora 1 - 0.97 * 0.60 = 0.418, bellevue 1 - 0.95 * 0.68 = 0.354,
castello 1 - 0.93 * 0.75 = 0.3025. The only deviation comes from campaign-driven orders (below),
which add activity to a few treated customers; they move the observed monthly churn by a few
tenths of a point at most.

Campaigns and their planted effects
-----------------------------------
Each brand runs 10 to 14 campaigns (all five channels at least once) starting between four
months after the start of the span and 72 days before its end, so that every outcome window
``[starts_at, ends_at + ATTRIBUTION_DAYS days)`` lies inside the span. A campaign targets a
random sample (3 % to 20 %) of the brand's customers (of one product line when the campaign
has one; for ``cross_sell`` campaigns, customers acquired on the *other* line) who placed their
first order before ``starts_at`` and are *alive* in the start month; the one ``winback``
campaign per brand targets customers who are *not* alive in the start month. Members are
randomised into ``control`` by complete randomisation with exactly
``round(planned_control_share * members)`` controls. Control members are not contacted: their
funnel columns are all NULL. Treatment members are sent the campaign in its first two days
and go through a channel funnel (``CHANNEL_FUNNEL``: delivered, opened, clicked, unsubscribed).
Costs: ``cost_per_contact`` is drawn in the channel's range (print and phone dearest, then SMS,
social, e-mail); ``fixed_cost`` in the channel's range times the brand's mean order value / 100
times ``customers / 20 000``, so that campaign ROI does not depend on the size of the demo.

Planted effect: each campaign ``c`` has a base effect ``tau_c`` (currency units of incremental
revenue per treated member, drawn in the channel's ``effect`` range times the brand's mean order
value / 100 and rounded to 0.1; zero for exactly one campaign per brand) and each member a
pre-treatment segment ``s`` with multiplier ``SEGMENT_EFFECT[s]``. A treated member whose
message is delivered places ``Poisson(tau_c * m_s / (d * E[revenue]))`` extra orders, where
``d`` is the channel's delivery probability and ``E[revenue]`` the mean order revenue of the
campaign's product line (or of the member's acquisition line), uniformly in
``[sent_at, ends_at + 30 days)``. Hence the expected incremental revenue of a treated member is
exactly ``tau_c * m_s`` and the expected incremental margin ``tau_c * m_s * margin_rate``.
Control members receive no extra orders and the regular purchase process is identical in both
groups, so the difference in mean outcome-window revenue (treatment - control) is unbiased for
the campaign's ``true_incremental_revenue_per_treated`` (the mean of ``tau_c * m_s`` over its
treated members). The first extra order of a member sets its ``responded_at``; a few clickers
also respond without buying.

Segments are computed from the orders placed before ``starts_at`` (including extra orders of
earlier campaigns), with a 90-day pre-period:

``new``
    first order within the 90 days before the start (multiplier 1.25);
``reactivated``
    not new, ordered in the 90 days before the start, and the last order before that pre-period
    is at least 365 days older than the first order inside it (multiplier 1.5);
``steady``
    not new nor reactivated, ordered in the 90 days before the start (multiplier 0.8);
``lapsed``
    no order in the 90 days before the start (multiplier 1.2).

Another segment definition gets its own truth from ``demo_truth_campaign_members``, which holds
every member's expected effect.

Other planted quantities
------------------------
Leads (0.3 per customer): first response after a log-normal delay with median
``lead_response_median_minutes`` (log-sd 1), 5 % never contacted. Contacted leads get up to
1..8 outbound touches (probabilities ``TOUCH_COUNT_PROBABILITY``), the ``k``-th of which is
answered with probability ``TOUCH_RESPONSE[k - 1]`` (responses stop almost completely after
the fourth touch); touches stop at the first response. A lead that responded converts with
probability ``lead_conversion_fast`` when its first response came within
``LEAD_FAST_MINUTES`` (20) minutes, ``lead_conversion_slow`` otherwise; a converted lead is
linked to the next customer of the brand created after the conversion time, and
``converted_at`` is that customer's ``created_at``. Leads created during a campaign are
attributed to it half of the time.

Opportunities (0.06 per customer, 20 % renewals) are won with ``opportunity_win_probability``
(renewals ``renewal_win_probability``) after a Gamma(2, 12 days) cycle, whatever the outcome;
deals not closed by the end of the span are ``open``. Each gets 1 + Poisson(2) sales
activities. Customer activities (0.45 outbound and 0.15 inbound per customer) fall in months
where the customer is active. Cases (0.2 per customer): ``complaint_share`` complaints, SLA 24 h
for complaints and phone cases, 48 h otherwise; ``contacts_to_resolve`` is 1 with probability
``first_contact_resolution_probability``, else 2, 3 or 4 (0.6 / 0.25 / 0.15); resolution time
log-normal (median 8 h, complaints x 3, x (1 + 0.7 (contacts - 1))). Phone cases produce one
call per contact (later calls are callbacks); calls are abandoned with
``call_abandonment_probability``. Surveys draw promoters / passives / detractors with
``nps_mix`` (scores 9-10 / 7-8 / 0-6) and a CSAT that depends on the class (``CSAT_BY_CLASS``).
Web sessions complete their goal with ``web_goal_completion_probability``. Newsletter
subscribers (opted-in customers) unsubscribe with a monthly hazard of
``NEWSLETTER_UNSUBSCRIBE_HAZARD``. Social mentions are of the own brand with probability
``own_share_of_voice``. CRM users (0.5 % of customers, at least 10 per brand) log in during a
month with probability ``crm_monthly_login_probability``.

Truth tables
------------
``demo_truth_brands``
    one row per brand: every planted brand parameter and derived expectations
    (``expected_monthly_churn_rate``, ``expected_nps`` in points, ``expected_csat``, the
    lead conversion probabilities, ...).
``demo_truth_product_lines``
    brand, product line, acquisition share, mean order revenue, log-sd, margin rate, cross-sell
    probability.
``demo_truth_touch_response``
    touch number, response probability, probability of that many planned touches.
``demo_truth_campaigns``
    per campaign: ``planted_effect`` (``tau_c``), group sizes, ``true_incremental_revenue_per_
    treated``, ``true_incremental_margin_per_treated`` (expectations), and the realised values.
``demo_truth_campaign_segments``
    the same per campaign and segment.
``demo_truth_campaign_members``
    per member: group, segment, expected incremental revenue and margin had it been treated,
    realised extra revenue.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from math import erf, log, sqrt
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from kpitools.schema import CHANNELS, TABLES

__all__ = [
    "DEMO_BRANDS",
    "DemoBrand",
    "generate_demo",
    "expected_monthly_churn_rate",
]

DAY = 86_400
HOUR = 3_600
MINUTE = 60


@dataclass(frozen=True)
class DemoBrand:
    """One demo brand and the parameters its data are drawn from.

    Per-line tuples follow ``product_lines``. Rates are probabilities in [0, 1], amounts in the
    brand's currency.

    Parameters
    ----------
    id, name, locale, currency : str
        Brand id stored in every ``brand`` column, display name, report locale, ISO currency.
    product_lines : tuple of str
        The brand's two product lines.
    weight : float
        Share of the demo customers.
    acquisition_share : tuple of float
        Share of customers acquired on each line.
    monthly_churn_hazard : float
        ``h``: probability that an alive customer dies after a month.
    monthly_active_probability : float
        ``q``: probability that an alive customer orders in a month (first month of a life: 1).
    extra_orders_per_active_month : float
        Poisson mean of the orders beyond the first in an active month.
    return_probability : float
        Probability that a dead customer comes back once after the dormancy.
    order_revenue_mean, order_revenue_sigma : tuple of float
        Mean and log standard deviation of the log-normal order revenue per line.
    margin_rate : tuple of float
        Expected (revenue - cost) / revenue per line.
    cross_sell_probability : tuple of float
        Per acquisition line, probability that an order (not the first) is on the other line.
    nps_mix : tuple of float
        Promoter, passive and detractor shares of survey answers.
    lead_response_median_minutes : float
        Median minutes from lead creation to first response.
    lead_conversion_fast, lead_conversion_slow : float
        Conversion probability of a lead that responded, first response within / after
        :data:`LEAD_FAST_MINUTES`.
    opportunity_win_probability, renewal_win_probability : float
        Win probability of a new-business and of a renewal opportunity.
    deal_amount_mean : float
        Mean opportunity amount.
    call_abandonment_probability : float
        Probability that an offered service call is abandoned.
    complaint_share : float
        Share of cases that are complaints.
    first_contact_resolution_probability : float
        Probability that a case is resolved in one contact.
    own_share_of_voice : float
        Share of the brand's monitored social mentions that name the brand itself.
    competitors : tuple of str
        Ids of the two competitors monitored.
    mean_sentiment : float
        Mean sentiment of mentions of the brand (competitors: 0.10 and 0.0).
    web_goal_completion_probability : float
        Probability that a web session completes its goal.
    crm_monthly_login_probability : float
        Probability that an active CRM user logs in during a month.
    acquisition_growth : float
        Monthly growth of acquisitions.
    seasonality : tuple of float
        Acquisition multiplier per calendar month (January first).
    regions, phone_prefix, email_domain
        Values used for the customers' region, phone and e-mail.
    """

    id: str
    name: str
    locale: str
    currency: str
    product_lines: tuple[str, str]
    weight: float
    acquisition_share: tuple[float, float]
    monthly_churn_hazard: float
    monthly_active_probability: float
    extra_orders_per_active_month: float
    return_probability: float
    order_revenue_mean: tuple[float, float]
    order_revenue_sigma: tuple[float, float]
    margin_rate: tuple[float, float]
    cross_sell_probability: tuple[float, float]
    nps_mix: tuple[float, float, float]
    lead_response_median_minutes: float
    lead_conversion_fast: float
    lead_conversion_slow: float
    opportunity_win_probability: float
    renewal_win_probability: float
    deal_amount_mean: float
    call_abandonment_probability: float
    complaint_share: float
    first_contact_resolution_probability: float
    own_share_of_voice: float
    competitors: tuple[str, str]
    mean_sentiment: float
    web_goal_completion_probability: float
    crm_monthly_login_probability: float
    acquisition_growth: float
    seasonality: tuple[float, ...]
    regions: tuple[str, ...]
    phone_prefix: str
    email_domain: str

    @property
    def expected_monthly_churn_rate(self) -> float:
        """``1 - (1 - h) q``: see the module docstring for the derivation."""
        return expected_monthly_churn_rate(
            self.monthly_churn_hazard, self.monthly_active_probability
        )

    @property
    def expected_nps(self) -> float:
        """Promoter share minus detractor share, in points (-100..100)."""
        return 100.0 * (self.nps_mix[0] - self.nps_mix[2])


DEMO_BRANDS: tuple[DemoBrand, ...] = (
    DemoBrand(
        id="aurora",
        name="Aurora Outdoor",
        locale="en",
        currency="GBP",
        product_lines=("apparel", "equipment"),
        weight=0.45,
        acquisition_share=(0.6, 0.4),
        monthly_churn_hazard=0.03,
        monthly_active_probability=0.60,
        extra_orders_per_active_month=0.55,
        return_probability=0.30,
        order_revenue_mean=(85.0, 160.0),
        order_revenue_sigma=(0.55, 0.65),
        margin_rate=(0.55, 0.40),
        cross_sell_probability=(0.15, 0.35),
        nps_mix=(0.55, 0.30, 0.15),
        lead_response_median_minutes=30.0,
        lead_conversion_fast=0.55,
        lead_conversion_slow=0.30,
        opportunity_win_probability=0.35,
        renewal_win_probability=0.75,
        deal_amount_mean=2500.0,
        call_abandonment_probability=0.05,
        complaint_share=0.18,
        first_contact_resolution_probability=0.72,
        own_share_of_voice=0.42,
        competitors=("summit_gear", "northpeak"),
        mean_sentiment=0.30,
        web_goal_completion_probability=0.12,
        crm_monthly_login_probability=0.90,
        acquisition_growth=0.025,
        seasonality=(0.9, 0.8, 1.0, 1.1, 1.1, 1.0, 1.0, 0.9, 0.9, 1.0, 1.2, 1.3),
        regions=("London", "South East", "North West", "Midlands", "Scotland", "Wales"),
        phone_prefix="+44 7",
        email_domain="example.co.uk",
    ),
    DemoBrand(
        id="bellevue",
        name="Bellevue Cosmétiques",
        locale="fr",
        currency="EUR",
        product_lines=("skincare", "fragrance"),
        weight=0.35,
        acquisition_share=(0.65, 0.35),
        monthly_churn_hazard=0.05,
        monthly_active_probability=0.68,
        extra_orders_per_active_month=0.75,
        return_probability=0.25,
        order_revenue_mean=(55.0, 90.0),
        order_revenue_sigma=(0.50, 0.45),
        margin_rate=(0.70, 0.62),
        cross_sell_probability=(0.12, 0.30),
        nps_mix=(0.45, 0.35, 0.20),
        lead_response_median_minutes=60.0,
        lead_conversion_fast=0.50,
        lead_conversion_slow=0.30,
        opportunity_win_probability=0.30,
        renewal_win_probability=0.70,
        deal_amount_mean=1800.0,
        call_abandonment_probability=0.08,
        complaint_share=0.22,
        first_contact_resolution_probability=0.65,
        own_share_of_voice=0.33,
        competitors=("lumiere_paris", "maison_rose"),
        mean_sentiment=0.20,
        web_goal_completion_probability=0.09,
        crm_monthly_login_probability=0.85,
        acquisition_growth=0.02,
        seasonality=(0.9, 1.1, 1.0, 1.0, 1.0, 0.9, 0.9, 0.8, 1.0, 1.0, 1.3, 1.5),
        regions=(
            "Île-de-France",
            "Auvergne-Rhône-Alpes",
            "Provence-Alpes-Côte d'Azur",
            "Occitanie",
            "Nouvelle-Aquitaine",
            "Hauts-de-France",
        ),
        phone_prefix="+33 6",
        email_domain="example.fr",
    ),
    DemoBrand(
        id="castello",
        name="Castello Caffè",
        locale="it",
        currency="EUR",
        product_lines=("coffee", "machines"),
        weight=0.20,
        acquisition_share=(0.7, 0.3),
        monthly_churn_hazard=0.07,
        monthly_active_probability=0.75,
        extra_orders_per_active_month=1.0,
        return_probability=0.20,
        order_revenue_mean=(32.0, 380.0),
        order_revenue_sigma=(0.40, 0.35),
        margin_rate=(0.50, 0.25),
        cross_sell_probability=(0.03, 0.80),
        nps_mix=(0.50, 0.26, 0.24),
        lead_response_median_minutes=90.0,
        lead_conversion_fast=0.45,
        lead_conversion_slow=0.28,
        opportunity_win_probability=0.40,
        renewal_win_probability=0.80,
        deal_amount_mean=3500.0,
        call_abandonment_probability=0.10,
        complaint_share=0.20,
        first_contact_resolution_probability=0.60,
        own_share_of_voice=0.28,
        competitors=("caffe_milano", "espresso_reale"),
        mean_sentiment=0.25,
        web_goal_completion_probability=0.15,
        crm_monthly_login_probability=0.80,
        acquisition_growth=0.03,
        seasonality=(1.1, 1.0, 1.0, 0.9, 0.9, 0.8, 0.7, 0.7, 1.0, 1.1, 1.2, 1.4),
        regions=(
            "Lombardia",
            "Lazio",
            "Campania",
            "Piemonte",
            "Veneto",
            "Emilia-Romagna",
            "Sicilia",
        ),
        phone_prefix="+39 3",
        email_domain="example.it",
    ),
)

#: Days after a campaign's end still counted in its outcome window.
ATTRIBUTION_DAYS = 30
#: Pre-period (days before the start) used for the members' segments.
SEGMENT_PREPERIOD_DAYS = 90
#: Lapse (days) that makes an order a reactivation.
REACTIVATION_LAPSE_DAYS = 365
#: Effect multiplier per pre-treatment segment.
SEGMENT_EFFECT = {"new": 1.25, "reactivated": 1.5, "steady": 0.8, "lapsed": 1.2}
SEGMENTS = tuple(SEGMENT_EFFECT)
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

_SQL_TYPE = {
    "id": "BIGINT",
    "int": "INTEGER",
    "float": "DOUBLE",
    "string": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
}


def expected_monthly_churn_rate(hazard: float, active_probability: float) -> float:
    """Monthly activity churn the demo process converges to.

    Parameters
    ----------
    hazard : float
        Monthly churn hazard ``h`` (probability that an alive customer dies after a month).
    active_probability : float
        Probability ``q`` that an alive customer orders in a month.

    Returns
    -------
    float
        ``1 - (1 - h) q``: the share of customers active in a month who are not active in the
        next one (see the module docstring for the derivation).
    """
    return 1.0 - (1.0 - hazard) * active_probability


def _lognormal_mu(mean: np.ndarray | float, sigma: np.ndarray | float):
    """Location parameter of a log-normal with the given mean and log-sd."""
    return np.log(mean) - 0.5 * np.asarray(sigma) ** 2


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + erf(x / sqrt(2.0)))


def _touch_response_probability() -> float:
    """Probability that a contacted lead answers one of its planned touches."""
    total = 0.0
    for k, pk in enumerate(TOUCH_COUNT_PROBABILITY, start=1):
        silent = 1.0
        for r in TOUCH_RESPONSE[:k]:
            silent *= 1.0 - r
        total += pk * (1.0 - silent)
    return total


def _fast_share(brand: DemoBrand) -> float:
    """Share of first responses within :data:`LEAD_FAST_MINUTES` (log-normal, log-sd 1)."""
    return _normal_cdf(log(LEAD_FAST_MINUTES / brand.lead_response_median_minutes))


def _expected_csat(brand: DemoBrand) -> float:
    return float(
        sum(
            share * sum((k + 1) * p for k, p in enumerate(CSAT_BY_CLASS[c]))
            for c, share in enumerate(brand.nps_mix)
        )
    )


# --------------------------------------------------------------------------------------------
# Small vectorised helpers
# --------------------------------------------------------------------------------------------


def _expand(counts: np.ndarray):
    """Group index and rank within group for ``counts[i]`` repetitions of each ``i``."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    group = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    first = np.cumsum(counts) - counts
    rank = np.arange(total, dtype=np.int64) - np.repeat(first, counts)
    return group, rank


def _uniform_between(rng, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Integer seconds uniformly in ``[lo, hi)`` (``lo`` when the interval is empty)."""
    width = np.maximum(hi - lo, 1)
    return lo + np.floor(rng.random(len(lo)) * width).astype(np.int64)


def _cat(codes: np.ndarray, values, mask: np.ndarray | None = None) -> pa.Array:
    """Dictionary-encoded string column from integer codes into ``values``."""
    idx = pa.array(np.asarray(codes, dtype=np.int32), mask=mask)
    return pa.DictionaryArray.from_arrays(idx, pa.array(list(values), type=pa.string()))


def _ts(seconds: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64), type=pa.timestamp("s"), mask=mask)


def _arr(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(values, mask=mask)


def _ids(n: int) -> np.ndarray:
    return np.arange(1, n + 1, dtype=np.int64)


class _Sorted:
    """Per-customer sorted order times, for the campaign segment queries.

    Keys are ``customer << 32 | seconds since the start of the span``.
    """

    def __init__(self, keys: np.ndarray):
        self.keys = np.sort(keys)

    def add(self, keys: np.ndarray) -> None:
        if len(keys):
            self.keys = np.sort(np.concatenate([self.keys, keys]))

    def _pos(self, cust: np.ndarray, t: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.keys, (cust << 32) | t, side="left")

    def count(self, cust, t1, t2) -> np.ndarray:
        """Orders in ``[t1, t2)``."""
        return self._pos(cust, t2) - self._pos(cust, t1)

    def last_before(self, cust, t) -> np.ndarray:
        """Time of the last order before ``t``; -2**40 when none."""
        if not len(self.keys):
            return np.full(len(cust), -(2**40), dtype=np.int64)
        i = self._pos(cust, t) - 1
        ok = i >= 0
        k = self.keys[np.maximum(i, 0)]
        ok &= (k >> 32) == cust
        return np.where(ok, k & 0xFFFFFFFF, -(2**40))

    def first_from(self, cust, t) -> np.ndarray:
        """Time of the first order at or after ``t``; 2**40 when none."""
        if not len(self.keys):
            return np.full(len(cust), 2**40, dtype=np.int64)
        i = self._pos(cust, t)
        ok = i < len(self.keys)
        k = self.keys[np.minimum(i, len(self.keys) - 1)]
        ok &= (k >> 32) == cust
        return np.where(ok, k & 0xFFFFFFFF, 2**40)


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


class _Generator:
    """Stateful generation of one demo database; tables are written in :meth:`run` order."""

    def __init__(self, con, customers: int, seed: int, start: str, months: int, progress: bool):
        self.con = con
        self.n = int(customers)
        self.rng = np.random.default_rng(seed)
        # a separate stream for the campaigns of the last month, so that adding them leaves every
        # other table exactly as it was
        self.late_rng = np.random.default_rng([seed, 2])
        self.progress = progress
        self.t_start = time.perf_counter()
        self.rows: dict[str, int] = {}
        self.brands = DEMO_BRANDS
        self.nb = len(DEMO_BRANDS)

        start_day = np.datetime64(start, "D")
        first_month = start_day.astype("datetime64[M]")
        if first_month.astype("datetime64[D]") != start_day:
            raise ValueError(f"start must be the first day of a month, got {start!r}")
        self.months = int(months)
        self.mstart = (
            (first_month + np.arange(self.months + 1)).astype("datetime64[s]").astype(np.int64)
        )
        self.T0 = int(self.mstart[0])
        self.T_END = int(self.mstart[-1])  # exclusive
        self.month_of_year = ((first_month + np.arange(self.months)).astype(int) % 12).astype(
            np.int64
        )

        b = self.brands
        self.line_names = tuple(f"{x.product_lines[i]}" for x in b for i in range(2))
        self.p_hazard = np.array([x.monthly_churn_hazard for x in b])
        self.p_active = np.array([x.monthly_active_probability for x in b])
        self.p_lambda = np.array([x.extra_orders_per_active_month for x in b])
        self.p_return = np.array([x.return_probability for x in b])
        self.p_share0 = np.array([x.acquisition_share[0] for x in b])
        mean = np.array([m for x in b for m in x.order_revenue_mean])
        sigma = np.array([s for x in b for s in x.order_revenue_sigma])
        self.line_mean = mean
        self.line_sigma = sigma
        self.line_mu = _lognormal_mu(mean, sigma)
        self.line_margin = np.array([m for x in b for m in x.margin_rate])
        self.line_cross = np.array([c for x in b for c in x.cross_sell_probability])
        self.brand_scale = np.array(
            [np.dot(x.acquisition_share, x.order_revenue_mean) / 100.0 for x in b]
        )

    # -- infrastructure ------------------------------------------------------------------------

    def log(self, msg: str) -> None:
        if self.progress:
            dt = time.perf_counter() - self.t_start
            print(f"[{dt:6.1f}s] {msg}", file=sys.stderr, flush=True)

    def write(self, name: str, cols: dict[str, pa.Array], exprs: dict[str, str] | None = None):
        """Create canonical table ``name`` from Arrow columns, casting to the schema's kinds."""
        spec = TABLES[name]
        exprs = exprs or {}
        missing = [c.name for c in spec.columns if c.name not in cols and c.name not in exprs]
        if missing:  # pragma: no cover - programming error
            raise AssertionError(f"{name}: no data for {missing}")
        src = pa.table(cols)
        sources = {c.name: exprs.get(c.name, f'"{c.name}"') for c in spec.columns}
        select = ", ".join(
            f'CAST({sources[c.name]} AS {_SQL_TYPE[c.kind]}) AS "{c.name}"' for c in spec.columns
        )
        self._create(name, src, select)

    def write_truth(self, name: str, cols: dict[str, pa.Array], types: dict[str, str]):
        src = pa.table(cols)
        select = ", ".join(f'CAST("{c}" AS {types.get(c, "DOUBLE")}) AS "{c}"' for c in cols)
        self._create(name, src, select)

    def _create(self, name: str, src: pa.Table, select: str) -> None:
        self.con.register("_demo_src", src)
        try:
            self.con.execute(f'CREATE TABLE "{name}" AS SELECT {select} FROM _demo_src')
        finally:
            self.con.unregister("_demo_src")
        self.rows[name] = src.num_rows
        self.log(f"{name}: {src.num_rows:,} rows")

    def brand_counts(self, total: int) -> np.ndarray:
        """Split ``total`` rows over brands by weight (deterministic, sums to ``total``)."""
        w = np.array([b.weight for b in self.brands])
        w = w / w.sum()
        counts = np.floor(w * total).astype(np.int64)
        counts[0] += total - counts.sum()
        return counts

    def month_weights(self, b: int) -> np.ndarray:
        brand = self.brands[b]
        w = (1.0 + brand.acquisition_growth) ** np.arange(self.months)
        w = w * np.array(brand.seasonality)[self.month_of_year]
        return w / w.sum()

    def times_over_span(self, brand: np.ndarray) -> np.ndarray:
        """Timestamps spread like acquisitions (growth and seasonality of each row's brand)."""
        n = len(brand)
        month = np.empty(n, dtype=np.int64)
        u = self.rng.random(n)
        for b in range(self.nb):
            idx = brand == b
            cdf = np.cumsum(self.month_weights(b))
            month[idx] = np.minimum(np.searchsorted(cdf, u[idx], side="right"), self.months - 1)
        return _uniform_between(self.rng, self.mstart[month], self.mstart[month + 1])

    def sample_active(self, k: int):
        """``k`` (customer index, timestamp) pairs drawn from active customer-months."""
        i = self.rng.integers(0, len(self.act_cust), k)
        cust = self.act_cust[i].astype(np.int64)
        month = self.act_month[i].astype(np.int64)
        lo = np.maximum(self.mstart[month], self.first_order[cust])
        t = _uniform_between(self.rng, lo, self.mstart[month + 1])
        order = np.argsort(t, kind="stable")
        return cust[order], t[order]

    def pick_user(self, brand: np.ndarray, roles: tuple[str, ...]) -> np.ndarray:
        """A random CRM user of each row's brand with one of ``roles``."""
        out = np.zeros(len(brand), dtype=np.int64)
        u = self.rng.random(len(brand))
        for b in range(self.nb):
            pool = np.concatenate([self.users_by[(b, r)] for r in roles])
            idx = brand == b
            out[idx] = pool[np.minimum((u[idx] * len(pool)).astype(np.int64), len(pool) - 1)]
        return out

    # -- tables --------------------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        self.customers()
        self.purchase_process()
        self.crm_users()
        self.campaigns()
        self.orders()
        self.leads()
        self.opportunities()
        self.activities()
        self.cases_and_calls()
        self.surveys()
        self.web_sessions()
        self.subscriptions()
        self.referrals()
        self.social_mentions()
        self.truth_brands()
        return self.rows

    def customers(self) -> None:
        rng, n = self.rng, self.n
        counts = self.brand_counts(n)
        brand = np.repeat(np.arange(self.nb, dtype=np.int8), counts)
        month = np.empty(n, dtype=np.int64)
        u = rng.random(n)
        for b in range(self.nb):
            idx = brand == b
            cdf = np.cumsum(self.month_weights(b))
            month[idx] = np.minimum(np.searchsorted(cdf, u[idx], side="right"), self.months - 1)
        created = _uniform_between(rng, self.mstart[month], self.mstart[month + 1])
        order = np.argsort(created, kind="stable")
        brand, month, created = brand[order], month[order], created[order]
        day_end = (created // DAY + 1) * DAY
        first_order = _uniform_between(rng, created, np.minimum(day_end, self.T_END))
        line = (rng.random(n) >= self.p_share0[brand]).astype(np.int8)

        acq = rng.choice(len(ACQUISITION_CHANNELS), size=n, p=ACQUISITION_CHANNEL_PROBABILITY)
        acq_null = rng.random(n) < 0.02
        nreg = np.array([len(x.regions) for x in self.brands])
        reg_off = np.concatenate([[0], np.cumsum(nreg)[:-1]])
        region = reg_off[brand] + np.floor(rng.random(n) * nreg[brand]).astype(np.int64)
        region_null = rng.random(n) < 0.03
        has_email = rng.random(n) < 0.90
        has_phone = rng.random(n) < 0.70
        opt_in = rng.random(n) < 0.65
        phone_num = rng.integers(0, 10**8, n)

        self.brand, self.month, self.created, self.line = brand, month, created, line
        self.first_order = first_order
        self.acq = np.where(acq_null, -1, acq)
        self.has_email, self.opt_in = has_email, opt_in
        self.brand_members = [np.flatnonzero(brand == b) for b in range(self.nb)]

        ids = [x.id for x in self.brands]
        self.write(
            "customers",
            {
                "customer_id": _arr(_ids(n)),
                "brand": _cat(brand, ids),
                "product_line": _cat(brand.astype(np.int64) * 2 + line, self.line_names),
                "created_at": _ts(created),
                "acquisition_channel": _cat(acq, ACQUISITION_CHANNELS, mask=acq_null),
                "region": _cat(
                    region, [r for x in self.brands for r in x.regions], mask=region_null
                ),
                "email_opt_in": _arr(opt_in, mask=~has_email),
                "_has_email": _arr(has_email),
                "_has_phone": _arr(has_phone),
                "_domain": _cat(brand, [x.email_domain for x in self.brands]),
                "_prefix": _cat(brand, [x.phone_prefix for x in self.brands]),
                "_phone": _arr(phone_num),
            },
            exprs={
                "email": "CASE WHEN _has_email THEN 'customer' || CAST(customer_id AS VARCHAR)"
                " || '@' || CAST(_domain AS VARCHAR) END",
                "phone": "CASE WHEN _has_phone THEN CAST(_prefix AS VARCHAR) || "
                "lpad(CAST(_phone AS VARCHAR), 8, '0') END",
            },
        )

    def purchase_process(self) -> None:
        """Lives, active months and the regular (campaign-free) orders."""
        rng, n, brand = self.rng, self.n, self.brand
        last = self.months - 1
        h = self.p_hazard[brand]
        end1 = self.month + rng.geometric(h) - 1
        comes_back = rng.random(n) < self.p_return[brand]
        s2 = end1 + 1 + MIN_DORMANCY_MONTHS + rng.geometric(0.25, n) - 1
        end2 = s2 + rng.geometric(h) - 1
        has2 = comes_back & (s2 <= last)
        self.end1, self.s2, self.end2, self.has2 = end1, s2, end2, has2

        second = np.flatnonzero(has2)
        seg_cust = np.concatenate([np.arange(n), second])
        seg_start = np.concatenate([self.month, s2[second]])
        seg_end = np.minimum(np.concatenate([end1, end2[second]]), last)
        seg_kind = np.concatenate([np.zeros(n, np.int8), np.ones(len(second), np.int8)])
        grp, off = _expand(seg_end - seg_start + 1)
        a_cust = seg_cust[grp]
        a_month = seg_start[grp] + off
        first_month = off == 0
        active = first_month | (rng.random(len(grp)) < self.p_active[brand[a_cust]])
        # kind: 0 acquisition month, 1 return month, 2 other
        a_kind = np.where(first_month, seg_kind[grp], 2).astype(np.int8)
        self.act_cust = a_cust[active].astype(np.int32)
        self.act_month = a_month[active].astype(np.int16)
        act_kind = a_kind[active]
        del grp, off, a_cust, a_month, first_month, active, a_kind
        self.log(f"active customer-months: {len(self.act_cust):,}")

        k = 1 + rng.poisson(self.p_lambda[brand[self.act_cust]])
        grp, rank = _expand(k)
        cust = self.act_cust[grp].astype(np.int64)
        month = self.act_month[grp].astype(np.int64)
        kind = act_kind[grp]
        del grp
        is_first = (kind == 0) & (rank == 0)
        lo = np.where(kind == 0, self.first_order[cust], self.mstart[month])
        t = _uniform_between(rng, lo, self.mstart[month + 1])
        t[is_first] = self.first_order[cust[is_first]]
        del lo, month, kind, rank
        b = brand[cust].astype(np.int64)
        code = b * 2 + self.line[cust]
        cross = (~is_first) & (rng.random(len(cust)) < self.line_cross[code])
        code = np.where(cross, b * 2 + (1 - self.line[cust]), code).astype(np.int8)
        del b, cross, is_first
        self.base_orders = self._order_values(cust.astype(np.int32), t, code)
        self.log(f"regular orders: {len(t):,}")

    def _order_values(self, cust, t, code, channel_p=ORDER_CHANNEL_PROBABILITY, rng=None) -> dict:
        rng = rng or self.rng
        n = len(t)
        revenue = np.exp(self.line_mu[code] + self.line_sigma[code] * rng.standard_normal(n))
        rate = np.clip(self.line_margin[code] + 0.03 * rng.standard_normal(n), 0.02, 0.98)
        cost = np.round(revenue * (1.0 - rate), 2)
        revenue = np.round(revenue, 2)
        channel = rng.choice(len(ORDER_CHANNELS), size=n, p=channel_p).astype(np.int8)
        return dict(cust=cust, t=t, code=code, revenue=revenue, cost=cost, channel=channel)

    def crm_users(self) -> None:
        rng = self.rng
        brand_n = np.bincount(self.brand, minlength=self.nb)
        per_brand = np.maximum(10, np.round(0.005 * brand_n).astype(np.int64))
        brand = np.repeat(np.arange(self.nb, dtype=np.int64), per_brand)
        n = len(brand)
        grp, rank = _expand(per_brand)
        base_roles = np.array([0, 0, 1, 1, 2])  # at least 2 sales, 2 service, 1 marketing
        role = np.where(
            rank < 5,
            base_roles[np.minimum(rank, 4)],
            rng.choice(3, size=n, p=(0.4, 0.4, 0.2)),
        )
        early = rng.random(n) < 0.7
        created = np.where(
            early,
            self.T0 + rng.integers(0, 14 * DAY, n),
            rng.integers(self.T0, self.T_END - 30 * DAY, n),
        )
        deact_t = _uniform_between(rng, created + 60 * DAY, np.full(n, self.T_END))
        deactivated = (rng.random(n) < 0.10) & (rank >= 5) & (deact_t < self.T_END)
        self.users_by = {
            (b, r): np.flatnonzero((brand == b) & (role == i)) + 1
            for b in range(self.nb)
            for i, r in enumerate(ROLES)
        }
        self.user_brand = brand
        ids = [x.id for x in self.brands]
        self.write(
            "crm_users",
            {
                "user_id": _arr(_ids(n)),
                "brand": _cat(brand, ids),
                "role": _cat(role, ROLES),
                "created_at": _ts(created),
                "deactivated_at": _ts(np.where(deactivated, deact_t, 0), mask=~deactivated),
            },
        )

        # logins: per user and month while the account is active
        end = np.where(deactivated, deact_t, self.T_END)
        um_user, um_month = _expand(np.full(n, self.months))
        lo = np.maximum(self.mstart[um_month], created[um_user])
        hi = np.minimum(self.mstart[um_month + 1], end[um_user])
        p_login = np.array([x.crm_monthly_login_probability for x in self.brands])[brand]
        logs = (hi > lo) & (rng.random(len(lo)) < p_login[um_user])
        k = np.where(logs, 1 + rng.poisson(5.0, len(lo)), 0)
        g, _ = _expand(k)
        t = _uniform_between(rng, lo[g], hi[g])
        user = um_user[g]
        order = np.argsort(t, kind="stable")
        t, user = t[order], user[order]
        self.write(
            "crm_logins",
            {
                "login_id": _arr(_ids(len(t))),
                "user_id": _arr(user + 1),
                "brand": _cat(brand[user], ids),
                "logged_in_at": _ts(t),
            },
        )

    def alive_in(self, m: int) -> np.ndarray:
        return ((self.month <= m) & (m <= self.end1)) | (
            self.has2 & (self.s2 <= m) & (m <= self.end2)
        )

    def campaigns(self) -> None:
        rng = self.rng
        chans = list(CHANNEL_FUNNEL)
        ch_weight = np.array([CHANNEL_FUNNEL[c]["weight"] for c in chans])
        ch_weight = ch_weight / ch_weight.sum()
        plan = []
        for b in range(self.nb):
            k = int(rng.integers(10, 15))
            channel = np.concatenate(
                [
                    rng.permutation(len(chans)),
                    rng.choice(len(chans), size=k - len(chans), p=ch_weight),
                ]
            )
            rng.shuffle(channel)
            objective = rng.choice(4, size=k)  # retention, cross_sell, loyalty, seasonal
            objective[int(rng.integers(0, k))] = 4  # one winback campaign
            zero = int(rng.choice(np.flatnonzero(objective != 4)))
            lo = self.T0 + 120 * DAY
            hi = self.T_END - (ATTRIBUTION_DAYS + 42) * DAY
            start_day = np.sort(rng.integers(lo // DAY, hi // DAY + 1, size=k))
            with_line = rng.random(k) < 0.5
            line = rng.integers(0, 2, size=k)
            for j in range(k):
                f = CHANNEL_FUNNEL[chans[channel[j]]]
                obj = OBJECTIVES[objective[j]]
                has_line = bool(with_line[j]) or obj == "cross_sell"
                days = int(rng.integers(f["days"][0], f["days"][1] + 1))
                effect = 0.0 if j == zero else rng.uniform(*f["effect"]) * self.brand_scale[b]
                plan.append(
                    dict(
                        brand=b,
                        channel=chans[channel[j]],
                        objective=obj,
                        line=int(line[j]) if has_line else -1,
                        starts_at=int(start_day[j]) * DAY,
                        ends_at=(int(start_day[j]) + days) * DAY,
                        fixed_cost=round(
                            rng.uniform(*f["fixed"]) * self.brand_scale[b] * self.n / 20_000, 2
                        ),
                        cost_per_contact=round(rng.uniform(*f["cost"]), 2),
                        planned_control_share=round(rng.uniform(0.10, 0.20), 2),
                        fraction=rng.uniform(0.05, 0.20),
                        effect=round(effect, 1),
                    )
                )
        # one e-mail campaign per brand in the last month: a report on the latest period has a
        # campaign to show. Its outcome window runs past the end of the data; the planted truth
        # is the part of the effect inside the data (the window is "still open").
        late = self.late_rng
        f = CHANNEL_FUNNEL["email"]
        for b in range(self.nb):
            start = int(
                late.integers((self.T_END - 26 * DAY) // DAY, (self.T_END - 12 * DAY) // DAY)
            )
            plan.append(
                dict(
                    brand=b,
                    channel="email",
                    objective=OBJECTIVES[int(late.integers(0, 4))],
                    line=-1,
                    starts_at=start * DAY,
                    ends_at=(start + 7) * DAY,
                    fixed_cost=round(
                        late.uniform(*f["fixed"]) * self.brand_scale[b] * self.n / 20_000, 2
                    ),
                    cost_per_contact=round(late.uniform(*f["cost"]), 2),
                    planned_control_share=0.2,
                    fraction=late.uniform(0.10, 0.20),
                    effect=round(late.uniform(*f["effect"]) * self.brand_scale[b], 1),
                    late=True,
                )
            )
        plan.sort(key=lambda c: (c.get("late", False), c["starts_at"], c["brand"]))
        self.campaign_plan = plan

        base = self.base_orders
        index = _Sorted((base["cust"].astype(np.int64) << 32) | (base["t"] - self.T0))
        extras = {k: [] for k in ("cust", "t", "code", "revenue", "cost", "channel")}
        members = {
            k: []
            for k in (
                "cid",
                "cust",
                "control",
                "sent",
                "delivered",
                "opened",
                "clicked",
                "unsub",
                "responded",
            )
        }
        truth_m = {
            k: []
            for k in ("cid", "cust", "control", "segment", "exp_rev", "exp_margin", "real_rev")
        }
        truth_c = []
        truth_s = []
        pre = SEGMENT_PREPERIOD_DAYS * DAY
        for cid, c in enumerate(plan, start=1):
            rng = self.late_rng if c.get("late") else self.rng
            b = c["brand"]
            f = CHANNEL_FUNNEL[c["channel"]]
            t0 = c["starts_at"]
            sm = int(np.searchsorted(self.mstart, t0, side="right") - 1)
            pool = self.brand_members[b]
            ok = self.first_order[pool] < t0
            if c["line"] >= 0:
                target_line = 1 - c["line"] if c["objective"] == "cross_sell" else c["line"]
                ok &= self.line[pool] == target_line
            alive = self.alive_in(sm)[pool]
            ok &= ~alive if c["objective"] == "winback" else alive
            eligible = pool[ok]
            m = int(round(c["fraction"] * len(eligible)))
            cust = np.sort(rng.choice(eligible, size=m, replace=False)).astype(np.int64)
            n_ctrl = int(round(c["planned_control_share"] * m))
            control = np.zeros(m, dtype=bool)
            control[rng.permutation(m)[:n_ctrl]] = True

            # pre-treatment segment from the orders placed before the start
            t0r = t0 - self.T0
            extra_index = _Sorted(
                (np.concatenate(extras["cust"]).astype(np.int64) << 32)
                | (np.concatenate(extras["t"]) - self.T0)
                if extras["cust"]
                else np.zeros(0, dtype=np.int64)
            )
            t_pre = np.full(m, t0r - pre, dtype=np.int64)
            t_now = np.full(m, t0r, dtype=np.int64)
            recent = (index.count(cust, t_pre, t_now) + extra_index.count(cust, t_pre, t_now)) > 0
            first_recent = np.minimum(
                index.first_from(cust, t_pre), extra_index.first_from(cust, t_pre)
            )
            before = np.maximum(
                index.last_before(cust, t_pre), extra_index.last_before(cust, t_pre)
            )
            is_new = (self.first_order[cust] - self.T0) >= t0r - pre
            react = recent & ~is_new & (first_recent - before >= REACTIVATION_LAPSE_DAYS * DAY)
            segment = np.where(is_new, 0, np.where(react, 1, np.where(recent, 2, 3))).astype(
                np.int8
            )
            mult = np.array([SEGMENT_EFFECT[s] for s in SEGMENTS])[segment]

            # funnel of the treatment group
            treated = ~control
            sent = np.where(treated, t0 + rng.integers(8 * HOUR, 2 * DAY, m), 0)
            delivered = treated & (rng.random(m) < f["delivered"])
            opened = delivered & (rng.random(m) < f["opened"])
            open_t = sent + np.round(np.exp(np.log(3 * HOUR) + rng.standard_normal(m))).astype(
                np.int64
            )
            clicked = opened & (rng.random(m) < f["clicked"])
            click_t = open_t + np.round(np.exp(np.log(5 * MINUTE) + rng.standard_normal(m))).astype(
                np.int64
            )
            unsub = delivered & (rng.random(m) < f["unsubscribed"])
            unsub_t = sent + np.round(np.exp(np.log(6 * HOUR) + rng.standard_normal(m))).astype(
                np.int64
            )

            # planted extra orders
            code = np.where(
                c["line"] >= 0, b * 2 + c["line"], b * 2 + self.line[cust].astype(np.int64)
            )
            exp_rev = c["effect"] * mult
            exp_margin = exp_rev * self.line_margin[code]
            lam = np.where(delivered, exp_rev / (f["delivered"] * self.line_mean[code]), 0.0)
            k = rng.poisson(lam)
            g, _ = _expand(k)
            w_end = c["ends_at"] + ATTRIBUTION_DAYS * DAY
            et = _uniform_between(rng, sent[g], np.full(len(g), w_end))
            inside = et < self.T_END  # no order after the end of the data
            g, et, k = g[inside], et[inside], np.bincount(g[inside], minlength=m)
            # the planted truth is the expected effect inside the data: extra orders are uniform
            # over [sent, window end), so a window cut by the end of the data keeps that share
            seen = np.clip((self.T_END - sent) / np.maximum(w_end - sent, 1), 0.0, 1.0)
            exp_rev = np.where(treated, exp_rev * seen, exp_rev)
            exp_margin = np.where(treated, exp_margin * seen, exp_margin)
            e_cust = cust[g]
            vals = self._order_values(
                e_cust.astype(np.int32),
                et,
                code[g].astype(np.int8),
                channel_p=(0.8, 0.1, 0.1, 0.0),
                rng=rng,
            )
            for key in extras:
                extras[key].append(vals[key])
            real_rev = np.bincount(g, weights=vals["revenue"], minlength=m)
            real_margin = np.bincount(g, weights=vals["revenue"] - vals["cost"], minlength=m)
            first_buy = np.full(m, np.iinfo(np.int64).max)
            np.minimum.at(first_buy, g, et)
            bought = k > 0
            talk = clicked & (rng.random(m) < 0.10)
            talk_t = click_t + np.round(np.exp(np.log(2 * HOUR) + rng.standard_normal(m))).astype(
                np.int64
            )
            responded = bought | talk
            resp_t = np.where(talk, np.minimum(first_buy, talk_t), first_buy)

            def _valid(flag, t):
                return flag & (t < self.T_END)

            members["cid"].append(np.full(m, cid))
            members["cust"].append(cust)
            members["control"].append(control)
            members["sent"].append(sent)
            members["delivered"].append(delivered)
            members["opened"].append(np.where(_valid(opened, open_t), open_t, -1))
            members["clicked"].append(np.where(_valid(clicked, click_t), click_t, -1))
            members["unsub"].append(np.where(_valid(unsub, unsub_t), unsub_t, -1))
            members["responded"].append(np.where(_valid(responded, resp_t), resp_t, -1))
            truth_m["cid"].append(np.full(m, cid))
            truth_m["cust"].append(cust)
            truth_m["control"].append(control)
            truth_m["segment"].append(segment)
            truth_m["exp_rev"].append(exp_rev)
            truth_m["exp_margin"].append(exp_margin)
            truth_m["real_rev"].append(real_rev)
            nt = int(treated.sum())
            truth_c.append(
                dict(
                    brand=b,
                    campaign_id=cid,
                    channel=c["channel"],
                    product_line=self.line_names[b * 2 + c["line"]] if c["line"] >= 0 else None,
                    objective=c["objective"],
                    planted_effect=c["effect"],
                    members=m,
                    n_treated=nt,
                    n_control=m - nt,
                    true_incremental_revenue_per_treated=float(exp_rev[treated].mean())
                    if nt
                    else 0.0,
                    true_incremental_margin_per_treated=float(exp_margin[treated].mean())
                    if nt
                    else 0.0,
                    realised_incremental_revenue_per_treated=float(real_rev.sum() / nt)
                    if nt
                    else 0.0,
                    realised_incremental_margin_per_treated=float(real_margin.sum() / nt)
                    if nt
                    else 0.0,
                    outcome_window_start=t0,
                    outcome_window_end=w_end,
                )
            )
            for s, seg in enumerate(SEGMENTS):
                sel = segment == s
                st = sel & treated
                nst = int(st.sum())
                truth_s.append(
                    dict(
                        brand=b,
                        campaign_id=cid,
                        segment=seg,
                        effect_multiplier=SEGMENT_EFFECT[seg],
                        n_treated=nst,
                        n_control=int((sel & control).sum()),
                        true_incremental_revenue_per_treated=c["effect"] * SEGMENT_EFFECT[seg],
                        true_incremental_margin_per_treated=(
                            float(exp_margin[st].mean()) if nst else None
                        ),
                    )
                )
        self.extra_orders = {k: np.concatenate(v) if v else np.zeros(0) for k, v in extras.items()}
        del index
        self._write_campaigns(plan, members, truth_m, truth_c, truth_s)

    def _write_campaigns(self, plan, members, truth_m, truth_c, truth_s) -> None:
        ids = [x.id for x in self.brands]
        nc = len(plan)
        line = np.array([c["line"] for c in plan])
        cbrand = np.array([c["brand"] for c in plan])
        names = [
            f"{OBJECTIVE_LABEL[self.brands[c['brand']].locale][c['objective']]}"
            + (f" {self.line_names[c['brand'] * 2 + c['line']]}" if c["line"] >= 0 else "")
            + f" {np.datetime64(c['starts_at'], 's').astype('datetime64[M]')} ({c['channel']})"
            for c in plan
        ]
        self.campaign_brand = cbrand
        self.campaign_start = np.array([c["starts_at"] for c in plan], dtype=np.int64)
        self.campaign_end = np.array([c["ends_at"] for c in plan], dtype=np.int64)
        self.write(
            "campaigns",
            {
                "campaign_id": _arr(_ids(nc)),
                "brand": _cat(cbrand, ids),
                "product_line": _cat(
                    np.where(line >= 0, cbrand * 2 + line, 0), self.line_names, mask=line < 0
                ),
                "name": pa.array(names, type=pa.string()),
                "channel": _cat([CHANNELS.index(c["channel"]) for c in plan], CHANNELS),
                "objective": _cat([OBJECTIVES.index(c["objective"]) for c in plan], OBJECTIVES),
                "starts_at": _ts(self.campaign_start),
                "ends_at": _ts(self.campaign_end),
                "fixed_cost": _arr(np.array([c["fixed_cost"] for c in plan], dtype=float)),
                "cost_per_contact": _arr(
                    np.array([c["cost_per_contact"] for c in plan], dtype=float)
                ),
                "planned_control_share": _arr(
                    np.array([c["planned_control_share"] for c in plan], dtype=float)
                ),
            },
        )

        def cat(key, dtype=None):
            v = members[key]
            return np.concatenate(v) if v else np.zeros(0, dtype=dtype or np.int64)

        cid = cat("cid")
        control = cat("control", bool)
        treated = ~control
        self.write(
            "campaign_members",
            {
                "campaign_id": _arr(cid.astype(np.int64)),
                "customer_id": _arr(cat("cust") + 1),
                "brand": _cat(cbrand[cid - 1] if len(cid) else cid, ids),
                "group": _cat(control.astype(np.int8), ("treatment", "control")),
                "sent_at": _ts(cat("sent"), mask=control),
                "delivered": _arr(cat("delivered", bool), mask=control),
                **{
                    col: _ts(np.maximum(v, 0), mask=(v < 0) | control)
                    for col, v in (
                        ("opened_at", cat("opened")),
                        ("clicked_at", cat("clicked")),
                        ("unsubscribed_at", cat("unsub")),
                        ("responded_at", cat("responded")),
                    )
                },
            },
        )
        del treated

        def tcat(key, dtype=np.float64):
            v = truth_m[key]
            return np.concatenate(v) if v else np.zeros(0, dtype=dtype)

        t_cid = tcat("cid", np.int64)
        self.write_truth(
            "demo_truth_campaign_members",
            {
                "campaign_id": _arr(t_cid.astype(np.int64)),
                "customer_id": _arr(tcat("cust", np.int64) + 1),
                "brand": _cat(cbrand[t_cid - 1] if len(t_cid) else t_cid, ids),
                "group": _cat(tcat("control", bool).astype(np.int8), ("treatment", "control")),
                "segment": _cat(tcat("segment", np.int8), SEGMENTS),
                "expected_incremental_revenue": _arr(tcat("exp_rev")),
                "expected_incremental_margin": _arr(tcat("exp_margin")),
                "realised_incremental_revenue": _arr(np.round(tcat("real_rev"), 2)),
            },
            types={
                "campaign_id": "BIGINT",
                "customer_id": "BIGINT",
                "brand": "VARCHAR",
                "group": "VARCHAR",
                "segment": "VARCHAR",
            },
        )
        types_c = {
            "brand": "VARCHAR",
            "campaign_id": "BIGINT",
            "channel": "VARCHAR",
            "product_line": "VARCHAR",
            "objective": "VARCHAR",
            "members": "BIGINT",
            "n_treated": "BIGINT",
            "n_control": "BIGINT",
            "outcome_window_start": "TIMESTAMP",
            "outcome_window_end": "TIMESTAMP",
            "segment": "VARCHAR",
        }
        self.write_truth("demo_truth_campaigns", self._records(truth_c, ids), types_c)
        self.write_truth("demo_truth_campaign_segments", self._records(truth_s, ids), types_c)

    def _records(self, records: list[dict], ids) -> dict[str, pa.Array]:
        cols = {}
        for key in records[0]:
            values = [r[key] for r in records]
            if key == "brand":
                cols[key] = pa.array([ids[v] for v in values], type=pa.string())
            elif key.startswith("outcome_window"):
                cols[key] = _ts(np.array(values, dtype=np.int64))
            else:
                cols[key] = pa.array(values)
        return cols

    def orders(self) -> None:
        base, extra = self.base_orders, self.extra_orders
        cols = {}
        for k in base:
            cols[k] = np.concatenate([base[k], extra[k].astype(base[k].dtype)])
        del self.base_orders, self.extra_orders, base, extra
        order = np.argsort(cols["t"], kind="stable")
        for k in list(cols):
            cols[k] = cols[k][order]
        del order
        n = len(cols["t"])
        ids = [x.id for x in self.brands]
        code = cols.pop("code")
        self.write(
            "orders",
            {
                "order_id": _arr(_ids(n)),
                "customer_id": _arr(cols.pop("cust").astype(np.int64) + 1),
                "brand": _cat(code // 2, ids),
                "product_line": _cat(code, self.line_names),
                "ordered_at": _ts(cols.pop("t")),
                "revenue": _arr(cols.pop("revenue")),
                "cost": _arr(cols.pop("cost")),
                "channel": _cat(cols.pop("channel"), ORDER_CHANNELS),
            },
        )

    def leads(self) -> None:
        rng = self.rng
        n = int(round(0.3 * self.n))
        brand = np.repeat(np.arange(self.nb, dtype=np.int64), self.brand_counts(n))
        created = self.times_over_span(brand)
        order = np.argsort(created, kind="stable")
        brand, created = brand[order], created[order]
        line = (rng.random(n) >= self.p_share0[brand]).astype(np.int64)
        line_null = rng.random(n) < 0.10
        owner = self.pick_user(brand, ("sales",))
        owner_null = rng.random(n) < 0.10
        median = np.array([x.lead_response_median_minutes for x in self.brands])[brand]
        delay_min = np.exp(np.log(median) + rng.standard_normal(n))
        first_resp = created + np.maximum(np.round(delay_min * MINUTE), 30).astype(np.int64)
        contacted = (rng.random(n) < 0.95) & (first_resp < self.T_END)

        # outbound touches until the first response
        kmax = np.where(contacted, rng.choice(8, size=n, p=TOUCH_COUNT_PROBABILITY) + 1, 0).astype(
            np.int64
        )
        g, rank = _expand(kmax)
        gaps = np.where(rank == 0, 0, np.exp(np.log(2 * DAY) + 0.6 * rng.standard_normal(len(g))))
        first_of = np.cumsum(kmax) - kmax
        csum = np.cumsum(gaps)
        offset = csum - (csum[first_of[g]] - gaps[first_of[g]])
        t = first_resp[g] + np.round(offset).astype(np.int64)
        resp = rng.random(len(g)) < np.array(TOUCH_RESPONSE)[rank]
        r_cum = np.cumsum(resp)
        before = r_cum - resp - (r_cum[first_of[g]] - resp[first_of[g]])
        keep = (before == 0) & (t < self.T_END)
        g, rank, t, resp = g[keep], rank[keep], t[keep], resp[keep]
        responded = np.zeros(n, dtype=bool)
        responded[g[resp]] = True
        resp_t = np.zeros(n, dtype=np.int64)
        resp_t[g[resp]] = t[resp]

        fast = delay_min <= LEAD_FAST_MINUTES
        p_conv = np.where(
            fast,
            np.array([x.lead_conversion_fast for x in self.brands])[brand],
            np.array([x.lead_conversion_slow for x in self.brands])[brand],
        )
        target = resp_t + np.round(np.exp(np.log(3 * DAY) + 0.8 * rng.standard_normal(n)))
        convert = responded & (rng.random(n) < p_conv) & (target < self.T_END)
        customer = np.full(n, -1, dtype=np.int64)
        for b in range(self.nb):
            sel = np.flatnonzero(convert & (brand == b))
            sel = sel[np.argsort(target[sel], kind="stable")]
            pool = self.brand_members[b]
            pos = np.searchsorted(self.created[pool], target[sel])
            j = np.arange(len(sel))
            pos = j + np.maximum.accumulate(pos - j) if len(sel) else pos
            ok = pos < len(pool)
            customer[sel[ok]] = pool[pos[ok]]
        converted = customer >= 0
        converted_at = np.where(converted, self.created[np.maximum(customer, 0)], 0)

        # campaign attribution for leads created while a campaign of their brand runs
        campaign = np.zeros(n, dtype=np.int64)
        for b in range(self.nb):
            cidx = np.flatnonzero(self.campaign_brand == b)
            if not len(cidx):
                continue
            sel = np.flatnonzero(brand == b)
            j = np.searchsorted(self.campaign_start[cidx], created[sel], side="right") - 1
            inside = (j >= 0) & (created[sel] < self.campaign_end[cidx][np.maximum(j, 0)])
            campaign[sel[inside]] = cidx[j[inside]] + 1
        by_campaign = (campaign > 0) & (rng.random(n) < 0.5)
        source = rng.choice(5, size=n, p=LEAD_SOURCE_PROBABILITY)
        source = np.where(by_campaign, 5, source)

        ids = [x.id for x in self.brands]
        self.write(
            "leads",
            {
                "lead_id": _arr(_ids(n)),
                "brand": _cat(brand, ids),
                "product_line": _cat(brand * 2 + line, self.line_names, mask=line_null),
                "created_at": _ts(created),
                "source": _cat(source, LEAD_SOURCES),
                "campaign_id": _arr(campaign, mask=~by_campaign),
                "first_response_at": _ts(first_resp, mask=~contacted),
                "converted_at": _ts(converted_at, mask=~converted),
                "customer_id": _arr(customer + 1, mask=~converted),
                "owner_id": _arr(owner, mask=owner_null),
            },
        )
        touch_owner = np.where(owner_null[g], self.pick_user(brand[g], ("sales",)), owner[g])
        ttype = rng.choice(3, size=len(g), p=(0.5, 0.35, 0.15))
        self.touches = dict(
            brand=brand[g],
            owner=touch_owner,
            lead=g + 1,
            t=t,
            type=np.array([0, 1, 3])[ttype],  # call, email, sms
            responded=resp,
        )
        self.lead_conversion_rate = float(converted.mean()) if n else 0.0

    def opportunities(self) -> None:
        rng = self.rng
        n = int(round(0.06 * self.n))
        brand = np.repeat(np.arange(self.nb, dtype=np.int64), self.brand_counts(n))
        created = self.times_over_span(brand)
        order = np.argsort(created, kind="stable")
        brand, created = brand[order], created[order]
        customer = np.full(n, -1, dtype=np.int64)
        u = rng.random(n)
        for b in range(self.nb):
            sel = np.flatnonzero(brand == b)
            pool = self.brand_members[b]
            before = np.searchsorted(self.created[pool], created[sel])
            pick = np.minimum((u[sel] * before).astype(np.int64), np.maximum(before - 1, 0))
            customer[sel] = np.where(before > 0, pool[pick], -1)
        renewal = (rng.random(n) < 0.20) & (customer >= 0)
        customer = np.where(renewal | (rng.random(n) < 0.7), customer, -1)
        line = (rng.random(n) >= self.p_share0[brand]).astype(np.int64)
        line_null = rng.random(n) < 0.05
        cycle = np.round(rng.gamma(2.0, 12.0 * DAY, n)).astype(np.int64)
        p_win = np.where(
            renewal,
            np.array([x.renewal_win_probability for x in self.brands])[brand],
            np.array([x.opportunity_win_probability for x in self.brands])[brand],
        )
        won = rng.random(n) < p_win
        closed = created + cycle
        is_open = closed >= self.T_END
        status = np.where(is_open, 0, np.where(won, 1, 2))
        amount_mean = np.array([x.deal_amount_mean for x in self.brands])[brand] * np.where(
            renewal, 0.8, 1.0
        )
        amount = np.round(np.exp(_lognormal_mu(amount_mean, 0.7) + 0.7 * rng.standard_normal(n)), 2)
        amount_null = rng.random(n) < 0.03
        quotes = np.where(rng.random(n) < 0.15, 0, 1 + rng.poisson(0.7, n))
        owner = self.pick_user(brand, ("sales",))
        ids = [x.id for x in self.brands]
        self.write(
            "opportunities",
            {
                "opportunity_id": _arr(_ids(n)),
                "brand": _cat(brand, ids),
                "product_line": _cat(brand * 2 + line, self.line_names, mask=line_null),
                "customer_id": _arr(customer + 1, mask=customer < 0),
                "owner_id": _arr(owner),
                "created_at": _ts(created),
                "closed_at": _ts(closed, mask=is_open),
                "status": _cat(status, ("open", "won", "lost")),
                "amount": _arr(amount, mask=amount_null),
                "quote_count": _arr(quotes.astype(np.int64)),
                "is_renewal": _arr(renewal),
            },
        )
        # sales activities on each opportunity
        k = 1 + rng.poisson(2.0, n)
        g, _ = _expand(k)
        end = np.where(is_open, np.minimum(created + 60 * DAY, self.T_END), closed)
        t = _uniform_between(rng, created[g], end[g])
        self.opp_activities = dict(
            brand=brand[g],
            owner=owner[g],
            customer=customer[g],
            opp=g + 1,
            t=t,
            type=np.array([0, 2, 1])[rng.choice(3, size=len(g), p=(0.65, 0.15, 0.20))],
            responded=rng.random(len(g)) < 0.55,
        )

    def activities(self) -> None:
        rng = self.rng
        n_out = int(round(0.45 * self.n))
        n_in = int(round(0.15 * self.n))
        cust_o, t_o = self.sample_active(n_out)
        cust_i, t_i = self.sample_active(n_in)
        b_o, b_i = self.brand[cust_o].astype(np.int64), self.brand[cust_i].astype(np.int64)
        # outbound: call, email, meeting, sms with type-specific response rates
        type_o = np.array([0, 1, 2, 3])[rng.choice(4, size=n_out, p=(0.25, 0.45, 0.10, 0.20))]
        p_resp = np.array([0.45, 0.12, 0.90, 0.08, 0.05])[type_o]
        resp_o = rng.random(n_out) < p_resp
        type_i = np.array([0, 1, 4])[rng.choice(3, size=n_in, p=(0.5, 0.35, 0.15))]
        own_o = self.pick_user(b_o, ("marketing", "service"))
        own_i = self.pick_user(b_i, ("service",))
        tch, opp = self.touches, self.opp_activities
        none = np.int64(-1)
        parts = [
            # brand, owner, customer, lead, opportunity, t, type, direction, responded(-1 null)
            (
                tch["brand"],
                tch["owner"],
                np.full(len(tch["t"]), none),
                tch["lead"],
                np.full(len(tch["t"]), none),
                tch["t"],
                tch["type"],
                1,
                tch["responded"].astype(np.int8),
            ),
            (
                opp["brand"],
                opp["owner"],
                opp["customer"],
                np.full(len(opp["t"]), none),
                opp["opp"],
                opp["t"],
                opp["type"],
                1,
                opp["responded"].astype(np.int8),
            ),
            (
                b_o,
                own_o,
                cust_o,
                np.full(n_out, none),
                np.full(n_out, none),
                t_o,
                type_o,
                1,
                resp_o.astype(np.int8),
            ),
            (
                b_i,
                own_i,
                cust_i,
                np.full(n_in, none),
                np.full(n_in, none),
                t_i,
                type_i,
                0,
                np.full(n_in, -1, dtype=np.int8),
            ),
        ]
        cols = [np.concatenate([np.asarray(p[i]) for p in parts]) for i in range(7)]
        direction = np.concatenate([np.full(len(p[5]), p[7], dtype=np.int8) for p in parts])
        responded = np.concatenate([p[8] for p in parts])
        brand, owner, customer, lead, opp_id, t, typ = cols
        order = np.argsort(t, kind="stable")
        del self.touches, self.opp_activities
        ids = [x.id for x in self.brands]
        customer, lead, opp_id = customer[order], lead[order], opp_id[order]
        responded = responded[order]
        self.write(
            "activities",
            {
                "activity_id": _arr(_ids(len(t))),
                "brand": _cat(brand[order], ids),
                "owner_id": _arr(owner[order]),
                "customer_id": _arr(customer + 1, mask=customer < 0),
                "lead_id": _arr(lead, mask=lead < 0),
                "opportunity_id": _arr(opp_id, mask=opp_id < 0),
                "occurred_at": _ts(t[order]),
                "type": _cat(typ[order], ACTIVITY_TYPES),
                "direction": _cat(direction[order], ("inbound", "outbound")),
                "responded": _arr(responded == 1, mask=responded < 0),
            },
        )

    def cases_and_calls(self) -> None:
        rng = self.rng
        n = int(round(0.2 * self.n))
        n_anon = int(round(0.05 * n))
        cust, t_c = self.sample_active(n - n_anon)
        b_anon = rng.choice(self.nb, size=n_anon, p=self.brand_counts(1000) / 1000)
        t_anon = self.times_over_span(b_anon)
        brand = np.concatenate([self.brand[cust].astype(np.int64), b_anon])
        customer = np.concatenate([cust, np.full(n_anon, -1)])
        opened = np.concatenate([t_c, t_anon])
        order = np.argsort(opened, kind="stable")
        brand, customer, opened = brand[order], customer[order], opened[order]

        channel = rng.choice(len(CASE_CHANNELS), size=n, p=(0.5, 0.3, 0.1, 0.1))
        phone = channel == 0
        complaint = rng.random(n) < np.array([x.complaint_share for x in self.brands])[brand]
        sla = np.where(complaint | phone, 24.0, 48.0)
        first_delay = np.exp(
            np.where(phone, np.log(2 * MINUTE), np.log(40 * MINUTE)) + rng.standard_normal(n)
        )
        first_resp = opened + np.round(first_delay).astype(np.int64)
        fcr = np.array([x.first_contact_resolution_probability for x in self.brands])[brand]
        contacts = np.where(
            rng.random(n) < fcr, 1, 2 + rng.choice(3, size=n, p=(0.6, 0.25, 0.15))
        ).astype(np.int64)
        res_h = np.exp(np.log(8.0) + 1.2 * rng.standard_normal(n))
        res_h = res_h * np.where(complaint, 3.0, 1.0) * (1.0 + 0.7 * (contacts - 1))
        resolved = opened + np.maximum(
            np.round(res_h * HOUR).astype(np.int64), first_resp - opened + 5 * MINUTE
        )
        unresolved = (rng.random(n) < 0.02) | (resolved >= self.T_END)
        first_null = first_resp >= self.T_END
        cost = np.round(contacts * rng.uniform(6.0, 12.0, n) * np.where(complaint, 1.5, 1.0), 2)
        ids = [x.id for x in self.brands]
        self.write(
            "cases",
            {
                "case_id": _arr(_ids(n)),
                "brand": _cat(brand, ids),
                "customer_id": _arr(customer + 1, mask=customer < 0),
                "channel": _cat(channel, CASE_CHANNELS),
                "opened_at": _ts(opened),
                "first_response_at": _ts(first_resp, mask=first_null),
                "resolved_at": _ts(resolved, mask=unresolved),
                "sla_hours": _arr(sla),
                "is_complaint": _arr(complaint),
                "contacts_to_resolve": _arr(contacts, mask=unresolved),
                "handling_cost": _arr(cost, mask=unresolved),
            },
        )

        # calls: one per contact of phone cases (callbacks after the first), plus unlinked calls
        k = np.where(phone, np.where(unresolved, 1, contacts), 0)
        g, rank = _expand(k)
        horizon = np.where(unresolved, np.minimum(opened + 7 * DAY, self.T_END), resolved)[g]
        t_link = np.where(rank == 0, opened[g], _uniform_between(rng, opened[g] + HOUR, horizon))
        t_link = np.minimum(t_link, self.T_END - 1)
        n_free = int(round(0.35 * len(g)))
        f_cust, t_free = self.sample_active(n_free)
        c_brand = np.concatenate([brand[g], self.brand[f_cust].astype(np.int64)])
        c_case = np.concatenate([g + 1, np.full(n_free, -1)])
        queue = np.concatenate(
            [np.where(complaint[g], 1, 0), rng.choice([0, 2, 3], size=n_free, p=(0.3, 0.4, 0.3))]
        )
        offered = np.concatenate([t_link, t_free])
        order = np.argsort(offered, kind="stable")
        c_brand, c_case, queue, offered = (
            c_brand[order],
            c_case[order],
            queue[order],
            offered[order],
        )
        m = len(offered)
        p_ab = np.array([x.call_abandonment_probability for x in self.brands])[c_brand]
        abandoned = rng.random(m) < p_ab
        answered = offered + np.round(rng.exponential(40.0, m)).astype(np.int64)
        handle = np.round(
            np.exp(np.log(300.0) + 0.5 * rng.standard_normal(m)) * np.where(queue == 1, 1.5, 1.0)
        )
        ended = answered + handle.astype(np.int64)
        no_answer = abandoned | (ended >= self.T_END)
        agent = self.pick_user(c_brand, ("service",))
        self.write(
            "calls",
            {
                "call_id": _arr(_ids(m)),
                "brand": _cat(c_brand, ids),
                "queue": _cat(queue, QUEUES),
                "agent_id": _arr(agent, mask=no_answer),
                "case_id": _arr(c_case, mask=c_case < 0),
                "offered_at": _ts(offered),
                "answered_at": _ts(answered, mask=no_answer),
                "ended_at": _ts(ended, mask=no_answer),
                "handle_seconds": _arr(handle, mask=no_answer),
            },
        )

    def surveys(self) -> None:
        rng = self.rng
        n = int(round(0.12 * self.n))
        cust, t = self.sample_active(n)
        brand = self.brand[cust].astype(np.int64)
        mix = np.array([x.nps_mix for x in self.brands])[brand]
        u = rng.random(n)
        klass = (u >= mix[:, 0]).astype(np.int64) + (u >= mix[:, 0] + mix[:, 1])
        nps = np.zeros(n, dtype=np.int64)
        csat = np.zeros(n, dtype=np.int64)
        for c in range(3):
            sel = klass == c
            nps[sel] = rng.choice(NPS_SCORES[c], size=int(sel.sum()), p=NPS_SCORE_PROBABILITY[c])
            csat[sel] = rng.choice(5, size=int(sel.sum()), p=CSAT_BY_CLASS[c]) + 1
        kind = rng.choice(3, size=n, p=(0.6, 0.25, 0.15))  # both, NPS only, CSAT only
        ids = [x.id for x in self.brands]
        self.write(
            "surveys",
            {
                "response_id": _arr(_ids(n)),
                "brand": _cat(brand, ids),
                "customer_id": _arr(cust + 1),
                "responded_at": _ts(t),
                "nps_score": _arr(nps, mask=kind == 2),
                "csat_score": _arr(csat, mask=kind == 1),
            },
        )

    def web_sessions(self) -> None:
        rng = self.rng
        n = int(round(0.8 * self.n))
        n_known = int(round(0.6 * n))
        cust, t_k = self.sample_active(n_known)
        b_anon = rng.choice(self.nb, size=n - n_known, p=self.brand_counts(1000) / 1000)
        t_a = self.times_over_span(b_anon)
        brand = np.concatenate([self.brand[cust].astype(np.int64), b_anon])
        customer = np.concatenate([cust, np.full(n - n_known, -1)])
        t = np.concatenate([t_k, t_a])
        order = np.argsort(t, kind="stable")
        brand, customer, t = brand[order], customer[order], t[order]
        views = 1 + rng.poisson(2.5, n)
        duration = np.round(np.exp(np.log(45.0 * views) + 0.6 * rng.standard_normal(n)), 1)
        goal = (
            rng.random(n)
            < np.array([x.web_goal_completion_probability for x in self.brands])[brand]
        )
        ids = [x.id for x in self.brands]
        self.write(
            "web_sessions",
            {
                "session_id": _arr(_ids(n)),
                "brand": _cat(brand, ids),
                "customer_id": _arr(customer + 1, mask=customer < 0),
                "started_at": _ts(t),
                "page_views": _arr(views.astype(np.int64)),
                "duration_seconds": _arr(duration),
                "goal_completed": _arr(goal),
            },
        )

    def subscriptions(self) -> None:
        rng = self.rng
        cust = np.flatnonzero(self.has_email & self.opt_in)
        n = len(cust)
        sub = _uniform_between(
            rng, self.created[cust], np.minimum(self.created[cust] + HOUR, self.T_END)
        )
        months = rng.exponential(1.0 / NEWSLETTER_UNSUBSCRIBE_HAZARD, n)
        unsub = sub + np.round(months * 30.44 * DAY).astype(np.int64)
        stays = unsub >= self.T_END
        ids = [x.id for x in self.brands]
        self.write(
            "subscriptions",
            {
                "customer_id": _arr(cust.astype(np.int64) + 1),
                "list": _cat(np.zeros(n, dtype=np.int8), ("newsletter",)),
                "brand": _cat(self.brand[cust], ids),
                "subscribed_at": _ts(sub),
                "unsubscribed_at": _ts(unsub, mask=stays),
            },
        )

    def referrals(self) -> None:
        rng = self.rng
        referred = np.flatnonzero(self.acq == ACQUISITION_CHANNELS.index("referral"))
        rank_in_brand = np.empty(self.n, dtype=np.int64)
        for pool in self.brand_members:
            rank_in_brand[pool] = np.arange(len(pool))
        r = rank_in_brand[referred]
        referred = referred[r > 0]
        r = r[r > 0]
        b = self.brand[referred].astype(np.int64)
        pick = np.minimum((rng.random(len(r)) * r).astype(np.int64), r - 1)
        referrer = np.empty(len(r), dtype=np.int64)
        for bb in range(self.nb):
            sel = b == bb
            referrer[sel] = self.brand_members[bb][pick[sel]]
        lo = np.maximum(self.created[referrer], self.created[referred] - 21 * DAY)
        t_conv = _uniform_between(rng, lo, self.created[referred])
        n_open = int(round(0.6 * len(referred)))
        o_ref, t_open = self.sample_active(n_open)
        ref_by = np.concatenate([referrer, o_ref])
        ref_to = np.concatenate([referred, np.full(n_open, -1)])
        t = np.concatenate([t_conv, t_open])
        order = np.argsort(t, kind="stable")
        ref_by, ref_to, t = ref_by[order], ref_to[order], t[order]
        ids = [x.id for x in self.brands]
        self.write(
            "referrals",
            {
                "referral_id": _arr(_ids(len(t))),
                "brand": _cat(self.brand[ref_by], ids),
                "referrer_customer_id": _arr(ref_by + 1),
                "referred_customer_id": _arr(ref_to + 1, mask=ref_to < 0),
                "created_at": _ts(t),
            },
        )

    def social_mentions(self) -> None:
        rng = self.rng
        n = int(round(0.15 * self.n))
        brand = np.repeat(np.arange(self.nb, dtype=np.int64), self.brand_counts(n))
        t = _uniform_between(rng, np.full(n, self.T0), np.full(n, self.T_END))
        order = np.argsort(t, kind="stable")
        t, brand = t[order], brand[order]  # keep each mention with its brand
        sov = np.array([x.own_share_of_voice for x in self.brands])[brand]
        u = rng.random(n)
        who = np.where(u < sov, 0, np.where(u < sov + (1 - sov) * 0.6, 1, 2))
        names = [x.id for x in self.brands] + [c for x in self.brands for c in x.competitors]
        code = np.where(who == 0, brand, self.nb + brand * 2 + who - 1)
        mean = np.where(
            who == 0,
            np.array([x.mean_sentiment for x in self.brands])[brand],
            np.where(who == 1, 0.10, 0.0),
        )
        sentiment = np.round(np.clip(mean + 0.45 * rng.standard_normal(n), -1.0, 1.0), 3)
        reach = np.round(np.exp(np.log(400.0) + 1.4 * rng.standard_normal(n))).astype(np.int64)
        self.write(
            "social_mentions",
            {
                "mention_id": _arr(_ids(n)),
                "brand": _cat(brand, names[: self.nb]),
                "mentioned_brand": _cat(code, names),
                "is_competitor": _arr(who > 0),
                "occurred_at": _ts(t),
                "sentiment": _arr(sentiment, mask=rng.random(n) < 0.05),
                "reach": _arr(reach, mask=rng.random(n) < 0.04),
            },
        )

    def truth_brands(self) -> None:
        p_resp = _touch_response_probability()
        recs = []
        for b in self.brands:
            fast = _fast_share(b)
            recs.append(
                dict(
                    brand=b.id,
                    brand_name=b.name,
                    locale=b.locale,
                    currency=b.currency,
                    customer_share=b.weight,
                    monthly_churn_hazard=b.monthly_churn_hazard,
                    monthly_active_probability=b.monthly_active_probability,
                    expected_monthly_churn_rate=b.expected_monthly_churn_rate,
                    expected_monthly_retention_rate=1.0 - b.expected_monthly_churn_rate,
                    extra_orders_per_active_month=b.extra_orders_per_active_month,
                    expected_orders_per_active_month=1.0 + b.extra_orders_per_active_month,
                    return_probability=b.return_probability,
                    min_dormancy_months=MIN_DORMANCY_MONTHS,
                    nps_promoter_share=b.nps_mix[0],
                    nps_passive_share=b.nps_mix[1],
                    nps_detractor_share=b.nps_mix[2],
                    expected_nps=b.expected_nps,
                    expected_csat=_expected_csat(b),
                    lead_fast_response_minutes=LEAD_FAST_MINUTES,
                    lead_response_median_minutes=b.lead_response_median_minutes,
                    lead_fast_response_share=fast * 0.95,
                    lead_touch_response_probability=p_resp,
                    lead_conversion_probability_fast=p_resp * b.lead_conversion_fast,
                    lead_conversion_probability_slow=p_resp * b.lead_conversion_slow,
                    opportunity_win_probability=b.opportunity_win_probability,
                    renewal_win_probability=b.renewal_win_probability,
                    renewal_share=0.20,
                    call_abandonment_probability=b.call_abandonment_probability,
                    complaint_share=b.complaint_share,
                    first_contact_resolution_probability=b.first_contact_resolution_probability,
                    own_share_of_voice=b.own_share_of_voice,
                    mean_sentiment=b.mean_sentiment,
                    web_goal_completion_probability=b.web_goal_completion_probability,
                    crm_monthly_login_probability=b.crm_monthly_login_probability,
                    newsletter_monthly_unsubscribe_hazard=NEWSLETTER_UNSUBSCRIBE_HAZARD,
                )
            )
        strings = ("brand", "brand_name", "locale", "currency")
        cols = {k: pa.array([r[k] for r in recs]) for k in recs[0]}
        types = {k: "VARCHAR" for k in strings} | {"min_dormancy_months": "INTEGER"}
        self.write_truth("demo_truth_brands", cols, types)

        lines = [
            dict(
                brand=b.id,
                product_line=b.product_lines[i],
                acquisition_share=b.acquisition_share[i],
                mean_order_revenue=b.order_revenue_mean[i],
                order_revenue_sigma=b.order_revenue_sigma[i],
                margin_rate=b.margin_rate[i],
                cross_sell_probability=b.cross_sell_probability[i],
            )
            for b in self.brands
            for i in range(2)
        ]
        cols = {k: pa.array([r[k] for r in lines]) for k in lines[0]}
        self.write_truth(
            "demo_truth_product_lines", cols, {"brand": "VARCHAR", "product_line": "VARCHAR"}
        )
        self.write_truth(
            "demo_truth_touch_response",
            {
                "touch_number": pa.array(np.arange(1, len(TOUCH_RESPONSE) + 1)),
                "response_probability": pa.array(TOUCH_RESPONSE),
                "planned_touches_probability": pa.array(TOUCH_COUNT_PROBABILITY),
            },
            {"touch_number": "INTEGER"},
        )


def _remove(*paths: str) -> None:
    for p in paths:
        if os.path.exists(p):
            os.remove(p)


def generate_demo(
    path: str | os.PathLike,
    *,
    customers: int = 20_000,
    seed: int = 42,
    start: str = "2024-01-01",
    months: int = 24,
    progress: bool = False,
) -> dict:
    """Write the demo CRM database with planted ground truth to a DuckDB file.

    The file is written to ``path + ".tmp"`` and moved over ``path`` only when complete, so a
    crash never leaves a half-written database (a stale ``.tmp`` is removed first).

    Parameters
    ----------
    path : str or os.PathLike
        DuckDB file to write; parent directories are created; an existing file is replaced.
    customers : int, default 20 000
        Number of customers over all brands (at least 100). Orders are about ten times more;
        every other table is at most twice the number of customers.
    seed : int, default 42
        Seed of :func:`numpy.random.default_rng`; the same seed gives identical tables.
    start : str, default "2024-01-01"
        First day of the span (must be the first day of a month).
    months : int, default 24
        Length of the span in calendar months (at least 12).
    progress : bool, default False
        Print one line per table written (with elapsed seconds) to standard error.

    Returns
    -------
    dict
        ``path``, ``customers``, ``seed``, ``start``, ``end`` (exclusive, ISO date), ``rows``
        (table name -> row count, truth tables included) and ``seconds`` (wall time).

    Raises
    ------
    ValueError
        If ``customers`` < 100, ``months`` < 12 or ``start`` is not the first day of a month.
    """
    if int(customers) < 100:
        raise ValueError(f"customers must be at least 100, got {customers}")
    if int(months) < 12:
        raise ValueError(f"months must be at least 12, got {months}")
    t0 = time.perf_counter()
    path = os.fspath(path)
    tmp = path + ".tmp"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    _remove(tmp, tmp + ".wal")
    try:
        con = duckdb.connect(tmp)
        try:
            con.execute("SET preserve_insertion_order = true")
            con.execute("SET enable_progress_bar = false")
            gen = _Generator(con, customers, seed, start, months, progress)
            rows = gen.run()
            con.execute("CHECKPOINT")
        finally:
            con.close()
        _remove(path + ".wal")
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp, tmp + ".wal")
        raise
    end = np.datetime64(gen.T_END, "s").astype("datetime64[D]")
    seconds = round(time.perf_counter() - t0, 2)
    gen.log(f"done: {path}")
    return {
        "path": path,
        "customers": int(customers),
        "seed": int(seed),
        "start": str(np.datetime64(gen.T0, "s").astype("datetime64[D]")),
        "end": str(end),
        "rows": dict(rows),
        "seconds": seconds,
    }
