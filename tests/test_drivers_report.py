"""Words and display of "what changed and why" (kpitools.report.drivers) on the "buyers"
fixture of tests/test_drivers.py, whose answer is known:

revenue 2 000 → 2 090 (+4.5 %) from November to December 2025; buyers +10 % (effect ≈ +195),
orders per buyer unchanged, average order −5 % (≈ −105): more buyers outweighed a lower
average order. New customers +190, returning −100: the rise came from new customers. By line
(segments aside, where "new" repeats new vs returning): line b +190, line a −100; one channel
only.
"""

from __future__ import annotations

import json

import pytest
from helpers import make_db, write_params
from test_drivers import _buyers_orders

from kpitools.data.sources import connect
from kpitools.kpis.compute import NotAvailable, compute_kpis
from kpitools.kpis.drivers import compute_revenue_drivers, compute_what_changed
from kpitools.params import load_params
from kpitools.report.drivers import (
    format_effect,
    what_changed_document,
    what_changed_html,
    what_changed_sentences,
)
from kpitools.report.kpis_json import export_kpis_json
from kpitools.report.notebook import show_what_changed

EVIL = "<script>alert(1)</script>"


def _plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


@pytest.fixture
def buyers(tmp_path):
    db_path = make_db(tmp_path / "buyers.duckdb", {"orders": _buyers_orders()})
    params = load_params(write_params(tmp_path / "acme.yaml", db_path))
    return connect(params), params


EXPECTED = {
    "en": "Revenue rose 4.5% against November 2025 (+€90): more buyers (+10.0%) outweighed a "
    "lower average order (−5.0%); the rise came mostly from new customers; largest "
    "contribution from the b line (+€190).",
    "fr": "Le chiffre d'affaires progresse de 4,5 % par rapport à novembre 2025 (+90 €) : la "
    "hausse du nombre d'acheteurs (+10,0 %) l'emporte sur la baisse du panier moyen (−5,0 %) ; "
    "la hausse vient surtout des nouveaux clients ; plus forte contribution pour la ligne b "
    "(+190 €).",
    "it": "Il fatturato è in crescita: +4,5% rispetto a novembre 2025 (+90 €): l'aumento degli "
    "acquirenti (+10,0%) ha più che compensato il calo dello scontrino medio (−5,0%); "
    "l'aumento viene soprattutto dai nuovi clienti; contributo maggiore per la linea b "
    "(+190 €).",
}


@pytest.mark.parametrize("locale", ["en", "fr", "it"])
def test_sentences_name_the_drivers_in_each_locale(buyers, locale):
    db, params = buyers
    d = compute_revenue_drivers(db, params, "2025-12")
    (sentence,) = what_changed_sentences(d, locale, "EUR")
    assert _plain(sentence) == _plain(EXPECTED[locale])


def test_format_effect_is_signed_in_the_kpis_unit():
    assert format_effect(1234.4, "currency", "en", "GBP") == "+£1,234"
    assert _plain(format_effect(-1234.4, "currency", "fr", "EUR")) == "−1 234 €"
    assert format_effect(-0.016, "ratio", "en", "EUR") == "−1.6\u00a0pp"
    assert format_effect(3, "count", "en", "EUR") == "+3"
    assert format_effect(0.0, "count", "en", "EUR") == "±0"
    assert format_effect(None, "count", "en", "EUR") == "–"


def test_table_rows_add_up_and_the_block_shows(buyers):
    db, params = buyers
    scorecard = compute_kpis(db, params, "2025-12")
    wc = compute_what_changed(db, params, scorecard)
    html = _plain(str(what_changed_html(wc)))
    # total, the three factors (effect and factor change), new and returning customers
    for text in (
        "Total change",
        "+€90",
        "Buyers",
        "(+10.0%)",
        "Orders per buyer",
        "(±0.0%)",
        "Average order",
        "(−5.0%)",
        "of which new customers",
        "+€190",
        "of which returning customers",
        "−€100",
    ):
        assert text in html, text
    assert "Residual" not in html  # LMDI: nothing left over
    shown = _plain(str(show_what_changed(wc)))
    assert "What changed and why" in shown and "Revenue rose 4.5%" in shown
    fr = _plain(str(what_changed_html(wc, locale="fr")))
    assert "Variation totale" in fr and "Panier moyen" in fr


def test_show_what_changed_of_nothing(buyers):
    na = NotAvailable("orders")
    # left out of the report (page one's coverage line names the table): nothing shown
    assert str(show_what_changed(na, "en")) == ""
    assert what_changed_document(na)["status"] == "not_available"


def test_kpis_json_carries_the_decomposition(buyers, tmp_path):
    db, params = buyers
    scorecard = compute_kpis(db, params, "2025-12")
    wc = compute_what_changed(db, params, scorecard)
    path = export_kpis_json(
        scorecard, tmp_path / "kpis.json", extra={"what_changed": what_changed_document(wc)}
    )
    doc = json.loads(path.read_text(encoding="utf-8"))["what_changed"]
    rev = doc["kpis"]["revenue"]
    prev = rev["comparisons"]["previous"]
    assert prev["total"] == pytest.approx(90.0)
    assert sum(f["effect"] for f in prev["factors"]) == pytest.approx(90.0)
    assert [f["driver"] for f in prev["factors"]] == ["buyers", "orders_per_buyer", "average_order"]
    assert prev["splits"]["customer_type"]["residual"] == pytest.approx(0.0, abs=1e-9)
    assert rev["sentences"][0].startswith("Revenue rose 4.5%")
    assert "year_ago" not in rev["comparisons"]


def test_names_from_the_data_are_escaped(tmp_path):
    rows = _buyers_orders()
    for r in rows:
        if r["customer_id"] == 11:
            r["product_line"] = EVIL
            r["channel"] = EVIL
    db_path = make_db(tmp_path / "evil.duckdb", {"orders": rows})
    params = load_params(write_params(tmp_path / "acme.yaml", db_path, name=EVIL))
    db = connect(params)
    scorecard = compute_kpis(db, params, "2025-12")
    wc = compute_what_changed(db, params, scorecard)
    sentence = what_changed_sentences(wc["revenue"], "en", "EUR")[0]
    assert EVIL in sentence  # the words are plain text …
    html = str(show_what_changed(wc))
    assert "<script>" not in html  # … escaped by the template
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
