"""The report's glossary: only the KPIs the report shows, in plain words, with the brand-wide
mark of a product-line report and when a value that needs time becomes final."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from kpitools.kpis.compute import KpiResult, Scorecard
from kpitools.kpis.registry import get_kpi
from kpitools.params import BrandParams
from kpitools.periods import Period
from kpitools.report.glossary import glossary_entries, kpi_text
from kpitools.report.i18n import kpi_description, kpi_name, t
from kpitools.report.notebook import show_glossary
from kpitools.report.tables import glossary_html
from kpitools.vocab import Scope

PERIOD = Period("month", date(2024, 12, 1))


def params(**settings) -> BrandParams:
    return BrandParams(brand="b", source={"path": "x.duckdb"}, settings=settings)


def scorecard(results: list[KpiResult], locale: str = "en") -> Scorecard:
    return Scorecard(
        brand="b", period=PERIOD, results={r.id: r for r in results}, locale=locale, name="B"
    )


def matured_kpi():
    """lead_conversion_rate declared with a maturity window (as issue 10 does)."""
    k = get_kpi("lead_conversion_rate")
    return replace(k, declaration=replace(k.declaration, matures="conversion_window_days"))


def text_of(html) -> str:
    return re.sub(r"<[^>]+>", " ", str(html))


def test_lists_only_the_kpis_the_scorecard_shows():
    sc = scorecard(
        [
            KpiResult(get_kpi("revenue"), "ok", value=10.0),
            KpiResult(get_kpi("sla_compliance_rate"), "no_data"),
        ]
    )
    html = str(show_glossary(sc))
    assert html.count("<dt>") == 2
    assert kpi_name("revenue") in html and kpi_name("sla_compliance_rate") in html
    for other in ("nps", "new_customers", "cases_handled", "close_rate"):
        assert f"<dt>{kpi_name(other)} " not in html
    # in report order, each once
    assert html.index(kpi_name("revenue")) < html.index(kpi_name("sla_compliance_rate"))
    only = str(show_glossary(sc, kpis=["sla_compliance_rate"]))
    assert only.count("<dt>") == 1 and kpi_name("revenue") not in only
    # a breakdown's KPI that the scorecard lacks, once, after the scorecard's
    more = str(show_glossary(sc, extra=["revenue", "nps"]))
    assert more.count("<dt>") == 3 and more.index(kpi_name("sla_compliance_rate")) < more.index(
        kpi_name("nps")
    )


@pytest.mark.parametrize("locale", ["en", "fr", "it"])
def test_entry_in_plain_words(locale):
    html = str(glossary_html([get_kpi("close_rate")], locale=locale))
    for part in ("population", "window"):
        assert str(kpi_text("close_rate", part, locale)).replace("'", "&#39;") in html
    assert kpi_description("close_rate", locale).replace("'", "&#39;") in html
    assert t("glossary.population", locale) in html.replace("&#39;", "'")
    # no id, no docstring, no column names
    plain = text_of(html)
    assert "close_rate" not in plain and "closed_at" not in plain and "_" not in plain


def test_brand_wide_mark_only_for_brand_scope():
    sc = scorecard(
        [
            KpiResult(get_kpi("revenue"), "ok", value=1.0, scope=Scope.LINE),
            KpiResult(get_kpi("nps"), "ok", value=20.0, scope=Scope.BRAND),
            KpiResult(get_kpi("cases_handled"), "ok", value=3.0),  # brand report: None
        ]
    )
    entries = {e.id: e for e in glossary_entries(sc, locale="en")}
    assert entries["nps"].brand_wide
    assert not entries["revenue"].brand_wide and not entries["cases_handled"].brand_wide
    html = str(show_glossary(sc))
    mark = t("glossary.brand_wide", "en")
    assert html.count(f">{mark}</span>") == 1
    nps_entry = html[html.index(kpi_name("nps")) :]
    nps_entry = nps_entry[: nps_entry.index("</dd>")]
    assert mark in nps_entry and t("glossary.brand_wide_note", "en") in nps_entry
    fr = str(show_glossary(scorecard(list(sc), locale="fr")))
    assert t("glossary.brand_wide", "fr") in fr


def test_final_after_the_brands_window():
    k = matured_kpi()
    sc = scorecard([KpiResult(k, "ok", value=0.2), KpiResult(get_kpi("revenue"), "ok")])
    html = str(show_glossary(sc, params(conversion_window_days=60)))
    assert t("glossary.final_after", "en", days="60") in html
    assert html.count("final-after") == 1  # revenue is final at the end of the period
    # without the params: the phrase without a number of days
    assert t("glossary.final_after_window", "en") in str(show_glossary(sc))
    it = str(show_glossary(scorecard(list(sc), locale="it"), params(conversion_window_days=120)))
    assert "120" in it and t("glossary.final_after", "it", days="120") in it.replace("&#39;", "'")


def test_settings_in_texts_take_the_brands_value():
    sc = scorecard([KpiResult(get_kpi("lead_response_target_rate"), "ok", value=0.5)])
    assert "within 45 minutes" in str(show_glossary(sc, params(lead_response_target_minutes=45)))
    assert "within 20 minutes" in str(show_glossary(sc))  # the default
    assert "{" not in str(show_glossary(sc))


@pytest.mark.parametrize(
    "payload", ["<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "\"'><b>"]
)
def test_escaping(payload):
    """Texts are escaped: a brand's scorecard name or a KPI's texts cannot inject HTML."""
    k = matured_kpi()
    sc = Scorecard(
        brand=payload,
        period=PERIOD,
        results={k.id: KpiResult(k, "ok", value=0.1, scope=Scope.BRAND)},
        name=payload,
    )
    html = str(show_glossary(sc, params(conversion_window_days=90)))
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    # a KPI whose words carried markup would be escaped too (entries are plain text)
    from kpitools.report.glossary import GlossaryEntry
    from kpitools.report.templating import render

    e = GlossaryEntry(payload, payload, payload, payload, payload, payload, payload, True, payload)
    out = str(render("kpis/glossary.html", entries=[e], locale="en"))
    assert "<script" not in out and "<img" not in out and "<b>" not in out
