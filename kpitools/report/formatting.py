"""Numbers and words for the report's locale (en, fr, it), with Babel.

Every number a stakeholder reads goes through :func:`format_value` or :func:`format_change`,
so that a French report shows ``12 345,6 €`` and ``+1,2 pt`` and never ``nan`` or ``None``.
"""

from __future__ import annotations

from functools import lru_cache

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, format_decimal, format_percent

from ..locales import BABEL_LOCALE
from ..numbers import is_missing
from ..vocab import Unit
from . import i18n

TEXT = {
    "kpi": {"en": "Indicator", "fr": "Indicateur", "it": "Indicatore"},
    "value": {"en": "Value", "fr": "Valeur", "it": "Valore"},
    "previous": {"en": "Previous period", "fr": "Période précédente", "it": "Periodo precedente"},
    "vs_previous": {"en": "vs previous", "fr": "vs précédente", "it": "vs precedente"},
    "year_ago": {"en": "A year before", "fr": "Un an avant", "it": "Un anno prima"},
    "vs_year_ago": {"en": "vs a year before", "fr": "vs un an avant", "it": "vs anno precedente"},
    "trend": {"en": "12-period trend", "fr": "Tendance 12 périodes", "it": "Andamento 12 periodi"},
    "definition": {"en": "Definition", "fr": "Définition", "it": "Definizione"},
    "department": {"en": "Department", "fr": "Service", "it": "Reparto"},
    "unit": {"en": "Unit", "fr": "Unité", "it": "Unità"},
    "better": {"en": "Better when", "fr": "Meilleur si", "it": "Migliore se"},
    "higher": {"en": "higher", "fr": "plus élevé", "it": "più alto"},
    "lower": {"en": "lower", "fr": "plus bas", "it": "più basso"},
    "no_data": {"en": "no data in period", "fr": "pas de données", "it": "nessun dato"},
    "not_available": {"en": "not available", "fr": "non disponible", "it": "non disponibile"},
    "needs_table": {"en": "needs table", "fr": "table requise :", "it": "tabella richiesta:"},
    "report_title": {
        "en": "CRM performance report",
        "fr": "Rapport de performance CRM",
        "it": "Report sulle performance CRM",
    },
    "period": {"en": "Period", "fr": "Période", "it": "Periodo"},
    "summary": {"en": "Summary", "fr": "Synthèse", "it": "Sintesi"},
    "scorecard": {"en": "Scorecard", "fr": "Tableau de bord", "it": "Scorecard"},
    "trends": {"en": "Trends", "fr": "Tendances", "it": "Andamenti"},
    "glossary": {"en": "Glossary", "fr": "Glossaire", "it": "Glossario"},
    "data_source": {"en": "Data source", "fr": "Source des données", "it": "Fonte dei dati"},
    "generated": {"en": "Generated", "fr": "Produit le", "it": "Generato il"},
    "improved": {"en": "improved", "fr": "en amélioration", "it": "in miglioramento"},
    "worsened": {"en": "worsened", "fr": "en recul", "it": "in peggioramento"},
    "unchanged": {"en": "unchanged", "fr": "stable", "it": "stabile"},
    "brand": {"en": "Brand", "fr": "Marque", "it": "Marchio"},
    "reports": {"en": "Reports", "fr": "Rapports", "it": "Report"},
    "cohort": {
        "en": "Acquisition cohort",
        "fr": "Cohorte d'acquisition",
        "it": "Coorte di acquisizione",
    },
    "periods_since": {
        "en": "Periods since first order",
        "fr": "Périodes depuis la première commande",
        "it": "Periodi dal primo ordine",
    },
    "cohort_retention": {
        "en": "Cohort retention",
        "fr": "Fidélisation par cohorte",
        "it": "Fidelizzazione per coorte",
    },
    "customer_segments": {
        "en": "Customers by segment, product line and channel",
        "fr": "Clients par segment, ligne de produits et canal",
        "it": "Clienti per segmento, linea di prodotto e canale",
    },
    "by_segment": {
        "en": "By customer segment",
        "fr": "Par segment de clients",
        "it": "Per segmento di clienti",
    },
    "by_product_line": {
        "en": "By product line",
        "fr": "Par ligne de produits",
        "it": "Per linea di prodotto",
    },
    "by_acquisition_channel": {
        "en": "By acquisition channel",
        "fr": "Par canal d'acquisition",
        "it": "Per canale di acquisizione",
    },
    "group": {"en": "Group", "fr": "Groupe", "it": "Gruppo"},
    "(unknown)": {"en": "(unknown)", "fr": "(inconnu)", "it": "(sconosciuto)"},
    "new": {"en": "New", "fr": "Nouveaux", "it": "Nuovi"},
    "reactivated": {"en": "Reactivated", "fr": "Réactivés", "it": "Riattivati"},
    "steady": {"en": "Steady", "fr": "Constants", "it": "Costanti"},
    "returning": {"en": "Returning", "fr": "De retour", "it": "Di ritorno"},
    "inactive": {
        "en": "Not buying in period",
        "fr": "Sans achat sur la période",
        "it": "Senza acquisti nel periodo",
    },
    "roi_headline": {
        "en": "Campaign programme ROI against control groups (campaigns of the last 12 months)",
        "fr": "ROI du programme de campagnes face aux groupes témoins (campagnes des 12 derniers mois)",
        "it": "ROI del programma di campagne rispetto ai gruppi di controllo (campagne degli ultimi 12 mesi)",
    },
    "touch_response": {
        "en": "Response rate by contact attempt, leads of the last 12 periods",
        "fr": "Taux de réponse par tentative de contact, prospects des 12 dernières périodes",
        "it": "Tasso di risposta per tentativo di contatto, lead degli ultimi 12 periodi",
    },
    "stop_after": {
        "en": "answers stop after touch {n}",
        "fr": "plus de réponse après la tentative {n}",
        "it": "nessuna risposta dopo il tentativo {n}",
    },
    "touch_number": {
        "en": "contact attempt",
        "fr": "tentative de contact",
        "it": "tentativo di contatto",
    },
    "response_rate": {"en": "response rate", "fr": "taux de réponse", "it": "tasso di risposta"},
    "no_campaign": {"en": "no campaign", "fr": "aucune campagne", "it": "nessuna campagna"},
    "step_sent": {"en": "Sent", "fr": "Envoyés", "it": "Inviati"},
    "step_delivered": {"en": "Delivered", "fr": "Délivrés", "it": "Consegnati"},
    "step_opened": {"en": "Opened", "fr": "Ouverts", "it": "Aperti"},
    "step_clicked": {"en": "Clicked", "fr": "Cliqués", "it": "Cliccati"},
    "step_purchased": {
        "en": "Ordered in outcome window",
        "fr": "Commande dans la fenêtre",
        "it": "Ordine nella finestra",
    },
    "share_of_sent": {
        "en": "share of contacted",
        "fr": "part des contactés",
        "it": "quota dei contattati",
    },
    "funnel": {
        "en": "Campaign funnel by channel, campaigns of the last 12 months",
        "fr": "Entonnoir des campagnes par canal, campagnes des 12 derniers mois",
        "it": "Funnel delle campagne per canale, campagne degli ultimi 12 mesi",
    },
    "product_lines": {"en": "Product lines", "fr": "Lignes de produits", "it": "Linee di prodotto"},
    "brand_wide": {
        "en": "These tables have no product line and are reported for the whole brand",
        "fr": "Ces tables n'ont pas de ligne de produits et portent sur toute la marque",
        "it": "Queste tabelle non hanno linea di prodotto e riguardano l'intero marchio",
    },
    "missing_tables": {
        "en": "Tables absent from the data source",
        "fr": "Tables absentes de la source",
        "it": "Tabelle assenti dalla fonte",
    },
}

UNIT_WORDS = {
    "days": {"en": "days", "fr": "jours", "it": "giorni"},
    "hours": {"en": "h", "fr": "h", "it": "h"},
    "minutes": {"en": "min", "fr": "min", "it": "min"},
    "seconds": {"en": "s", "fr": "s", "it": "s"},
}

DEPARTMENT_NAMES = {
    "sales": {"en": "Sales", "fr": "Ventes", "it": "Vendite"},
    "marketing": {"en": "Marketing", "fr": "Marketing", "it": "Marketing"},
    "service": {"en": "Service", "fr": "Service client", "it": "Assistenza"},
    "perception": {
        "en": "Customer relationship",
        "fr": "Relation client",
        "it": "Relazione con il cliente",
    },
    "adoption": {"en": "CRM adoption", "fr": "Adoption du CRM", "it": "Adozione del CRM"},
}

POINTS = {"en": "pp", "fr": "pt", "it": "p.p."}


def t(key: str, locale: str = "en") -> str:
    """The report phrase ``key`` in ``locale``."""
    entry = TEXT[key]
    return entry.get(locale, entry["en"])


def babel_locale(locale: str) -> str:
    """Babel's locale for a report language: ``en`` → ``en_GB``, ``fr`` → ``fr_FR``."""
    return BABEL_LOCALE.get(locale, locale)


_bl = babel_locale


@lru_cache(maxsize=32)
def currency_pattern(locale: str, decimals: bool) -> str:
    """The locale's currency pattern, with or without decimals (``¤#,##0`` / ``#,##0.00 ¤``)."""
    pattern = Locale.parse(babel_locale(locale)).currency_formats["standard"].pattern
    pattern = pattern.split(";")[0]
    return pattern if decimals else pattern.replace(".00", "")


@lru_cache(maxsize=32)
def _percent_pattern(locale: str) -> str:
    """The locale's percent pattern with one decimal: ``#,##0.0%`` (en), ``#,##0.0 %`` (fr)."""
    pattern = Locale.parse(babel_locale(locale)).percent_formats[None].pattern.split(";")[0]
    return pattern.replace("#,##0", "#,##0.0", 1) if ".0" not in pattern else pattern


#: Units shown as a number and a word (``3.5 days``, ``20 min``): ``unit.<unit>`` messages.
_DURATIONS = (Unit.DAYS, Unit.HOURS, Unit.MINUTES, Unit.SECONDS)


def format_number(value, locale: str = "en", decimals: int = 0) -> str:
    """A plain number with grouping, e.g. ``12,345`` / ``12 345`` / ``12.345``."""
    if is_missing(value):
        return "–"
    value = float(value)
    fmt = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=fmt, locale=babel_locale(locale))


def format_value(value, unit: str, locale: str = "en", currency: str = "EUR") -> str:
    """Format a KPI value by its unit.

    Parameters
    ----------
    value : float or None
    unit : str
        A registry unit: count, ratio (fraction shown as %), currency, score, days, hours,
        minutes, seconds, number.
    locale : {"en", "fr", "it"}
    currency : str
        ISO 4217 code.

    Returns
    -------
    str
        ``–`` for a missing value; never ``nan`` or ``None``.
    """
    if is_missing(value):
        return "–"
    value = float(value)
    loc = babel_locale(locale)
    if unit == "count":
        return format_decimal(round(value), format="#,##0", locale=loc)
    if unit == "ratio":
        return format_percent(value, format=_percent_pattern(locale), locale=loc)
    if unit == "currency":
        big = abs(value) >= 1000
        return format_currency(
            round(value) if big else value,
            currency,
            format=currency_pattern(locale, not big),
            locale=loc,
            currency_digits=False,
        )
    if unit == "score":
        return format_decimal(value, format="#,##0.0", locale=loc)
    if unit in _DURATIONS:
        word = i18n.t(f"unit.{unit}", locale)
        return f"{format_decimal(value, format='#,##0.0', locale=loc)}\u00a0{word}"
    return format_decimal(value, format="#,##0.##", locale=loc)


def format_change(change, kind: str, locale: str = "en") -> str:
    """A change with its sign: ``+1.2 pp`` for points (ratios, scores), ``−3.4%`` relative.

    Parameters
    ----------
    change : float or None
        Difference in points (for a ratio: a fraction, shown ×100) or relative change.
    kind : {"points", "points_ratio", "difference", "relative"}
    """
    if is_missing(change):
        return "–"
    change = float(change)
    loc = babel_locale(locale)
    if kind == "points_ratio":
        change = change * 100
        kind = "points"
    if kind in ("points", "difference"):
        body = format_decimal(abs(change), format="#,##0.0", locale=loc)
        unit = "\u00a0" + i18n.t("unit.points", locale) if kind == "points" else ""
    else:
        body = format_percent(abs(change), format=_percent_pattern(locale), locale=loc)
        unit = ""
    if body.strip("0,.\u00a0 %") == "":  # rounds to zero: no sign, never "−0.0"
        sign = "\u00b1"
    else:
        sign = "+" if change > 0 else ("\u2212" if change < 0 else "\u00b1")
    return f"{sign}{body}{unit}"


def change_kind(unit: str) -> str:
    """How a KPI's change is expressed: a ratio in points of %, a score as a plain signed
    difference (NPS +3.7, CSAT −0.2), anything else as a relative change."""
    if unit == "ratio":
        return "points_ratio"
    if unit == "score":
        return "difference"
    return "relative"


def format_date(d, locale: str = "en") -> str:
    """A date in the locale's long form: ``1 December 2025`` / ``1 décembre 2025``."""
    return babel_format_date(d, format="long", locale=babel_locale(locale))


def period_title(period, locale: str = "en") -> str:
    """``December 2025`` / ``décembre 2025`` / ``Q4 2025`` / ``2025``."""
    if period.grain == "month":
        return babel_format_date(period.start, format="LLLL y", locale=babel_locale(locale))
    if period.grain == "quarter":
        q = (period.start.month - 1) // 3 + 1
        return f"{i18n.t('period.quarter_prefix', locale)}{q} {period.start.year}"
    return str(period.start.year)
