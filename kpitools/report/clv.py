"""The customer lifetime value section of a report: HTML blocks, figures and ``kpis.json``.

Every function takes a :class:`kpitools.clv.analysis.ClvReport` and writes in the report's
locale (en, fr, it; phrases in :data:`TEXT` below); every number goes through
:func:`kpitools.report.formatting.format_value`. A report whose models could not be fitted
shows, in every block, the plain-language reason instead of numbers, and its figures hold that
message instead of a plot, so a notebook never needs a branch.

A notebook cell is one call::

    report = analyse_clv(db, params, period)
    show_clv_header(params, report)
    show_clv_intro(report)
    show_clv_summary(report)
    plot_clv_distribution(report);
    show_clv_by(report, "segment")
    plot_clv_by(report, "segment");
    show_at_risk(report)
    show_calibration(report)
    plot_calibration(report);
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

import numpy as np

from .formatting import TEXT as KPI_TEXT
from .formatting import format_change, format_date, format_value
from .kpis_json import export_section
from .tables import Html, header_html

__all__ = [
    "TEXT",
    "at_risk_html",
    "calibration_html",
    "clv_by_html",
    "clv_intro_html",
    "clv_summary_html",
    "clv_text",
    "export_clv_json",
    "plot_calibration",
    "plot_clv_by",
    "plot_clv_distribution",
    "show_at_risk",
    "show_calibration",
    "show_clv_by",
    "show_clv_header",
    "show_clv_intro",
    "show_clv_section",
    "show_clv_summary",
]

#: Phrases of the CLV section; ``{name}`` fields are filled with formatted numbers.
TEXT = {
    "title": {
        "en": "Customer lifetime value",
        "fr": "Valeur vie client",
        "it": "Valore del cliente nel tempo",
    },
    "intro": {
        "en": (
            "Customer lifetime value (CLV) is the gross margin a customer is expected to bring "
            "over the next {horizon} months, discounted at {discount} a year. It tells how much "
            "it is worth spending to keep a customer, and, for a newly acquired customer, how "
            "much an acquisition may cost."
        ),
        "fr": (
            "La valeur vie client (CLV) est la marge brute qu'un client devrait rapporter au "
            "cours des {horizon} prochains mois, actualisée à {discount} par an. Elle indique "
            "combien il vaut la peine d'investir pour conserver un client et, pour un nouveau "
            "client, combien son acquisition peut coûter."
        ),
        "it": (
            "Il valore del cliente nel tempo (CLV) è il margine lordo che un cliente dovrebbe "
            "portare nei prossimi {horizon} mesi, attualizzato al {discount} annuo. Indica "
            "quanto vale la pena investire per trattenere un cliente e, per un nuovo cliente, "
            "quanto può costare acquisirlo."
        ),
    },
    "method": {
        "en": (
            "It combines two statistical models fitted on the purchase history of {customers} "
            "customers up to {date}: one for how often each customer buys and whether they are "
            "still active, one for how much they spend per purchase. The margin rate is that "
            "of the orders of the last 12 months ({margin})."
        ),
        "fr": (
            "Elle combine deux modèles statistiques estimés sur l'historique d'achat de "
            "{customers} clients jusqu'au {date} : l'un pour la fréquence d'achat de chaque "
            "client et la probabilité qu'il soit encore actif, l'autre pour le montant dépensé "
            "par achat. Le taux de marge est celui des commandes des 12 derniers mois "
            "({margin})."
        ),
        "it": (
            "Combina due modelli statistici stimati sullo storico degli acquisti di "
            "{customers} clienti fino al {date}: uno per la frequenza di acquisto di ciascun "
            "cliente e la probabilità che sia ancora attivo, l'altro per la spesa per "
            "acquisto. Il tasso di margine è quello degli ordini degli ultimi 12 mesi "
            "({margin})."
        ),
    },
    "mean_clv": {"en": "Mean CLV", "fr": "CLV moyenne", "it": "CLV media"},
    "median_clv": {"en": "Median CLV", "fr": "CLV médiane", "it": "CLV mediana"},
    "expected_margin_12m": {
        "en": "Expected margin, next 12 months",
        "fr": "Marge attendue, 12 prochains mois",
        "it": "Margine atteso, prossimi 12 mesi",
    },
    "new_customer_clv": {
        "en": "Value of a new customer",
        "fr": "Valeur d'un nouveau client",
        "it": "Valore di un nuovo cliente",
    },
    "simple_clv": {
        "en": "Simple formula (per active customer)",
        "fr": "Formule simple (par client actif)",
        "it": "Formula semplice (per cliente attivo)",
    },
    "at_risk_tile": {
        "en": "Customers at risk",
        "fr": "Clients à risque",
        "it": "Clienti a rischio",
    },
    "all_customers": {
        "en": "all customers",
        "fr": "tous les clients",
        "it": "tutti i clienti",
    },
    "beyond_first_order": {
        "en": "repeat purchases after the first order",
        "fr": "achats répétés après la première commande",
        "it": "acquisti ripetuti dopo il primo ordine",
    },
    "at_risk_sub": {
        "en": "probability active below {threshold}",
        "fr": "probabilité d'activité sous {threshold}",
        "it": "probabilità di attività sotto {threshold}",
    },
    "simple_sentence": {
        "en": (
            "The simple formula, average margin per customer and month ({margin}) times the "
            "expected lifetime from the monthly churn rate ({churn}, about {lifetime} "
            "months), gives {simple} per active customer, against {model} from the models for "
            "the customers who bought in the period."
        ),
        "fr": (
            "La formule simple, marge moyenne par client et par mois ({margin}) multipliée par "
            "la durée de vie attendue d'après le taux d'attrition mensuel ({churn}, environ "
            "{lifetime} mois), donne {simple} par client actif, contre {model} selon les "
            "modèles pour les clients ayant acheté sur la période."
        ),
        "it": (
            "La formula semplice, margine medio per cliente e mese ({margin}) per la durata "
            "attesa dal tasso di abbandono mensile ({churn}, circa {lifetime} mesi), dà "
            "{simple} per cliente attivo, contro {model} secondo i modelli per i clienti che "
            "hanno acquistato nel periodo."
        ),
    },
    "simple_lower": {
        "en": (
            "It is lower because the churn rate counts every customer who skips a period as "
            "lost, while many of them buy again later."
        ),
        "fr": (
            "Elle est plus basse car le taux d'attrition compte comme perdu tout client qui "
            "n'achète pas pendant une période, alors que beaucoup rachètent ensuite."
        ),
        "it": (
            "È più bassa perché il tasso di abbandono conta come perso ogni cliente che salta "
            "un periodo, mentre molti riacquistano in seguito."
        ),
    },
    "simple_higher": {
        "en": (
            "It is higher because it assumes every active customer keeps the average margin "
            "until they churn, while the models expect fewer purchases from most of them."
        ),
        "fr": (
            "Elle est plus élevée car elle suppose que chaque client actif garde la marge "
            "moyenne jusqu'à son départ, alors que les modèles prévoient moins d'achats pour "
            "la plupart d'entre eux."
        ),
        "it": (
            "È più alta perché suppone che ogni cliente attivo mantenga il margine medio fino "
            "all'abbandono, mentre i modelli prevedono meno acquisti per la maggior parte."
        ),
    },
    "simple_agree": {
        "en": "The two estimates agree.",
        "fr": "Les deux estimations concordent.",
        "it": "Le due stime concordano.",
    },
    "simple_no_data": {
        "en": "the margin and churn indicators have no value in the last year",
        "fr": "les indicateurs de marge et d'attrition n'ont pas de valeur sur la dernière année",
        "it": "gli indicatori di margine e di abbandono non hanno valori nell'ultimo anno",
    },
    "simple_zero_churn": {
        "en": "no customer was lost, so the expected lifetime would be infinite",
        "fr": "aucun client n'a été perdu, la durée de vie attendue serait donc infinie",
        "it": "nessun cliente è stato perso, quindi la durata attesa sarebbe infinita",
    },
    "simple_missing": {
        "en": "The simple formula cannot be computed: {reason}.",
        "fr": "La formule simple ne peut pas être calculée : {reason}.",
        "it": "La formula semplice non può essere calcolata: {reason}.",
    },
    "not_fitted": {
        "en": "The customer lifetime value could not be estimated: {reason}.",
        "fr": "La valeur vie client n'a pas pu être estimée : {reason}.",
        "it": "Il valore del cliente nel tempo non ha potuto essere stimato: {reason}.",
    },
    "too_few_repeat_buyers": {
        "en": (
            "only {repeat} of the {customers} customers have bought more than once, and the "
            "models need at least {minimum} repeat buyers (a longer history or a larger "
            "customer base is needed)"
        ),
        "fr": (
            "seuls {repeat} des {customers} clients ont acheté plus d'une fois, et les modèles "
            "demandent au moins {minimum} clients ayant racheté (il faut un historique plus "
            "long ou davantage de clients)"
        ),
        "it": (
            "solo {repeat} dei {customers} clienti hanno acquistato più di una volta, e i "
            "modelli richiedono almeno {minimum} clienti con acquisti ripetuti (serve uno "
            "storico più lungo o una base clienti più ampia)"
        ),
    },
    "no_orders": {
        "en": "there are no orders up to the end of the period",
        "fr": "aucune commande jusqu'à la fin de la période",
        "it": "non ci sono ordini fino alla fine del periodo",
    },
    "no_revenue": {
        "en": "the orders have no positive revenue, so no margin rate",
        "fr": "les commandes n'ont pas de chiffre d'affaires positif, donc pas de taux de marge",
        "it": "gli ordini non hanno ricavi positivi, quindi nessun tasso di margine",
    },
    "no_convergence": {
        "en": "the statistical model did not converge on these data ({detail})",
        "fr": "le modèle statistique n'a pas convergé sur ces données ({detail})",
        "it": "il modello statistico non è arrivato a convergenza su questi dati ({detail})",
    },
    "by_segment": {
        "en": "CLV by customer segment",
        "fr": "CLV par segment de clients",
        "it": "CLV per segmento di clienti",
    },
    "by_product_line": {
        "en": "CLV by product line of acquisition",
        "fr": "CLV par ligne de produits d'acquisition",
        "it": "CLV per linea di prodotto di acquisizione",
    },
    "by_segment_note": {
        "en": "Segment in the period; “Not buying in period”: customers without an order in it.",
        "fr": "Segment sur la période ; « Sans achat sur la période » : clients sans commande.",
        "it": "Segmento nel periodo; «Senza acquisti nel periodo»: clienti senza ordini.",
    },
    "group": {"en": "Group", "fr": "Groupe", "it": "Gruppo"},
    "customers": {"en": "Customers", "fr": "Clients", "it": "Clienti"},
    "total_clv": {"en": "Total CLV", "fr": "CLV totale", "it": "CLV totale"},
    "share_of_clv": {"en": "Share of CLV", "fr": "Part de la CLV", "it": "Quota della CLV"},
    "at_risk": {
        "en": "Valuable customers at risk",
        "fr": "Clients de valeur à risque",
        "it": "Clienti di valore a rischio",
    },
    "at_risk_intro": {
        "en": (
            "The {n} customers with the highest CLV whose probability of still being active "
            "is below {threshold}; {count} customers are below that threshold in all, with a "
            "CLV of {value}. “Value if retained” is their CLV if they stay active: the most a "
            "retention action on them is worth."
        ),
        "fr": (
            "Les {n} clients à la CLV la plus élevée dont la probabilité d'être encore actifs "
            "est inférieure à {threshold} ; {count} clients au total sont sous ce seuil, pour "
            "une CLV de {value}. La « valeur si conservé » est leur CLV s'ils restent actifs : "
            "le maximum que vaut une action de fidélisation auprès d'eux."
        ),
        "it": (
            "I {n} clienti con la CLV più alta la cui probabilità di essere ancora attivi è "
            "inferiore a {threshold}; in tutto {count} clienti sono sotto questa soglia, con "
            "una CLV di {value}. Il «valore se trattenuto» è la loro CLV se restano attivi: il "
            "massimo che vale un'azione di fidelizzazione su di loro."
        ),
    },
    "at_risk_none": {
        "en": "No customer has a probability of being active below {threshold}.",
        "fr": "Aucun client n'a une probabilité d'être actif inférieure à {threshold}.",
        "it": "Nessun cliente ha una probabilità di essere attivo inferiore a {threshold}.",
    },
    "customer": {"en": "Customer", "fr": "Client", "it": "Cliente"},
    "clv": {"en": "CLV", "fr": "CLV", "it": "CLV"},
    "probability_alive": {
        "en": "Probability active",
        "fr": "Probabilité d'activité",
        "it": "Probabilità di attività",
    },
    "last_purchase": {"en": "Last purchase", "fr": "Dernier achat", "it": "Ultimo acquisto"},
    "frequency": {"en": "Repeat purchases", "fr": "Achats répétés", "it": "Acquisti ripetuti"},
    "value_if_retained": {
        "en": "Value if retained",
        "fr": "Valeur si conservé",
        "it": "Valore se trattenuto",
    },
    "calibration": {
        "en": "How reliable is the forecast?",
        "fr": "Quelle fiabilité pour la prévision ?",
        "it": "Quanto è affidabile la previsione?",
    },
    "calibration_text": {
        "en": (
            "To check the purchase model, it was fitted again on the orders up to {date} only "
            "and asked to predict the following {months} months: it expected {expected} repeat "
            "purchases from {customers} customers, who made {actual} ({error})."
        ),
        "fr": (
            "Pour vérifier le modèle d'achat, il a été réestimé sur les seules commandes "
            "jusqu'au {date} puis a prédit les {months} mois suivants : il attendait {expected} "
            "achats répétés de {customers} clients, qui en ont fait {actual} ({error})."
        ),
        "it": (
            "Per verificare il modello di acquisto, è stato stimato di nuovo sui soli ordini "
            "fino al {date} e ha previsto i {months} mesi successivi: prevedeva {expected} "
            "acquisti ripetuti da {customers} clienti, che ne hanno fatti {actual} ({error})."
        ),
    },
    "calibration_good": {
        "en": "The forecast is within {tolerance} of what happened: the CLV can be relied on.",
        "fr": "La prévision est à moins de {tolerance} de la réalité : la CLV est fiable.",
        "it": "La previsione è entro il {tolerance} della realtà: la CLV è affidabile.",
    },
    "calibration_over": {
        "en": "The model over-predicts purchases: read the CLV as an optimistic estimate.",
        "fr": "Le modèle surestime les achats : la CLV est une estimation optimiste.",
        "it": "Il modello sovrastima gli acquisti: la CLV è una stima ottimistica.",
    },
    "calibration_under": {
        "en": "The model under-predicts purchases: read the CLV as a prudent estimate.",
        "fr": "Le modèle sous-estime les achats : la CLV est une estimation prudente.",
        "it": "Il modello sottostima gli acquisti: la CLV è una stima prudente.",
    },
    "calibration_missing": {
        "en": "The forecast could not be checked on past data: {reason}.",
        "fr": "La prévision n'a pas pu être vérifiée sur les données passées : {reason}.",
        "it": "La previsione non ha potuto essere verificata sui dati passati: {reason}.",
    },
    "calibration_short": {
        "en": "too little history before the check period",
        "fr": "historique trop court avant la période de contrôle",
        "it": "storico troppo breve prima del periodo di controllo",
    },
    "expected": {"en": "Predicted", "fr": "Prévu", "it": "Previsto"},
    "actual": {"en": "Actual", "fr": "Réel", "it": "Effettivo"},
    "calibration_x": {
        "en": "Repeat purchases up to {date}",
        "fr": "Achats répétés jusqu'au {date}",
        "it": "Acquisti ripetuti fino al {date}",
    },
    "calibration_y": {
        "en": "Repeat purchases per customer, {months} months after",
        "fr": "Achats répétés par client, {months} mois après",
        "it": "Acquisti ripetuti per cliente, {months} mesi dopo",
    },
    "clv_axis": {
        "en": "CLV per customer ({horizon} months)",
        "fr": "CLV par client ({horizon} mois)",
        "it": "CLV per cliente ({horizon} mesi)",
    },
    "log_scale": {"en": "log scale", "fr": "échelle log", "it": "scala log"},
    "share_customers": {
        "en": "Share of customers",
        "fr": "Part des clients",
        "it": "Quota di clienti",
    },
    "mean": {"en": "mean", "fr": "moyenne", "it": "media"},
    "median": {"en": "median", "fr": "médiane", "it": "mediana"},
    "distribution": {
        "en": "Distribution of CLV",
        "fr": "Distribution de la CLV",
        "it": "Distribuzione della CLV",
    },
    "n_customers_bar": {"en": "{n} customers", "fr": "{n} clients", "it": "{n} clienti"},
}

#: Relative error of the holdout forecast below which the calibration is called good.
CALIBRATION_TOLERANCE = 0.10


def clv_text(key: str, locale: str = "en", **fields) -> str:
    """The CLV phrase ``key`` in ``locale``, with ``fields`` filled in (already formatted)."""
    entry = TEXT[key]
    text = entry.get(locale, entry["en"])
    return text.format(**fields) if fields else text


def _money(report, value) -> str:
    return format_value(value, "currency", report.locale, report.currency)


def _pct(report, value) -> str:
    return format_value(value, "ratio", report.locale)


def _count(report, value) -> str:
    return format_value(value, "count", report.locale)


def _p(text: str, cls: str = "") -> str:
    attr = f" class='{cls}'" if cls else ""
    return f"<p{attr}>{escape(text)}</p>"


# --------------------------------------------------------------------------------------
# HTML blocks
# --------------------------------------------------------------------------------------


def _reason_text(report) -> str:
    loc = report.locale
    d = report.reason_details or {}
    code = report.reason_code
    if code == "too_few_repeat_buyers":
        return clv_text(
            code,
            loc,
            repeat=_count(report, d.get("repeat_buyers")),
            customers=_count(report, d.get("customers")),
            minimum=_count(report, d.get("min_repeat_buyers")),
        )
    if code in ("no_orders", "no_revenue"):
        return clv_text(code, loc)
    if code == "no_convergence":
        return clv_text(code, loc, detail=report.reason or "")
    return (report.reason or "").rstrip(".")


def _not_fitted_text(report) -> str:
    return clv_text("not_fitted", report.locale, reason=_reason_text(report))


def not_fitted_html(report) -> str:
    """The plain-language reason why the models could not be fitted."""
    return _p(_not_fitted_text(report), "clv-message")


def clv_intro_html(report) -> str:
    """A short explanation of CLV and of how it was estimated, in the report's language."""
    loc = report.locale
    parts = [
        _p(
            clv_text(
                "intro",
                loc,
                horizon=_count(report, report.horizon_months),
                discount=_pct(report, report.discount_rate_annual),
            )
        )
    ]
    if report.ok:
        parts.append(
            _p(
                clv_text(
                    "method",
                    loc,
                    customers=_count(report, report.n_customers),
                    date=format_date(report.observation_end, loc),
                    margin=_pct(report, report.margin_rate),
                )
            )
        )
    return "<div class='clv-intro'>" + "".join(parts) + "</div>"


def _tile(name: str, value: str, sub: str = "") -> str:
    sub_html = f"<div class='tile-change muted'>{escape(sub)}</div>" if sub else ""
    return (
        f"<div class='tile'><div class='tile-name'>{escape(name)}</div>"
        f"<div class='tile-value'>{escape(value)}</div>{sub_html}</div>"
    )


def _simple_sentence(report) -> str:
    loc = report.locale
    s = report.simple
    if s.status != "ok" or s.clv is None:
        if s.reason_code in ("no_data", "zero_churn"):
            reason = clv_text(f"simple_{s.reason_code}", loc)
        else:
            reason = (s.reason or "–").rstrip(".")
        return clv_text("simple_missing", loc, reason=reason)
    model = report.mean_clv_active
    text = clv_text(
        "simple_sentence",
        loc,
        margin=_money(report, s.avg_margin_per_month),
        churn=_pct(report, s.churn_per_month),
        lifetime=format_value(s.expected_lifetime_months, "score", loc),
        simple=_money(report, s.clv),
        model=_money(report, model),
    )
    if model is None or not model > 0:
        return text
    ratio = s.clv / model
    key = "simple_lower" if ratio < 0.8 else "simple_higher" if ratio > 1.25 else "simple_agree"
    return f"{text} {clv_text(key, loc)}"


def clv_summary_html(report) -> str:
    """Headline tiles (mean and median CLV, expected margin of the next 12 months, value of a
    new customer, simple formula, customers at risk) and the comparison with the simple
    formula; the reason instead when the models could not be fitted."""
    loc = report.locale
    if not report.ok:
        return "<div class='kpi-summary clv-summary'>" + not_fitted_html(report) + "</div>"
    at_risk = report.at_risk_all
    tiles = [
        _tile(clv_text("mean_clv", loc), _money(report, report.mean_clv)),
        _tile(clv_text("median_clv", loc), _money(report, report.median_clv)),
        _tile(
            clv_text("expected_margin_12m", loc),
            _money(report, report.expected_margin_12m),
            clv_text("all_customers", loc),
        ),
        _tile(
            clv_text("new_customer_clv", loc),
            _money(report, report.new_customer_clv),
            clv_text("beyond_first_order", loc),
        ),
        _tile(clv_text("simple_clv", loc), _money(report, report.simple.clv)),
        _tile(
            clv_text("at_risk_tile", loc),
            _count(report, len(at_risk)),
            clv_text("at_risk_sub", loc, threshold=_pct(report, report.alive_threshold)),
        ),
    ]
    return (
        "<div class='kpi-summary clv-summary'>"
        # six tiles: three per row rather than the scorecard's four
        f"<div class='tiles' style='grid-template-columns: repeat(3, 1fr)'>{''.join(tiles)}</div>"
        f"{_p(_simple_sentence(report), 'summary-line')}"
        "</div>"
    )


def _group_label(group: str, by: str, locale: str) -> str:
    if by == "segment" and group in KPI_TEXT:
        return KPI_TEXT[group].get(locale, group)
    return group


def clv_by_html(report, by: str = "segment") -> str:
    """CLV by segment or product line: customers, mean, median and total CLV, share."""
    loc = report.locale
    if not report.ok:
        return not_fitted_html(report)
    table = report.by(by)
    head = "".join(
        f"<th>{escape(clv_text(k, loc))}</th>"
        for k in ("customers", "mean_clv", "median_clv", "total_clv", "share_of_clv")
    )
    rows = []
    for group, row in table.iterrows():
        rows.append(
            f"<tr><td class='name'>{escape(_group_label(str(group), by, loc))}</td>"
            f"<td class='num'>{_count(report, row['n_customers'])}</td>"
            f"<td class='num'>{_money(report, row['mean_clv'])}</td>"
            f"<td class='num'>{_money(report, row['median_clv'])}</td>"
            f"<td class='num'>{_money(report, row['total_clv'])}</td>"
            f"<td class='num'>{_pct(report, row['share_of_clv'])}</td></tr>"
        )
    note = _p(clv_text("by_segment_note", loc), "muted") if by == "segment" else ""
    return (
        f"<table class='kpi-scorecard breakdown clv-by'><thead><tr>"
        f"<th class='name'>{escape(clv_text('group', loc))}</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{note}"
    )


def at_risk_html(report) -> str:
    """The retention team's short list: customer, CLV, probability active, last purchase,
    repeat purchases and value if retained, by decreasing CLV."""
    loc = report.locale
    if not report.ok:
        return not_fitted_html(report)
    threshold = _pct(report, report.alive_threshold)
    everyone = report.at_risk_all
    if report.at_risk.empty:
        return _p(clv_text("at_risk_none", loc, threshold=threshold))
    intro = clv_text(
        "at_risk_intro",
        loc,
        n=_count(report, len(report.at_risk)),
        threshold=threshold,
        count=_count(report, len(everyone)),
        value=_money(report, everyone["clv"].sum()),
    )
    cols = ("customer", "clv", "probability_alive", "last_purchase", "frequency")
    head = "".join(
        f"<th{' class=name' if k == 'customer' else ''}>{escape(clv_text(k, loc))}</th>"
        for k in (*cols, "value_if_retained")
    )
    rows = []
    for cid, row in report.at_risk.iterrows():
        rows.append(
            f"<tr><td class='name'>{escape(str(cid))}</td>"
            f"<td class='num value'>{_money(report, row['clv'])}</td>"
            f"<td class='num'>{_pct(report, row['probability_alive'])}</td>"
            f"<td class='num'>{escape(format_date(row['last_purchase'].date(), loc))}</td>"
            f"<td class='num'>{_count(report, row['frequency'])}</td>"
            f"<td class='num'>{_money(report, row['value_if_retained'])}</td></tr>"
        )
    return (
        _p(intro) + f"<table class='kpi-scorecard clv-at-risk'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _calibration_text(report) -> str:
    loc = report.locale
    totals = report.calibration_totals
    if report.calibration_status != "ok" or not totals:
        reason = report.calibration_reason or ""
        if "repeat buyer" in reason or "no customer bought" in reason:
            reason = clv_text("calibration_short", loc)
        return clv_text("calibration_missing", loc, reason=reason.rstrip(".") or "–")
    error = totals["relative_error"]
    text = clv_text(
        "calibration_text",
        loc,
        date=format_date(report.calibration_end, loc),
        months=_count(report, report.calibration_months),
        expected=_count(report, totals["expected"]),
        customers=_count(report, totals["customers"]),
        actual=_count(report, totals["actual"]),
        error=format_change(error, "relative", loc),
    )
    if error is None:
        verdict = ""
    elif abs(error) <= CALIBRATION_TOLERANCE:
        verdict = clv_text("calibration_good", loc, tolerance=_pct(report, CALIBRATION_TOLERANCE))
    elif error > 0:
        verdict = clv_text("calibration_over", loc)
    else:
        verdict = clv_text("calibration_under", loc)
    return f"{text} {verdict}".strip()


def calibration_html(report) -> str:
    """One paragraph: the holdout forecast against what happened, and what it means."""
    return _p(_calibration_text(report))


# --------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------


def _money_tick(report, value: float) -> str:
    """An axis tick in the report's currency, without cents (``£1,200``, ``1 200 €``)."""
    from babel.numbers import format_currency

    from .formatting import _bl
    from .formatting import currency_pattern as _currency_pattern

    if abs(value) >= 100_000:
        return format_value(value / 1000, "number", report.locale) + "k"
    return format_currency(
        round(value),
        report.currency,
        format=_currency_pattern(report.locale, False),
        locale=_bl(report.locale),
        currency_digits=False,
    )


def _money_formatter(report):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: _money_tick(report, v))


def _ratio_formatter(locale: str):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: format_value(v, "ratio", locale))


def _axes(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _message_axes(ax, text: str):
    """An empty figure that says why there is nothing to plot."""
    import seaborn as sns

    ax = _axes(ax, (6.5, 1.2))
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, color="#6b7280", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    sns.despine(ax=ax, left=True, bottom=True)
    return ax


def _is_skewed(values: np.ndarray) -> bool:
    """Right-skewed enough for a log axis: positive values spanning 3 decades or more, with
    the mean above the median by more than half a median."""
    pos = values[values > 0]
    if pos.size < 10:
        return False
    lo, med, hi = np.quantile(pos, [0.01, 0.5, 0.99])
    return bool(hi / max(lo, 1e-12) > 1000 and pos.mean() > 1.5 * med)


def plot_clv_distribution(report, ax=None, *, kind: str = "hist", log=None):
    """Distribution of CLV across customers, with the mean and the median marked.

    Parameters
    ----------
    report : ClvReport
    ax : matplotlib Axes, optional
    kind : {"hist", "ecdf"}
        Histogram (share of customers per bin) or empirical cumulative distribution.
    log : bool, optional
        Log axis for CLV; default: when the distribution is strongly right-skewed.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import seaborn as sns

    if not report.ok:
        return _message_axes(ax, _not_fitted_text(report))
    loc = report.locale
    ax = _axes(ax, (7, 3.0))
    values = report.customers["clv"].to_numpy(dtype="float64")
    values = values[np.isfinite(values)]
    log = _is_skewed(values) if log is None else bool(log)
    shown = values[values > 0] if log else values
    if kind == "ecdf":
        sns.ecdfplot(x=shown, ax=ax, color="#4a6fa5", log_scale=log)
    else:
        sns.histplot(
            x=shown, bins=40, stat="proportion", ax=ax, color="#4a6fa5", log_scale=log, alpha=0.85
        )
    ax.set_ylabel(clv_text("share_customers", loc))
    ax.yaxis.set_major_formatter(_ratio_formatter(loc))
    for value, key, style in (
        (float(np.mean(values)), "mean", "-"),
        (float(np.median(values)), "median", "--"),
    ):
        if log and not value > 0:
            continue
        ax.axvline(
            value,
            color="#1f3b63",
            linestyle=style,
            linewidth=1.2,
            label=f"{clv_text(key, loc)} {_money(report, value)}",
        )
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    xlabel = clv_text("clv_axis", loc, horizon=_count(report, report.horizon_months))
    ax.set_xlabel(xlabel + (f" ({clv_text('log_scale', loc)})" if log else ""))
    if not log:
        ax.xaxis.set_major_formatter(_money_formatter(report))
    ax.set_title(clv_text("distribution", loc), fontsize=10, loc="left")
    ax.tick_params(labelsize=8)
    sns.despine(ax=ax)
    return ax


def plot_clv_by(report, by: str = "segment", ax=None):
    """Mean CLV per segment or product line (horizontal bars), with the number of customers.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import seaborn as sns

    if not report.ok:
        return _message_axes(ax, _not_fitted_text(report))
    loc = report.locale
    table = report.by(by)
    labels = [_group_label(str(g), by, loc) for g in table.index]
    ax = _axes(ax, (7, 0.45 * len(labels) + 1.0))
    sns.barplot(x=table["mean_clv"].to_numpy(), y=labels, ax=ax, color="#4a6fa5", orient="h")
    top = float(np.nanmax(table["mean_clv"].to_numpy())) if len(table) else 0.0
    for i, (value, n) in enumerate(zip(table["mean_clv"], table["n_customers"], strict=True)):
        if not math.isfinite(value):
            continue
        ax.text(
            value + 0.01 * top,
            i,
            f" {_money(report, value)} · {clv_text('n_customers_bar', loc, n=_count(report, n))}",
            va="center",
            fontsize=8,
        )
    ax.set_xlim(0, top * 1.45 if top > 0 else 1)
    ax.xaxis.set_major_formatter(_money_formatter(report))
    ax.set_xlabel(clv_text("mean_clv", loc))
    ax.set_ylabel("")
    ax.set_title(clv_text(f"by_{by}", loc), fontsize=10, loc="left")
    ax.tick_params(labelsize=8)
    sns.despine(ax=ax)
    return ax


def plot_calibration(report, ax=None):
    """Predicted vs actual mean repeat purchases in the holdout, by calibration frequency.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import seaborn as sns
    from matplotlib.ticker import FuncFormatter

    loc = report.locale
    if report.calibration_status != "ok" or report.calibration is None:
        return _message_axes(ax, _calibration_text(report))
    table = report.calibration
    ax = _axes(ax, (7, 3.0))
    x = np.arange(len(table))
    ax.plot(x, table["actual"], marker="o", color="#1f3b63", label=clv_text("actual", loc))
    ax.plot(
        x,
        table["expected"],
        marker="s",
        linestyle="--",
        color="#d97706",
        label=clv_text("expected", loc),
    )
    ax.set_xticks(x)
    ax.set_xticklabels(list(table.index))
    date = format_date(report.calibration_end, loc)
    ax.set_xlabel(clv_text("calibration_x", loc, date=date))
    ax.set_ylabel(
        clv_text("calibration_y", loc, months=_count(report, report.calibration_months)),
        fontsize=8,
    )
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_value(v, "number", loc)))
    ax.legend(frameon=False, fontsize=8)
    ax.set_title(clv_text("calibration", loc), fontsize=10, loc="left")
    ax.tick_params(labelsize=8)
    sns.despine(ax=ax)
    return ax


# --------------------------------------------------------------------------------------
# notebook wrappers and kpis.json
# --------------------------------------------------------------------------------------


def show_clv_header(params, report, *, title: str | None = None) -> Html:
    """Brand, the CLV title and the period (the KPI report's header block)."""
    return Html(header_html(params, report, title=title or clv_text("title", params.locale)))


def show_clv_section(key: str, locale: str = "en") -> Html:
    """A section heading from :data:`TEXT` (e.g. ``"at_risk"``, ``"calibration"``)."""
    return Html(f"<h2>{escape(clv_text(key, locale))}</h2>")


def show_clv_intro(report) -> Html:
    return Html(clv_intro_html(report))


def show_clv_summary(report) -> Html:
    return Html(clv_summary_html(report))


def show_clv_by(report, by: str = "segment") -> Html:
    """Heading and table of CLV by ``segment`` or ``product_line``."""
    heading = f"<h3>{escape(clv_text(f'by_{by}', report.locale))}</h3>"
    return Html(heading + clv_by_html(report, by))


def show_at_risk(report) -> Html:
    return Html(at_risk_html(report))


def show_calibration(report) -> Html:
    return Html(calibration_html(report))


def export_clv_json(report, path) -> Path:
    """Add ``report.to_dict()`` under ``"clv"`` to ``kpis.json`` (created if absent)."""
    return export_section(path, "clv", report.to_dict())
