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

Expected monthly repurchase (derivation)
----------------------------------------
The ``repeat_purchase_rate`` KPI counts customers with an order in month ``m - 1`` who order
again in month ``m`` (``churn_rate`` measured its complement before it followed the lapse rule;
the truth columns below keep their names). Call a customer *active* in a month when they
ordered in it. Under the process above, *active in m - 1* implies *alive in m - 1*.
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

The lapse churn (``churn_rate``: customers who bought in the 365 days before the month's start
and lapse during it) is checked against the planted loss dates of
``demo_truth_customer_lives`` instead (``tests/test_demo_churn.py``); on this growing 24-month
span it reads about a third to a half of the planted hazard ``h``.

Campaigns and their planted effects
-----------------------------------
Each brand runs 10 to 14 campaigns (all five channels at least once) starting between four
months after the start of the span and 72 days before its end, so that every outcome window
``[starts_at, ends_at + ATTRIBUTION_DAYS days)`` lies inside the span, plus one e-mail campaign
in the last month (drawn from its own random stream ``[seed, 2]``, planned control share
0.20), whose outcome window the end of the data cuts: its planted truth is the part of the
effect inside the data (below). A campaign targets a random sample (5 % to 20 %; 10 % to 20 %
for the last month's) of the brand's *eligible* customers (of one product line when the
campaign has one; for ``cross_sell`` campaigns, customers acquired on the *other* line): those
who placed their first order before ``starts_at`` and are *alive* in the start month; the one
``winback`` campaign per brand targets customers who are *not* alive in the start month.
Members are randomised into ``control`` by complete randomisation with exactly
``round(planned_control_share * members)`` controls, so their sample ratio checks pass with
p-values near 1; but for **one broken split**: the first brand's campaign with the most
members (the last month's excepted) lost ``LOST_CONTROL_SHARE`` (60 %) of its control group
in the export, at random (stream ``[seed, 12]``, applied after every other draw, so no other
row changes): with seed 42 and 20 000 customers, campaign 29 of aurora keeps 26 of its 64
controls (6.7 % of 389 members against 15 % planned; chi-square p = 4.4e-6), which the sample
ratio check flags. Its lift stays unbiased (the loss is at random and its treated members are
untouched). Control members are not contacted: their funnel columns are all NULL. Treatment members are sent the campaign in its first two days
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
exactly ``tau_c * m_s`` and the expected incremental margin ``tau_c * m_s * margin_rate``; for the last
month's campaigns, whose outcome window runs past the end of the data, the truth is the share
of it inside the data, ``tau_c * m_s * min(1, (end - sent_at) / (window end - sent_at))``
(extra orders after the end are not written).
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
``demo_truth_customer_lives``
    per customer and life (1, or 2 after a return): brand, ``start_month`` and ``lost_at``,
    the end of the life's last alive month (NULL when alive at the end of the span): the true
    loss dates that lapse churn is checked against (``tests/test_demo_churn.py``).
``demo_truth_campaigns``
    per campaign: ``planted_effect`` (``tau_c``), group sizes (``n_control`` exported,
    ``n_control_assigned`` randomised: they differ for the one ``broken_split`` campaign),
    ``true_incremental_revenue_per_treated``, ``true_incremental_margin_per_treated``
    (expectations), and the realised values.
``demo_truth_campaign_segments``
    the same per campaign and segment: the means over the segment's treated members of their
    expected effects (``tau_c * m_s``, cut by the end of the data for the last month's
    campaigns; NULL for a segment without a treated member).
``demo_truth_campaign_members``
    per member: group, segment, expected incremental revenue and margin had it been treated,
    realised extra revenue.

Modules
-------
One module per table family, each a set of functions of the :class:`~.generator.DemoGenerator`
state, run in a fixed order by :func:`generate_demo` (the order fixes the random streams, so
the same seed gives the same tables):

``brands``      :class:`DemoBrand` and :data:`DEMO_BRANDS` (the planted brand parameters)
``planted``     constants shared by every brand (windows, segments, touches, channel funnels)
``arrays``      vectorised helpers (time units, Arrow columns, group expansion)
``generator``   the state one family leaves for the next
``customers``   customers, lives and active months, orders
``adoption``    CRM users and logins
``campaigns``   campaigns, members, planted effects and their truth tables
``sales``       leads, opportunities, activities
``service``     cases and calls
``perception``  surveys and social mentions
``engagement``  web sessions, subscriptions, referrals
``truth``       ``demo_truth_brands``, ``demo_truth_product_lines``, ``demo_truth_touch_response``,
                ``demo_truth_customer_lives``
``generate``    :func:`generate_demo`: the run order and the atomic write
"""

from __future__ import annotations

from .brands import DEMO_BRANDS, DemoBrand, expected_monthly_churn_rate
from .generate import generate_demo
from .planted import (
    ATTRIBUTION_DAYS,
    CHANNEL_FUNNEL,
    LEAD_FAST_MINUTES,
    LOST_CONTROL_SHARE,
    MIN_DORMANCY_MONTHS,
    REACTIVATION_LAPSE_DAYS,
    SEGMENT_EFFECT,
    SEGMENT_PREPERIOD_DAYS,
    SEGMENTS,
    TOUCH_COUNT_PROBABILITY,
    TOUCH_RESPONSE,
)

__all__ = [
    "ATTRIBUTION_DAYS",
    "CHANNEL_FUNNEL",
    "DEMO_BRANDS",
    "DemoBrand",
    "LEAD_FAST_MINUTES",
    "LOST_CONTROL_SHARE",
    "MIN_DORMANCY_MONTHS",
    "REACTIVATION_LAPSE_DAYS",
    "SEGMENTS",
    "SEGMENT_EFFECT",
    "SEGMENT_PREPERIOD_DAYS",
    "TOUCH_COUNT_PROBABILITY",
    "TOUCH_RESPONSE",
    "expected_monthly_churn_rate",
    "generate_demo",
]
