"""The three demo brands and the parameters their data are drawn from."""

from __future__ import annotations

from dataclasses import dataclass


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
