"""Campaign ROI section of a report: summary, campaign table, figures, guardrails.

Every function takes a :class:`kpitools.roi.analysis.CampaignReport`. The ``*_html`` functions
return HTML strings; the ``show_*`` wrappers return :class:`~kpitools.report.tables.Html`
objects for a notebook cell; the ``plot_*`` functions return a matplotlib Axes. Every number
goes through :func:`~kpitools.report.formatting.format_value` (Babel), every word through
:data:`TEXT` (en, fr, it), so a French report reads ``ROI −23,6 %`` and never ``nan``.
"""

from __future__ import annotations

import math
import os
from html import escape
from pathlib import Path

from babel.numbers import format_currency, format_decimal

from .formatting import (
    BABEL_LOCALE,
    _currency_pattern,
    format_change,
    format_date,
    format_value,
    period_title,
)
from .formatting import TEXT as KPI_TEXT
from .kpis_json import export_section
from .tables import Html

__all__ = [
    "TEXT",
    "campaigns_table_html",
    "export_roi_json",
    "groups_html",
    "guardrails_html",
    "method_html",
    "plot_lift_forest",
    "plot_roi_by",
    "report_html",
    "roi_header_html",
    "roi_summary_html",
    "show_campaigns_table",
    "show_guardrails",
    "show_roi_by",
    "show_roi_header",
    "show_roi_method",
    "show_roi_summary",
    "show_verdicts",
    "verdicts_html",
]

TEXT: dict[str, dict[str, str]] = {
    "title": {
        "en": "Campaign ROI against control groups",
        "fr": "ROI des campagnes mesuré contre groupes témoins",
        "it": "ROI delle campagne misurato con gruppi di controllo",
    },
    "window": {
        "en": "Campaigns starting from {start} to {end}",
        "fr": "Campagnes lancées du {start} au {end}",
        "it": "Campagne avviate dal {start} al {end}",
    },
    "selected": {
        "en": "Campaigns selected",
        "fr": "Campagnes sélectionnées",
        "it": "Campagne selezionate",
    },
    "programme": {"en": "CRM programme", "fr": "Programme CRM", "it": "Programma CRM"},
    "segments_channels": {
        "en": "Programme by segment and by channel",
        "fr": "Programme par segment et par canal",
        "it": "Programma per segmento e per canale",
    },
    "cost": {"en": "Cost", "fr": "Coût", "it": "Costo"},
    "programme_cost": {
        "en": "Programme cost",
        "fr": "Coût du programme",
        "it": "Costo del programma",
    },
    "incremental_margin": {
        "en": "Incremental margin",
        "fr": "Marge incrémentale",
        "it": "Margine incrementale",
    },
    "incremental_revenue": {
        "en": "Incremental revenue",
        "fr": "CA incrémental",
        "it": "Fatturato incrementale",
    },
    "roi": {"en": "ROI", "fr": "ROI", "it": "ROI"},
    "campaigns": {"en": "Campaigns", "fr": "Campagnes", "it": "Campagne"},
    "campaign": {"en": "Campaign", "fr": "Campagne", "it": "Campagna"},
    "channel": {"en": "Channel", "fr": "Canal", "it": "Canale"},
    "segment": {"en": "Segment", "fr": "Segment", "it": "Segmento"},
    "treated_control": {
        "en": "Targeted / control",
        "fr": "Ciblés / témoins",
        "it": "Destinatari / controllo",
    },
    "lift": {
        "en": "Revenue lift per targeted customer",
        "fr": "Effet sur le CA par client ciblé",
        "it": "Effetto sul fatturato per cliente destinatario",
    },
    "conversion": {
        "en": "Conversion lift",
        "fr": "Effet sur la conversion",
        "it": "Effetto sulla conversione",
    },
    "verdict": {"en": "Verdict", "fr": "Verdict", "it": "Esito"},
    "warnings": {"en": "Warnings", "fr": "Alertes", "it": "Avvisi"},
    "interval": {
        "en": "{level} interval",
        "fr": "intervalle à {level}",
        "it": "intervallo al {level}",
    },
    "profitable": {"en": "profitable", "fr": "rentable", "it": "redditizia"},
    "not profitable": {"en": "not profitable", "fr": "non rentable", "it": "non redditizia"},
    "inconclusive": {"en": "inconclusive", "fr": "non concluant", "it": "non conclusivo"},
    "not measured": {"en": "not measured", "fr": "non mesurée", "it": "non misurata"},
    "verdict_counts": {
        "en": "{profitable} profitable · {not_profitable} not profitable · {inconclusive} inconclusive",
        "fr": "{profitable} rentables · {not_profitable} non rentables · {inconclusive} non concluantes",
        "it": "{profitable} redditizie · {not_profitable} non redditizie · {inconclusive} non conclusive",
    },
    "not_measured_count": {
        "en": " · {n} not measured",
        "fr": " · {n} non mesurées",
        "it": " · {n} non misurate",
    },
    "summary_sentence": {
        "en": (
            "Over the {n} campaigns measured, the CRM programme brought an estimated "
            "incremental margin of {margin} ({level} interval {margin_lo} to {margin_hi}) for a "
            "cost of {cost}: a ROI of {roi} ({level} interval {roi_lo} to {roi_hi})."
        ),
        "fr": (
            "Sur les {n} campagnes mesurées, le programme CRM a apporté une marge incrémentale "
            "estimée à {margin} (intervalle à {level} : {margin_lo} à {margin_hi}) pour un coût "
            "de {cost}, soit un ROI de {roi} (intervalle à {level} : {roi_lo} à {roi_hi})."
        ),
        "it": (
            "Sulle {n} campagne misurate, il programma CRM ha portato un margine incrementale "
            "stimato di {margin} (intervallo al {level}: da {margin_lo} a {margin_hi}) a fronte "
            "di un costo di {cost}: un ROI di {roi} (intervallo al {level}: da {roi_lo} a "
            "{roi_hi})."
        ),
    },
    "summary_profitable": {
        "en": "The programme pays: even the low end of the interval is above break-even.",
        "fr": "Le programme est rentable : même le bas de l'intervalle dépasse le point mort.",
        "it": "Il programma è redditizio: anche il limite inferiore supera il pareggio.",
    },
    "summary_not profitable": {
        "en": "The programme does not pay: even the high end of the interval is below break-even.",
        "fr": "Le programme n'est pas rentable : même le haut de l'intervalle reste sous le point mort.",
        "it": "Il programma non è redditizio: anche il limite superiore resta sotto il pareggio.",
    },
    "summary_inconclusive": {
        "en": (
            "The data cannot tell whether the programme pays: the interval includes break-even "
            "(ROI = 0). Larger control groups would settle it."
        ),
        "fr": (
            "Les données ne permettent pas de conclure : l'intervalle contient le point mort "
            "(ROI = 0). Des groupes témoins plus grands permettraient de trancher."
        ),
        "it": (
            "I dati non permettono di concludere: l'intervallo include il pareggio (ROI = 0). "
            "Gruppi di controllo più ampi permetterebbero di decidere."
        ),
    },
    "summary_none": {
        "en": "No campaign could be measured against a control group in this window.",
        "fr": "Aucune campagne n'a pu être mesurée contre un groupe témoin sur cette période.",
        "it": "Nessuna campagna è stata misurata con un gruppo di controllo in questo periodo.",
    },
    "roi_definition": {
        "en": (
            "ROI = (incremental margin − cost) / cost. Incremental = targeted customers minus "
            "the control group held out of the campaign, over the campaign and the {days} days "
            "after it."
        ),
        "fr": (
            "ROI = (marge incrémentale − coût) / coût. Incrémental = clients ciblés moins le "
            "groupe témoin non contacté, pendant la campagne et les {days} jours suivants."
        ),
        "it": (
            "ROI = (margine incrementale − costo) / costo. Incrementale = clienti destinatari "
            "meno il gruppo di controllo escluso, durante la campagna e nei {days} giorni "
            "successivi."
        ),
    },
    "forest_title": {
        "en": "Revenue lift per targeted customer, by campaign",
        "fr": "Effet sur le CA par client ciblé, par campagne",
        "it": "Effetto sul fatturato per cliente destinatario, per campagna",
    },
    "roi_by_title": {
        "en": "ROI by {by}",
        "fr": "ROI par {by}",
        "it": "ROI per {by}",
    },
    "by_segment": {
        "en": "ROI by customer segment",
        "fr": "ROI par segment de clients",
        "it": "ROI per segmento di clienti",
    },
    "by_channel": {
        "en": "ROI by channel",
        "fr": "ROI par canal",
        "it": "ROI per canale",
    },
    "segment_word": {"en": "segment", "fr": "segment", "it": "segmento"},
    "channel_word": {"en": "channel", "fr": "canal", "it": "canale"},
    "test_differs": {
        "en": (
            "The lift per targeted customer differs between {by}s (Wald test, p = {p}): decide "
            "{by} by {by}."
        ),
        "fr": (
            "L'effet par client ciblé diffère selon le {by} (test de Wald, p = {p}) : décider "
            "{by} par {by}."
        ),
        "it": (
            "L'effetto per cliente destinatario differisce per {by} (test di Wald, p = {p}): "
            "decidere {by} per {by}."
        ),
    },
    "test_same": {
        "en": (
            "No evidence that the lift per targeted customer differs between {by}s (Wald test, "
            "p = {p}); with small groups the test has little power."
        ),
        "fr": (
            "Rien n'indique que l'effet par client ciblé diffère selon le {by} (test de Wald, "
            "p = {p}) ; avec de petits groupes le test est peu puissant."
        ),
        "it": (
            "Nessuna evidenza che l'effetto per cliente destinatario differisca per {by} (test di "
            "Wald, p = {p}); con gruppi piccoli il test ha poca potenza."
        ),
    },
    "test_none": {
        "en": "Fewer than two groups could be measured: no comparison.",
        "fr": "Moins de deux groupes mesurables : pas de comparaison.",
        "it": "Meno di due gruppi misurabili: nessun confronto.",
    },
    "channel_caveat": {
        "en": "Channels are compared through the campaigns actually run on them.",
        "fr": "Les canaux sont comparés à travers les campagnes qui y ont été menées.",
        "it": "I canali sono confrontati attraverso le campagne effettivamente svolte.",
    },
    "guardrails": {
        "en": "Control groups and guardrails",
        "fr": "Groupes témoins et garde-fous",
        "it": "Gruppi di controllo e controlli",
    },
    "control_share": {
        "en": "Control share (planned)",
        "fr": "Part de témoins (prévue)",
        "it": "Quota di controllo (prevista)",
    },
    "required_control": {
        "en": "Control needed",
        "fr": "Témoins nécessaires",
        "it": "Controllo necessario",
    },
    "srm_p": {
        "en": "Split check p",
        "fr": "Test de répartition p",
        "it": "Verifica ripartizione p",
    },
    "mde": {
        "en": "Detectable margin lift",
        "fr": "Effet de marge détectable",
        "it": "Effetto sul margine rilevabile",
    },
    "break_even": {
        "en": "Break-even margin lift",
        "fr": "Effet de marge au point mort",
        "it": "Effetto sul margine di pareggio",
    },
    "guardrails_note": {
        "en": (
            "Detectable lift: smallest margin lift per targeted customer the groups detect with "
            "80 % power. When it exceeds the break-even lift (cost / targeted customers) the "
            "control group is too small to prove that the campaign pays."
        ),
        "fr": (
            "Effet détectable : plus petit effet de marge par client ciblé que les groupes "
            "détectent avec une puissance de 80 %. S'il dépasse l'effet au point mort (coût / "
            "clients ciblés), le groupe témoin est trop petit pour prouver la rentabilité."
        ),
        "it": (
            "Effetto rilevabile: il più piccolo effetto sul margine per cliente destinatario che "
            "i gruppi rilevano con potenza 80 %. Se supera l'effetto di pareggio (costo / "
            "clienti destinatari) il gruppo di controllo è troppo piccolo per provare la "
            "redditività."
        ),
    },
    "no_issue": {
        "en": "No warning.",
        "fr": "Aucune alerte.",
        "it": "Nessun avviso.",
    },
    "programme_issues": {"en": "Programme", "fr": "Programme", "it": "Programma"},
    "verdicts": {
        "en": "Verdict per campaign",
        "fr": "Verdict par campagne",
        "it": "Esito per campagna",
    },
    "verdict_line_profitable": {
        "en": "pays: ROI {roi} ({level} interval {lo} to {hi}).",
        "fr": "rentable : ROI {roi} (intervalle à {level} : {lo} à {hi}).",
        "it": "redditizia: ROI {roi} (intervallo al {level}: da {lo} a {hi}).",
    },
    "verdict_line_not profitable": {
        "en": "does not pay: ROI {roi} ({level} interval {lo} to {hi}).",
        "fr": "non rentable : ROI {roi} (intervalle à {level} : {lo} à {hi}).",
        "it": "non redditizia: ROI {roi} (intervallo al {level}: da {lo} a {hi}).",
    },
    "verdict_line_inconclusive": {
        "en": "cannot tell: ROI {roi} ({level} interval {lo} to {hi}) includes break-even.",
        "fr": "impossible de conclure : ROI {roi} (intervalle à {level} : {lo} à {hi}) contient le point mort.",
        "it": "non si può concludere: ROI {roi} (intervallo al {level}: da {lo} a {hi}) include il pareggio.",
    },
    "verdict_line_not measured": {
        "en": "not measured: {reason}",
        "fr": "non mesurée : {reason}",
        "it": "non misurata: {reason}",
    },
    "conversion_line": {
        "en": "Conversion (at least one order): {pp} [{lo}; {hi}].",
        "fr": "Conversion (au moins une commande) : {pp} [{lo} ; {hi}].",
        "it": "Conversione (almeno un ordine): {pp} [{lo}; {hi}].",
    },
    "provisional_tag": {"en": "provisional", "fr": "provisoire", "it": "provvisorio"},
    "method": {"en": "Method", "fr": "Méthode", "it": "Metodo"},
    "method_text": {
        "en": (
            "Outcome window: from the first day of each campaign to {days} days after its end; "
            "pre-period (covariates and segments): {pre} days before the start. Lift estimator: "
            "{method} with {cov} standard errors; {level} intervals. Programme totals add the "
            "campaigns, assumed independent. Segments at the campaign start: new (first order "
            "in the pre-period or none yet), reactivated (back after {lapse} days or more "
            "without order), steady (also bought in the {pre} days before), returning (other "
            "buyers), inactive (no order in the pre-period)."
        ),
        "fr": (
            "Fenêtre de mesure : du premier jour de chaque campagne à {days} jours après sa "
            "fin ; période de référence (covariables et segments) : {pre} jours avant le "
            "lancement. Estimateur : {method}, erreurs types {cov} ; intervalles à {level}. Les "
            "totaux du programme additionnent des campagnes supposées indépendantes. Segments "
            "au lancement : nouveaux (première commande dans la période de référence ou aucune), "
            "réactivés (retour après au moins {lapse} jours sans commande), constants (achat "
            "aussi dans les {pre} jours précédents), de retour (autres acheteurs), sans achat "
            "(aucune commande dans la période de référence)."
        ),
        "it": (
            "Finestra di misura: dal primo giorno di ogni campagna a {days} giorni dopo la "
            "fine; periodo di riferimento (covariate e segmenti): {pre} giorni prima "
            "dell'avvio. Stimatore: {method}, errori standard {cov}; intervalli al {level}. I "
            "totali del programma sommano campagne ritenute indipendenti. Segmenti all'avvio: "
            "nuovi (primo ordine nel periodo di riferimento o nessuno), riattivati (ritorno "
            "dopo almeno {lapse} giorni senza ordini), costanti (acquisti anche nei {pre} giorni "
            "precedenti), di ritorno (altri acquirenti), senza acquisti (nessun ordine nel "
            "periodo di riferimento)."
        ),
    },
    "method_names": {
        "en": "diff:difference in means|ols:regression adjustment on the pre-period|lin:Lin's interacted regression adjustment|cuped:CUPED on the pre-period",
        "fr": "diff:différence de moyennes|ols:régression ajustée sur la période de référence|lin:régression interagie de Lin|cuped:CUPED sur la période de référence",
        "it": "diff:differenza tra medie|ols:regressione aggiustata sul periodo di riferimento|lin:regressione interagita di Lin|cuped:CUPED sul periodo di riferimento",
    },
}

CHANNEL_NAMES = {
    "email": {"en": "E-mail", "fr": "E-mail", "it": "E-mail"},
    "sms": {"en": "SMS", "fr": "SMS", "it": "SMS"},
    "print": {"en": "Print", "fr": "Courrier", "it": "Posta"},
    "phone": {"en": "Phone", "fr": "Téléphone", "it": "Telefono"},
    "social": {"en": "Social", "fr": "Réseaux sociaux", "it": "Social"},
}

SEGMENT_NAMES = {
    "new": KPI_TEXT["new"],
    "reactivated": KPI_TEXT["reactivated"],
    "steady": KPI_TEXT["steady"],
    "returning": KPI_TEXT["returning"],
    "inactive": {"en": "Inactive", "fr": "Sans achat", "it": "Senza acquisti"},
}

OUTCOME_WORDS = {
    "revenue": {"en": "revenue", "fr": "le CA", "it": "il fatturato"},
    "margin": {"en": "margin", "fr": "la marge", "it": "il margine"},
    "converted": {"en": "conversion", "fr": "la conversion", "it": "la conversione"},
}

#: Translations of :class:`kpitools.roi.analysis.Issue` codes (English uses the message).
ISSUE_TEXT = {
    "no_members": {
        "fr": "La campagne n'a aucun membre : ni ciblés ni témoins.",
        "it": "La campagna non ha membri: né destinatari né controllo.",
    },
    "no_treated": {
        "fr": "Aucun client ciblé : rien à mesurer.",
        "it": "Nessun cliente destinatario: niente da misurare.",
    },
    "no_control": {
        "fr": "Pas de groupe témoin : le retour de la campagne ne peut pas être mesuré, seulement supposé.",
        "it": "Nessun gruppo di controllo: il ritorno della campagna non si può misurare, solo supporre.",
    },
    "small_control": {
        "fr": "Groupe témoin réduit ({n_control} clients, moins de {min}) : mesure imprécise.",
        "it": "Gruppo di controllo ridotto ({n_control} clienti, meno di {min}): misura imprecisa.",
    },
    "srm": {
        "fr": (
            "Répartition différente du plan : {observed} de témoins au lieu de {planned} "
            "(p = {p_value}). Vérifier l'affectation avant de lire le résultat."
        ),
        "it": (
            "Ripartizione diversa dal piano: {observed} di controllo invece di {planned} "
            "(p = {p_value}). Verificare l'assegnazione prima di leggere il risultato."
        ),
    },
    "no_planned_share": {
        "fr": "Part de témoins prévue inconnue : répartition non vérifiée.",
        "it": "Quota di controllo prevista sconosciuta: ripartizione non verificata.",
    },
    "underpowered": {
        "en": (
            "The control group is too small to prove that the campaign pays: it detects (80 % "
            "power) a margin lift of {mde} per targeted customer, above the break-even lift of "
            "{break_even}; {need}."
        ),
        "fr": (
            "Groupe témoin trop petit pour prouver la rentabilité : effet de marge détectable "
            "{mde} par client ciblé, au-dessus du point mort ({break_even}) ; {need}."
        ),
        "it": (
            "Gruppo di controllo troppo piccolo per provare la redditività: effetto sul margine "
            "rilevabile {mde} per cliente destinatario, sopra il pareggio ({break_even}); {need}."
        ),
    },
    "underpowered_need": {
        "en": "a control group of about {required} customers would be needed",
        "fr": "il faudrait environ {required} témoins",
        "it": "servirebbero circa {required} clienti di controllo",
    },
    "underpowered_none": {
        "en": "no control group size would suffice with this few targeted customers",
        "fr": "aucune taille de groupe témoin ne suffirait avec si peu de clients ciblés",
        "it": "nessuna dimensione del gruppo di controllo basterebbe con così pochi destinatari",
    },
    "lift_failed": {
        "fr": "L'effet sur {outcome} ne peut pas être estimé ({reason}).",
        "it": "L'effetto su {outcome} non può essere stimato ({reason}).",
    },
    "method_fallback": {
        "fr": "Effet sur {outcome} estimé par simple différence de moyennes (ajustement impossible).",
        "it": "Effetto su {outcome} stimato come semplice differenza tra medie (aggiustamento impossibile).",
    },
    "zero_cost": {
        "fr": "Campagne sans coût : ROI non défini, seule la marge incrémentale est donnée.",
        "it": "Campagna senza costo: ROI non definito, solo il margine incrementale è riportato.",
    },
    "cost_missing": {
        "fr": "Coût manquant ({columns}) compté pour 0 : coût sous-estimé, ROI surestimé.",
        "it": "Costo mancante ({columns}) contato come 0: costo sottostimato, ROI sovrastimato.",
    },
    "not_contacted": {
        "fr": "Aucune date d'envoi : tous les ciblés sont comptés comme contactés.",
        "it": "Nessuna data di invio: tutti i destinatari sono contati come contattati per il costo.",
    },
    "provisional": {
        "fr": "Fenêtre de mesure en cours (jusqu'au {window_end}, données jusqu'au {last_day}) : chiffres provisoires.",
        "it": "Finestra di misura in corso (fino al {window_end}, dati fino al {last_day}): cifre provvisorie.",
    },
    "missing_table": {
        "fr": "ROI des campagnes non disponible : la source de données n'a pas de table {tables}.",
        "it": "ROI delle campagne non disponibile: la fonte dei dati non ha la tabella {tables}.",
    },
    "no_campaigns": {
        "fr": "Aucune campagne sur la période : rien à mesurer.",
        "it": "Nessuna campagna nel periodo: niente da misurare.",
    },
    "unmeasured": {
        "en": (
            "{n} of {total} campaigns could not be measured ({names}); their cost ({cost}) is "
            "left out of the programme ROI."
        ),
        "fr": "{n} campagnes sur {total} non mesurables ({names}) : leur coût ({cost}) est exclu du ROI du programme.",
        "it": "{n} campagne su {total} non misurabili ({names}): il loro costo ({cost}) è escluso dal ROI del programma.",
    },
    "overlap": {
        "fr": "{n} clients ({share}) ont reçu plusieurs campagnes : estimations supposées indépendantes.",
        "it": "{n} clienti ({share}) hanno ricevuto più campagne: stime ritenute indipendenti.",
    },
    "cells_skipped": {
        "fr": "{n} clients ciblés exclus de la vue par {by} (trop peu de ciblés ou de témoins).",
        "it": "{n} clienti destinatari esclusi dalla vista per {by} (troppo pochi destinatari o controlli).",
    },
    "segment_test_failed": {
        "fr": "Le test d'un effet différent par segment n'a pas pu être mené.",
        "it": "Il test di un effetto diverso per segmento non è stato possibile.",
    },
    "single_group": {
        "fr": "Moins de deux groupes mesurables par {by} : pas de comparaison.",
        "it": "Meno di due gruppi misurabili per {by}: nessun confronto.",
    },
}

#: Short labels of issues for the campaign table.
ISSUE_SHORT = {
    "no_members": {"en": "no members", "fr": "aucun membre", "it": "nessun membro"},
    "no_treated": {"en": "no targeted", "fr": "aucun ciblé", "it": "nessun destinatario"},
    "no_control": {"en": "no control group", "fr": "pas de témoins", "it": "nessun controllo"},
    "small_control": {
        "en": "small control",
        "fr": "témoins peu nombreux",
        "it": "controllo ridotto",
    },
    "srm": {"en": "split mismatch", "fr": "répartition anormale", "it": "ripartizione anomala"},
    "underpowered": {
        "en": "underpowered",
        "fr": "puissance insuffisante",
        "it": "potenza insufficiente",
    },
    "lift_failed": {
        "en": "lift not estimable",
        "fr": "effet non estimable",
        "it": "effetto non stimabile",
    },
    "zero_cost": {"en": "no cost", "fr": "sans coût", "it": "senza costo"},
    "cost_missing": {"en": "cost missing", "fr": "coût manquant", "it": "costo mancante"},
    "provisional": {"en": "provisional", "fr": "provisoire", "it": "provvisorio"},
}

_BADGE_STYLE = {
    "profitable": "background:#d1fae5;color:#065f46",
    "not profitable": "background:#fee2e2;color:#991b1b",
    "inconclusive": "background:#e5e7eb;color:#374151",
    "not measured": "background:#fef3c7;color:#92400e",
}

_VERDICT_COLOUR = {
    "profitable": "#047857",
    "not profitable": "#b91c1c",
    "inconclusive": "#4a6fa5",
    "not measured": "#9ca3af",
}


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def tr(key: str, locale: str = "en", **values) -> str:
    """The phrase ``key`` of :data:`TEXT` in ``locale``, formatted with ``values``."""
    entry = TEXT[key]
    text = entry.get(locale, entry["en"])
    return text.format(**values) if values else text


def _loc(report, locale):
    return locale or getattr(report, "locale", "en") or "en"


def _cur(report, currency):
    return currency or getattr(report, "currency", "EUR") or "EUR"


def _missing(v) -> bool:
    if v is None:
        return True
    try:
        return not math.isfinite(float(v))
    except (TypeError, ValueError):
        return True


def _money(v, loc, cur) -> str:
    """An amount per customer: ``£39.98`` (decimals below 1 000, as :func:`format_value`)."""
    return format_value(v, "currency", loc, cur)


def _money0(v, loc, cur) -> str:
    """A total in whole currency units: ``£929`` / ``929 €`` (Babel, no decimals)."""
    if _missing(v):
        return "–"
    if abs(float(v)) >= 1000:
        return format_value(v, "currency", loc, cur)
    return format_currency(
        round(float(v)),
        cur,
        format=_currency_pattern(loc, False),
        locale=BABEL_LOCALE.get(loc, loc),
        currency_digits=False,
    )


def _pct(v, loc) -> str:
    """A ratio as a signed percentage (ROI): ``+12.3%`` / ``−23.6%``."""
    if _missing(v):
        return "–"
    return format_change(v, "relative", loc) if v != 0 else format_value(0.0, "ratio", loc)


def _level(report, loc) -> str:
    return format_value(1 - report.alpha, "ratio", loc).replace(",0", "").replace(".0", "")


def _interval(lo: str, hi: str, loc: str) -> str:
    """``[lo; hi]`` (``[lo ; hi]`` in French), plain text."""
    sep = " ; " if loc == "fr" else "; "
    return f"[{lo}{sep}{hi}]"


def _nobr(text: str) -> str:
    return f"<span style='white-space:nowrap'>{escape(text)}</span>"


def _cell(value: str, lo: str | None = None, hi: str | None = None, loc: str = "en") -> str:
    """A numeric cell: the value, and its interval below it (may wrap between the bounds)."""
    body = _nobr(value)
    if lo is not None and hi is not None and value != "–":
        sep = " ; " if loc == "fr" else "; "
        body += f"<br><span class='muted'>[{_nobr(lo)}{sep}{_nobr(hi)}]</span>"
    return f"<td class='num' style='white-space:normal'>{body}</td>"


#: Inline style of the report's tables (the shared stylesheet is not ROI-specific).
_TABLE_STYLE = "font-size:8pt"


def _p(v, loc) -> str:
    """A p-value with 3 decimals (``< 0.001`` below), in the locale's number format."""
    if _missing(v):
        return "–"
    v = float(v)
    bl = BABEL_LOCALE.get(loc, loc)
    if v < 0.001:
        return "< " + format_decimal(0.001, format="0.000", locale=bl)
    return format_decimal(v, format="0.000", locale=bl)


def segment_name(seg: str, loc: str) -> str:
    entry = SEGMENT_NAMES.get(seg)
    return entry.get(loc, entry["en"]) if entry else str(seg)


def channel_name(ch: str, loc: str) -> str:
    entry = CHANNEL_NAMES.get(ch)
    return entry.get(loc, entry["en"]) if entry else str(ch)


def _group_name(by: str, g: str, loc: str) -> str:
    return segment_name(g, loc) if by == "segment" else channel_name(g, loc)


def _badge(verdict: str, loc: str) -> str:
    style = _BADGE_STYLE.get(verdict, _BADGE_STYLE["inconclusive"])
    return (
        f"<span class='badge' style='{style};white-space:nowrap'>{escape(tr(verdict, loc))}</span>"
    )


def _fmt_value(key: str, value, loc: str, cur: str) -> str:
    if key in ("observed", "planned", "share"):
        return format_value(value, "ratio", loc)
    if key in ("mde", "break_even"):
        return _money(value, loc, cur)
    if key == "cost":
        return _money0(value, loc, cur)
    if key == "p_value":
        return _p(value, loc)
    if key in ("window_end", "last_day"):
        return format_date(value, loc)
    if key == "outcome":
        entry = OUTCOME_WORDS.get(value)
        return entry.get(loc, entry["en"]) if entry else str(value)
    if key == "by":
        return TEXT[f"{value}_word"].get(loc, value) if f"{value}_word" in TEXT else str(value)
    if key in ("n", "n_control", "n_treated", "min", "total", "required"):
        return format_value(value, "count", loc)
    return str(value)


def issue_text(issue, locale: str = "en", currency: str = "EUR") -> str:
    """An :class:`~kpitools.roi.analysis.Issue` in the report's language.

    English uses the issue's own message unless a template formats its amounts in currency.
    """
    if issue.code not in ISSUE_TEXT:
        return issue.message
    template = ISSUE_TEXT[issue.code].get(locale)
    if not template:
        return issue.message
    values = {k: _fmt_value(k, v, locale, currency) for k, v in issue.values.items()}
    if issue.code == "underpowered":
        req = issue.values.get("required")
        values["need"] = (
            ISSUE_TEXT["underpowered_need"][locale].format(required=values.get("required"))
            if req is not None
            else ISSUE_TEXT["underpowered_none"][locale]
        )
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return issue.message


# --------------------------------------------------------------------------------------
# HTML blocks
# --------------------------------------------------------------------------------------


def roi_header_html(report, params=None, *, locale=None) -> str:
    """Title block: brand, title, period and the window of campaign starts."""
    loc = _loc(report, locale)
    name = params.display_name if params is not None else report.name
    sub = ""
    if report.window is not None:
        start, end = report.window
        import datetime as _dt

        last = end - _dt.timedelta(days=1)
        sub = tr("window", loc, start=format_date(start, loc), end=format_date(last, loc))
    else:
        sub = tr("selected", loc)
    period = period_title(report.period, loc) if report.period is not None else ""
    return (
        "<div class='kpi-header'>"
        f"<div class='brand'>{escape(name)}</div>"
        f"<h1>{escape(tr('title', loc))}</h1>"
        f"<div class='period'>{escape(period)}</div>"
        f"<div class='muted'>{escape(sub)}</div>"
        "</div>"
    )


def roi_summary_html(report, locale: str | None = None, currency: str | None = None) -> str:
    """Programme summary: cost, incremental margin, ROI with interval, and a plain sentence."""
    loc, cur = _loc(report, locale), _cur(report, currency)
    prog = report.programme
    counts = report.verdict_counts
    count_line = tr(
        "verdict_counts",
        loc,
        profitable=counts["profitable"],
        not_profitable=counts["not profitable"],
        inconclusive=counts["inconclusive"],
    )
    if counts["not measured"]:
        count_line += tr("not_measured_count", loc, n=counts["not measured"])
    level = _level(report, loc)
    if prog is None:
        tiles = [
            (tr("programme_cost", loc), _money0(report.total_cost, loc, cur), ""),
            (tr("campaigns", loc), format_value(len(report.campaigns), "count", loc), count_line),
        ]
        sentence = tr("summary_none", loc)
    else:
        margin_ci = _interval(
            _money0(prog.margin_ci_low, loc, cur), _money0(prog.margin_ci_high, loc, cur), loc
        )
        roi_ci = _interval(_pct(prog.roi_ci_low, loc), _pct(prog.roi_ci_high, loc), loc)
        tiles = [
            (tr("programme_cost", loc), _money0(prog.cost, loc, cur), ""),
            (tr("incremental_margin", loc), _money0(prog.incremental_margin, loc, cur), margin_ci),
            (tr("roi", loc), _pct(prog.roi, loc), roi_ci),
            (tr("campaigns", loc), format_value(len(report.campaigns), "count", loc), count_line),
        ]
        sentence = (
            tr(
                "summary_sentence",
                loc,
                n=len(report.measured),
                margin=_money0(prog.incremental_margin, loc, cur),
                margin_lo=_money0(prog.margin_ci_low, loc, cur),
                margin_hi=_money0(prog.margin_ci_high, loc, cur),
                cost=_money0(prog.cost, loc, cur),
                roi=_pct(prog.roi, loc),
                roi_lo=_pct(prog.roi_ci_low, loc),
                roi_hi=_pct(prog.roi_ci_high, loc),
                level=level,
            )
            + " "
            + tr(f"summary_{prog.verdict}", loc)
        )
    tile_html = "".join(
        f"<div class='tile'><div class='tile-name'>{escape(name)}</div>"
        f"<div class='tile-value'>{escape(value)}</div>"
        f"<div class='tile-change muted'>{escape(extra)}</div></div>"
        for name, value, extra in tiles
    )
    days = report.settings.get("attribution_days", 30)
    return (
        "<div class='kpi-summary'>"
        f"<div class='tiles'>{tile_html}</div>"
        f"<p class='summary-line'>{escape(sentence)}</p>"
        f"<p class='muted'>{escape(tr('roi_definition', loc, days=days))}</p>"
        "</div>"
    )


def _short_issues(c, loc) -> str:
    labels = [
        ISSUE_SHORT[i.code].get(loc, ISSUE_SHORT[i.code]["en"])
        for i in c.issues
        if i.severity == "warning" and i.code in ISSUE_SHORT
    ]
    labels = list(dict.fromkeys(labels))
    return ", ".join(labels) if labels else ""


def campaigns_table_html(report, locale: str | None = None, currency: str | None = None) -> str:
    """One row per campaign: channel, group sizes, lift, margin, cost, ROI, verdict, warnings.

    Lift = revenue lift per targeted customer; incremental margin and ROI come from the
    margin lift. Intervals at the report's confidence level under each figure.
    """
    loc, cur = _loc(report, locale), _cur(report, currency)
    ival = f"<br><span class='muted'>{tr('interval', loc, level=_level(report, loc))}</span>"
    head = (
        f"<tr><th class='name'>{tr('campaign', loc)}</th>"
        f"<th style='text-align:left'>{tr('channel', loc)}</th>"
        f"<th>{tr('treated_control', loc)}</th>"
        f"<th>{tr('lift', loc)}{ival}</th>"
        f"<th>{tr('incremental_margin', loc)}{ival}</th>"
        f"<th>{tr('cost', loc)}</th>"
        f"<th>{tr('roi', loc)}{ival}</th>"
        f"<th style='text-align:left'>{tr('verdict', loc)}</th>"
        f"<th style='text-align:left'>{tr('warnings', loc)}</th></tr>"
    )
    rows = []
    for c in report.campaigns:
        rl, roi = c.revenue_lift, c.roi
        if rl is not None:
            lift = _cell(
                _money(rl.effect, loc, cur),
                _money(rl.ci_low, loc, cur),
                _money(rl.ci_high, loc, cur),
                loc,
            )
        else:
            lift = _cell("–")
        if roi is not None:
            margin = _cell(
                _money0(roi.incremental_margin, loc, cur),
                _money0(roi.margin_ci_low, loc, cur),
                _money0(roi.margin_ci_high, loc, cur),
                loc,
            )
            roi_cell = _cell(
                _pct(roi.roi, loc), _pct(roi.roi_ci_low, loc), _pct(roi.roi_ci_high, loc), loc
            )
        else:
            margin = roi_cell = _cell("–")
        date = format_date(c.starts_at, loc)
        rows.append(
            "<tr>"
            f"<td class='name'>{escape(c.name)}<br><span class='muted'>{escape(date)}</span></td>"
            f"<td>{escape(channel_name(c.channel, loc))}</td>"
            + _cell(
                f"{format_value(c.n_treated, 'count', loc)} / "
                f"{format_value(c.n_control, 'count', loc)}"
            )
            + lift
            + margin
            + _cell(_money0(c.cost, loc, cur))
            + roi_cell
            + f"<td>{_badge(c.verdict, loc)}</td>"
            f"<td class='muted'>{escape(_short_issues(c, loc))}</td>"
            "</tr>"
        )
    if not rows:
        return f"<p class='muted'>{escape(tr('summary_none', loc))}</p>"
    return (
        f"<table class='kpi-scorecard roi-campaigns' style='{_TABLE_STYLE}'>"
        f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def groups_html(report, by: str = "segment", locale=None, currency=None) -> str:
    """ROI by segment or channel: a table of group lifts and ROI, and the interaction verdict."""
    if by not in ("segment", "channel"):
        raise ValueError(f"by must be 'segment' or 'channel', not {by!r}")
    loc, cur = _loc(report, locale), _cur(report, currency)
    summary = report.by_segment if by == "segment" else report.by_channel
    title = tr(f"by_{by}", loc)
    if summary is None or summary.table.empty:
        return f"<h3>{escape(title)}</h3><p class='muted'>{escape(tr('summary_none', loc))}</p>"
    ival = f"<br><span class='muted'>{tr('interval', loc, level=_level(report, loc))}</span>"
    head = (
        f"<tr><th class='name'>{tr(by, loc)}</th><th>{tr('campaigns', loc)}</th>"
        f"<th>{tr('treated_control', loc)}</th>"
        f"<th>{tr('lift', loc)}{ival}</th>"
        f"<th>{tr('incremental_margin', loc)}{ival}</th>"
        f"<th>{tr('cost', loc)}</th>"
        f"<th>{tr('roi', loc)}{ival}</th>"
        f"<th style='text-align:left'>{tr('verdict', loc)}</th></tr>"
    )
    rows = []
    for g, r in summary.table.iterrows():
        rows.append(
            "<tr>"
            f"<td class='name'>{escape(_group_name(by, str(g), loc))}</td>"
            + _cell(format_value(r["n_campaigns"], "count", loc))
            + _cell(
                f"{format_value(r['n_treated'], 'count', loc)} / "
                f"{format_value(r['n_control'], 'count', loc)}"
            )
            + _cell(
                _money(r["revenue_lift"], loc, cur),
                _money(r["revenue_lift_ci_low"], loc, cur),
                _money(r["revenue_lift_ci_high"], loc, cur),
                loc,
            )
            + _cell(
                _money0(r["incremental_margin"], loc, cur),
                _money0(r["margin_ci_low"], loc, cur),
                _money0(r["margin_ci_high"], loc, cur),
                loc,
            )
            + _cell(_money0(r["cost"], loc, cur))
            + _cell(
                _pct(r["roi"], loc), _pct(r["roi_ci_low"], loc), _pct(r["roi_ci_high"], loc), loc
            )
            + f"<td>{_badge(r['verdict'], loc)}</td>"
            "</tr>"
        )
    word = tr(f"{by}_word", loc)
    test = summary.test
    if test is None:
        verdict_line = tr("test_none", loc)
    else:
        key = "test_differs" if test.differs else "test_same"
        verdict_line = tr(key, loc, by=word, p=_p(test.p_value, loc))
    notes = [issue_text(i, loc, cur) for i in summary.issues if i.code != "single_group"]
    if by == "channel":
        notes.append(tr("channel_caveat", loc))
    notes_html = "".join(f"<p class='muted'>{escape(n)}</p>" for n in notes)
    return (
        f"<h3>{escape(title)}</h3>"
        f"<table class='kpi-scorecard roi-groups' style='{_TABLE_STYLE}'>"
        f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"
        f"<p class='summary-line'>{escape(verdict_line)}</p>{notes_html}"
    )


def guardrails_html(report, locale: str | None = None, currency: str | None = None) -> str:
    """Control groups per campaign (size, split check, detectable lift), then every warning."""
    loc, cur = _loc(report, locale), _cur(report, currency)
    head = (
        f"<tr><th class='name'>{tr('campaign', loc)}</th>"
        f"<th>{tr('treated_control', loc)}</th><th>{tr('control_share', loc)}</th>"
        f"<th>{tr('srm_p', loc)}</th><th>{tr('mde', loc)}</th>"
        f"<th>{tr('break_even', loc)}</th><th>{tr('required_control', loc)}</th></tr>"
    )
    rows, lists = [], []
    for c in report.campaigns:
        total = c.n_treated + c.n_control
        share = format_value(c.n_control / total, "ratio", loc) if total else "–"
        planned = (
            format_value(c.planned_control_share, "ratio", loc)
            if c.planned_control_share is not None
            else "–"
        )
        srm_p = _p(c.srm.p_value, loc) if c.srm is not None else "–"
        req = c.required_control
        if req is None:
            needed = "–"
        elif req.feasible:
            needed = format_value(req.n_control, "count", loc)
        else:
            needed = "∞"
        rows.append(
            "<tr>"
            f"<td class='name'>{escape(c.name)}</td>"
            + _cell(
                f"{format_value(c.n_treated, 'count', loc)} / "
                f"{format_value(c.n_control, 'count', loc)}"
            )
            + _cell(f"{share} ({planned})")
            + _cell(srm_p)
            + _cell(_money(c.mde_margin, loc, cur))
            + _cell(_money(c.break_even_margin, loc, cur))
            + _cell(needed)
            + "</tr>"
        )
        items = [
            f"<li{'' if i.severity == 'warning' else ' class=muted'}>"
            f"{escape(issue_text(i, loc, cur))}</li>"
            for i in sorted(c.issues, key=lambda i: i.severity != "warning")
        ]
        if items:
            lists.append(f"<p><b>{escape(c.name)}</b></p><ul>{''.join(items)}</ul>")
    prog_items = [
        f"<li{'' if i.severity == 'warning' else ' class=muted'}>"
        f"{escape(issue_text(i, loc, cur))}</li>"
        for i in report.issues
    ]
    if prog_items:
        lists.insert(
            0, f"<p><b>{escape(tr('programme_issues', loc))}</b></p><ul>{''.join(prog_items)}</ul>"
        )
    table = (
        f"<table class='kpi-scorecard roi-guardrails' style='{_TABLE_STYLE}'>"
        f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"
        if rows
        else ""
    )
    warnings_html = "".join(lists) if lists else f"<p>{escape(tr('no_issue', loc))}</p>"
    return (
        f"{table}<p class='muted'>{escape(tr('guardrails_note', loc))}</p>"
        f"<h3>{escape(tr('warnings', loc))}</h3>{warnings_html}"
    )


def verdicts_html(report, locale: str | None = None, currency: str | None = None) -> str:
    """One plain-language sentence per campaign."""
    loc, cur = _loc(report, locale), _cur(report, currency)
    level = _level(report, loc)
    items = []
    for c in report.campaigns:
        v = c.verdict
        if c.roi is not None:
            line = tr(
                f"verdict_line_{v}",
                loc,
                roi=_pct(c.roi.roi, loc),
                lo=_pct(c.roi.roi_ci_low, loc),
                hi=_pct(c.roi.roi_ci_high, loc),
                level=level,
            )
        else:
            blocking = ("no_members", "no_treated", "no_control", "lift_failed", "zero_cost")
            warn = sorted(
                (i for i in c.issues if i.severity == "warning"),
                key=lambda i: blocking.index(i.code) if i.code in blocking else 99,
            )
            reason = issue_text(warn[0], loc, cur) if warn else "–"
            line = tr("verdict_line_not measured", loc, reason=reason)
        cl = c.conversion_lift
        if cl is not None:
            line += " " + tr(
                "conversion_line",
                loc,
                pp=format_change(100 * cl.effect, "points", loc),
                lo=format_change(100 * cl.ci_low, "points", loc),
                hi=format_change(100 * cl.ci_high, "points", loc),
            )
        tag = f" <span class='muted'>({tr('provisional_tag', loc)})</span>" if c.provisional else ""
        items.append(f"<li>{_badge(v, loc)} <b>{escape(c.name)}</b>: {escape(line)}{tag}</li>")
    if not items:
        return f"<p class='muted'>{escape(tr('summary_none', loc))}</p>"
    return f"<ul class='roi-verdicts'>{''.join(items)}</ul>"


def method_html(report, locale: str | None = None) -> str:
    """How the figures were computed, in the report's language."""
    loc = _loc(report, locale)
    s = report.settings
    names = dict(part.split(":", 1) for part in tr("method_names", loc).split("|"))
    text = tr(
        "method_text",
        loc,
        days=s.get("attribution_days"),
        pre=s.get("pre_period_days"),
        lapse=s.get("lapse_days"),
        method=names.get(s.get("method"), s.get("method")),
        cov=s.get("cov_type"),
        level=_level(report, loc),
    )
    return f"<p class='muted'>{escape(text)}</p>"


def report_html(report) -> str:
    """Summary, campaign table and guardrails (the rich display of a CampaignReport)."""
    return (
        roi_summary_html(report)
        + campaigns_table_html(report)
        + guardrails_html(report)
        + method_html(report)
    )


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


def plot_lift_forest(report, ax=None, *, locale: str | None = None, currency: str | None = None):
    """Forest plot of each campaign's revenue lift per targeted customer with its interval.

    Campaigns are ordered by estimated lift; the vertical line at zero marks "no effect";
    colours follow the ROI verdict. Campaigns without a lift are left out.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.ticker import FuncFormatter

    loc, cur = _loc(report, locale), _cur(report, currency)
    items = [c for c in report.campaigns if c.revenue_lift is not None]
    items.sort(key=lambda c: c.revenue_lift.effect)
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 0.38 * max(len(items), 3) + 1.3))
    ax.set_title(tr("forest_title", loc), fontsize=10, loc="left")
    if not items:
        ax.text(0.5, 0.5, "–", ha="center", va="center", transform=ax.transAxes, color="grey")
        ax.set_axis_off()
        return ax
    for y, c in enumerate(items):
        lift = c.revenue_lift
        colour = _VERDICT_COLOUR.get(c.verdict, "#4a6fa5")
        ax.plot([lift.ci_low, lift.ci_high], [y, y], color=colour, lw=2, solid_capstyle="butt")
        ax.scatter([lift.effect], [y], color=colour, s=36, zorder=3)
    ax.axvline(0, color="#374151", lw=1, ls="--")
    ax.set_yticks(range(len(items)))
    labels = [c.name if len(c.name) <= 48 else c.name[:46] + "…" for c in items]
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_ylim(-0.7, len(items) - 0.3)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: _money0(v, loc, cur)))
    ax.tick_params(axis="x", labelsize=8)
    level = _level(report, loc)
    ax.set_xlabel(f"{tr('lift', loc)} ({tr('interval', loc, level=level)})", fontsize=8)
    ax.grid(axis="x", color="#e5e8ef")
    ax.grid(axis="y", visible=False)
    from matplotlib.lines import Line2D

    present = list(dict.fromkeys(c.verdict for c in items))
    handles = [
        Line2D([0], [0], color=_VERDICT_COLOUR[v], marker="o", lw=2, label=tr(v, loc))
        for v in present
    ]
    ax.legend(handles=handles, fontsize=7, loc="lower right", frameon=False)
    sns.despine(ax=ax, left=True)
    return ax


def plot_roi_by(report, by: str = "segment", ax=None, *, locale: str | None = None):
    """ROI of the programme by segment or channel, with intervals and the break-even line.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.ticker import FuncFormatter

    if by not in ("segment", "channel"):
        raise ValueError(f"by must be 'segment' or 'channel', not {by!r}")
    loc = _loc(report, locale)
    summary = report.by_segment if by == "segment" else report.by_channel
    table = None if summary is None else summary.table
    n = 0 if table is None else len(table)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 0.5 * max(n, 2) + 1.2))
    ax.set_title(tr("roi_by_title", loc, by=tr(f"{by}_word", loc)), fontsize=10, loc="left")
    if not n:
        ax.text(0.5, 0.5, "–", ha="center", va="center", transform=ax.transAxes, color="grey")
        ax.set_axis_off()
        return ax
    rows = list(table.iterrows())[::-1]  # first group on top
    for y, (_, r) in enumerate(rows):
        colour = _VERDICT_COLOUR.get(r["verdict"], "#4a6fa5")
        ax.plot([r["roi_ci_low"], r["roi_ci_high"]], [y, y], color=colour, lw=2.5)
        ax.scatter([r["roi"]], [y], color=colour, s=44, zorder=3)
    ax.axvline(0, color="#374151", lw=1, ls="--")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([_group_name(by, str(g), loc) for g, _ in rows], fontsize=8)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: _pct(v, loc)))
    ax.tick_params(axis="x", labelsize=8)
    level = _level(report, loc)
    ax.set_xlabel(f"{tr('roi', loc)} ({tr('interval', loc, level=level)})", fontsize=8)
    ax.grid(axis="x", color="#e5e8ef")
    ax.grid(axis="y", visible=False)
    sns.despine(ax=ax, left=True)
    return ax


# --------------------------------------------------------------------------------------
# Notebook wrappers and export
# --------------------------------------------------------------------------------------


def show_roi_header(params, report) -> Html:
    """Brand, title, period and window."""
    return Html(roi_header_html(report, params))


def show_roi_summary(report) -> Html:
    """Programme summary tiles and sentence."""
    return Html(roi_summary_html(report))


def show_campaigns_table(report) -> Html:
    """The table of campaigns."""
    return Html(campaigns_table_html(report))


def show_roi_by(report, by: str = "segment") -> Html:
    """ROI by segment or channel with the interaction verdict."""
    return Html(groups_html(report, by))


def show_guardrails(report) -> Html:
    """Control-group checks and warnings."""
    return Html(guardrails_html(report))


def show_verdicts(report) -> Html:
    """One sentence per campaign."""
    return Html(verdicts_html(report))


def show_roi_method(report) -> Html:
    """How the figures were computed."""
    return Html(method_html(report))


def export_roi_json(report, path: str | os.PathLike, *, key: str = "campaign_roi") -> Path:
    """Add the report's headline numbers to a ``kpis.json`` file under ``key``."""
    return export_section(path, key, report.to_dict())
