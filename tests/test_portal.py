"""The reports portal (kpitools.report.portal): what it says of every params file must be true.

Built on hand-made reports folders (tests/portal_scenario.py): every case of a last attempt
(ok, failed after earlier successes, failed before the period was known, never run), with and
without ``runs.jsonl``, in the three locales; crafted names must stay text.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import portal_scenario as scn
import pytest

from kpitools.report.export import export_index, report_title
from kpitools.report.portal import (
    collect_portal,
    export_portal,
    portal_locales,
    read_run_lines,
    trend_svg,
)


class _Page(HTMLParser):
    """Elements, attributes and text of a page, and the text of each brand section."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.title = ""
        self._in_title = False
        self.sections: dict[str, list[str]] = {}
        self._section: str | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "title":
            self._in_title = True
        if tag == "section":
            self._section = a.get("id")
            self.sections[self._section or ""] = []
        if tag == "script":
            raise AssertionError("the portal must not hold a script")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if tag == "section":
            self._section = None

    def handle_data(self, data):
        self.text.append(data)
        if self._in_title:
            self.title += data
        if self._section is not None:
            self.sections[self._section].append(data)

    def section(self, slug: str) -> str:
        return " ".join(" ".join(self.sections[f"b-{slug}"]).split())


def _parse(path: Path) -> _Page:
    p = _Page()
    p.feed(path.read_text(encoding="utf-8"))
    return p


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    reports = scn.build(tmp_path)
    export_portal(reports)
    return reports


def test_last_attempt_of_every_params_file(scenario: Path):
    page = _parse(scenario / "index.en.html")
    aurora = page.section("aurora")
    # failed after earlier successes: failed, its reason, the period it tried; the last GOOD
    # report (2025-12) stays linked as the latest report
    assert "Last attempt failed Period: 2026-01 · 2 December 2026 06:30 UTC" in aurora
    assert f"Reason: {scn.AURORA_ERROR}" in aurora
    assert "Latest report Period: 2025-12" in aurora
    # failed before the period was known: failed, never "ok", never "None"
    castello = page.section("castello")
    assert "Last attempt failed Period: not known (the run stopped before it)" in castello
    assert f"Reason: {scn.CASTELLO_ERROR}" in castello
    assert "never published" in castello
    assert "None" not in " ".join(page.text)
    # a params file that never ran
    machines = page.section("castello-machines")
    assert "never run" in machines and "never published" in machines
    # the last attempt ok
    bellevue = page.section("bellevue")
    assert "Last attempt ok Period: 2025-Q4 · 1 December 2026 06:30 UTC" in bellevue
    assert "failed" not in bellevue
    # the summary counts the two failed brands
    assert "Last attempt failed for 2 brand(s)" in " ".join(page.text)


def test_overview_rows_tell_status_per_brand(scenario: Path):
    html = (scenario / "index.en.html").read_text(encoding="utf-8")
    overview = html.split("<tbody>")[1].split("</tbody>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", overview)
    cells = [re.sub(r"<[^>]+>", "|", r) for r in rows]
    got = [[c for c in row.split("|") if c.strip()] for row in cells]
    assert got == [
        ["Aurora Outdoor", "2025-12", "failed"],
        ["Bellevue Cosmétiques", "2025-Q4", "ok"],
        ["Castello Caffè", "never published", "failed"],
        ["Castello Caffè · Macchine", "never published", "never run"],
    ]


def test_failed_notebook_and_log_links(scenario: Path):
    page = _parse(scenario / "index.en.html")
    hrefs = {a["href"] for tag, a in page.tags if tag == "a" and a.get("href")}
    assert "aurora/_failed/2026-01-20261202T063000-report.ipynb" in hrefs
    assert "_logs/aurora.log" in hrefs and "_logs/castello.log" in hrefs
    # the kept copy of the first run of 2025-12
    assert "aurora/2025-12/runs/20261201T063000-aa0001/report.html" in hrefs


def test_every_link_is_relative_and_exists(scenario: Path):
    for page_file in ("index.html", "index.en.html", "index.fr.html"):
        page = _parse(scenario / page_file)
        for tag, attrs in page.tags:
            for key in ("href", "src"):
                ref = attrs.get(key)
                if ref is None or (tag == "a" and ref.startswith("#")):
                    continue
                assert "://" not in ref and not ref.startswith("/"), ref
                assert (scenario / ref).is_file(), f"{page_file}: {ref} does not exist"
        anchors = {a["id"] for _, a in page.tags if a.get("id")}
        for _, a in page.tags:
            if (a.get("href") or "").startswith("#"):
                assert a["href"][1:] in anchors


def test_history_lists_periods_and_runs(scenario: Path):
    (entry,) = [e for e in collect_portal(scenario) if e.slug == "aurora"]
    assert [p.period for p in entry.periods] == ["2025-12", "2025-11", "2025-10"]
    assert [a.status for a in entry.attempts] == ["failed", "ok", "ok", "ok", "ok"]
    assert [a.period for a in entry.attempts] == [
        "2026-01",
        "2025-12",
        "2025-12",
        "2025-11",
        "2025-10",
    ]
    assert entry.periods[0].kept == [
        ("20261201T063000-aa0001", "aurora/2025-12/runs/20261201T063000-aa0001/report.html")
    ]
    page = _parse(scenario / "index.en.html")
    aurora = page.section("aurora")
    # two runs of the same period, each with its run id
    assert aurora.count("20261201T063000-aa0001") == 2  # in the runs table and the kept list
    assert "20261201T070000-aa0002" in aurora


def test_headline_values_and_trend(scenario: Path):
    page = _parse(scenario / "index.en.html")
    aurora = page.section("aurora")
    assert "Revenue £76,355" in aurora  # GBP, English, the latest report's planted value
    assert "New customers 55" in aurora
    assert "2025-10 → 2025-12 (3 periods)" in aurora
    html = (scenario / "index.en.html").read_text(encoding="utf-8")
    polylines = re.findall(r'<polyline points="([^"]+)"', html)
    # aurora's revenue first: three points, rising (SVG y grows downwards), like the planted values
    pts = [tuple(map(float, p.split(","))) for p in polylines[0].split()]
    assert len(pts) == 3
    ys = [y for _, y in pts]
    assert ys[0] > ys[1] > ys[2]
    # interior point placed in proportion to its value
    lo, hi = 61000.0, 76355.25
    frac = (70500.5 - lo) / (hi - lo)
    assert ys[1] == pytest.approx(ys[0] - frac * (ys[0] - ys[2]), abs=0.11)


def test_trend_svg_breaks_on_missing_and_needs_two_points():
    assert str(trend_svg([1.0])) == ""
    assert str(trend_svg([None, 2.0])) == ""
    svg = str(trend_svg([1.0, None, 3.0, 4.0]))
    assert svg.count("<polyline") == 2
    assert "<text" not in svg  # numbers only
    flat = str(trend_svg([5.0, 5.0]))
    ys = {p.split(",")[1] for p in re.search(r'points="([^"]+)"', flat)[1].split()}
    assert len(ys) == 1


def test_one_page_per_locale_with_switch_and_babel_numbers(scenario: Path):
    # two Italian brands, one English, one French: Italian is the default
    assert (
        (scenario / "index.html")
        .read_text(encoding="utf-8")
        .startswith('<!DOCTYPE html>\n<html lang="it">')
    )
    it = _parse(scenario / "index.html")
    fr = _parse(scenario / "index.fr.html")
    en = _parse(scenario / "index.en.html")
    assert not (scenario / "index.it.html").exists()
    assert [it.title, fr.title, en.title] == ["Report CRM", "Rapports CRM", "CRM reports"]
    switch = [a for t, a in fr.tags if t == "a" and a.get("hreflang")]
    assert [a["href"] for a in switch] == ["index.html", "index.en.html"]
    # numbers formatted for the reader (Babel): Aurora's GBP revenue in French and Italian
    assert "76 355 £GB" in fr.section("aurora").replace("\u202f", " ").replace("\xa0", " ")
    assert "76.355 £" in it.section("aurora").replace("\xa0", " ")
    assert "Dernière exécution" in fr.section("aurora") and "en échec" in fr.section("aurora")
    assert "mai pubblicato" in it.section("castello")
    assert "non noto" in it.section("castello")
    assert "mai eseguito" in it.section("castello-machines")
    # document names in the reader's language, whatever the brand's
    assert "Rapport des indicateurs" in fr.section("aurora")
    assert "KPI report" in en.section("bellevue")


def test_portal_locales_default_is_commonest():
    from kpitools.report.portal import BrandEntry

    def e(loc):
        return BrandEntry(slug=loc, name=loc, locale=loc)

    assert portal_locales([]) == ["en", "fr", "it"]
    assert portal_locales([e("fr"), e("fr"), e("en")]) == ["fr", "en", "it"]
    assert portal_locales([e("fr"), e("it")]) == ["fr", "en", "it"]  # tie: LOCALES order
    assert portal_locales([e("fr"), e("en")]) == ["en", "fr", "it"]  # tie with English


def test_stale_page_of_new_default_removed(tmp_path: Path):
    reports = scn.build(tmp_path)
    (reports / "index.it.html").write_text("stale", encoding="utf-8")
    export_portal(reports)
    assert not (reports / "index.it.html").exists()


def test_folders_alone_tell_the_same_story(tmp_path: Path):
    """Without runs.jsonl: _failed/last.json (period null or not) means the last attempt failed."""
    reports = scn.build(tmp_path, runs=False)
    export_index(reports)
    page = _parse(reports / "index.en.html")
    aurora = page.section("aurora")
    assert "Last attempt failed Period: 2026-01" in aurora and scn.AURORA_ERROR in aurora
    assert "Latest report Period: 2025-12" in aurora
    castello = page.section("castello")
    assert "Last attempt failed Period: not known" in castello
    assert "never published" in castello
    assert "None" not in " ".join(page.text)
    hrefs = {a["href"] for tag, a in page.tags if tag == "a" and a.get("href")}
    # the absolute notebook path of last.json becomes a relative link
    assert "aurora/_failed/2026-01-20261202T063000-report.ipynb" in hrefs
    assert "_logs/castello.log" in hrefs
    assert "Last attempt ok Period: 2025-Q4" in page.section("bellevue")


def test_failure_recorded_after_the_last_run_line_wins(tmp_path: Path):
    """A run that crashed before appending its line but wrote _failed/last.json is failed."""
    reports = scn.build(tmp_path)
    last = reports / "bellevue" / "_failed" / "last.json"
    last.parent.mkdir()
    last.write_text(json.dumps({"period": None, "error": "worker killed"}), encoding="utf-8")
    (entry,) = [e for e in collect_portal(reports) if e.slug == "bellevue"]
    assert entry.last is not None
    assert (entry.last.status, entry.last.period, entry.last.error) == (
        "failed",
        None,
        "worker killed",
    )


def test_truncated_and_foreign_lines_are_skipped(tmp_path: Path):
    reports = scn.build(tmp_path)
    with open(reports / "runs.jsonl", "a", encoding="utf-8") as fh:
        fh.write('\n[1, 2]\n"text"\n{"no": "brand"}\n\n')
    recs = read_run_lines(reports)
    assert len(recs) == 8
    assert all(r["run_id"] != "20261202T063500-trunc" for r in recs)
    assert read_run_lines(tmp_path / "nowhere") == []


def test_links_outside_the_reports_folder_are_dropped(tmp_path: Path):
    reports = scn.build(tmp_path)
    secret = tmp_path / "secret.log"
    secret.write_text("x", encoding="utf-8")
    lines = (reports / "runs.jsonl").read_text(encoding="utf-8").splitlines()
    rec = json.loads(lines[-2])  # castello's failure
    rec["log"] = "../secret.log"
    rec["failed_notebook"] = str(secret)
    lines[-2] = json.dumps(rec)
    (reports / "runs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    export_portal(reports)
    html = (reports / "index.en.html").read_text(encoding="utf-8")
    assert "secret.log" not in html


CRAFTED = '"><img src=x onerror=alert(1)><b class="'


def test_crafted_params_file_name_and_texts_stay_text(tmp_path: Path):
    reports = scn.build(tmp_path)
    slug = f"evil{CRAFTED}"
    (tmp_path / "params" / f"{slug}.yaml").write_text(
        f"brand: evil\nname: '{CRAFTED}'\nlocale: en\n", encoding="utf-8"
    )
    folder = reports / slug / "2025-12"
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("x", encoding="utf-8")
    (folder / "kpis.json").write_text(
        json.dumps({"name": CRAFTED, "kpis": {CRAFTED: {"value": 1, "unit": CRAFTED}}}),
        encoding="utf-8",
    )
    with open(reports / "runs.jsonl", "a", encoding="utf-8") as fh:
        fh.write("\n")
        rec = {
            "params_file": f"params/{slug}.yaml",
            "name": CRAFTED,
            "status": "failed",
            "period": CRAFTED,
            "error": CRAFTED,
            "run_id": CRAFTED,
            "started_at": CRAFTED,
            "headline": {CRAFTED: 1},
        }
        fh.write(json.dumps(rec) + "\n")
    pages = export_portal(reports)
    assert [p.name for p in pages] == ["index.html", "index.fr.html", "index.it.html"]
    for page_file in pages:
        page = _parse(page_file)
        assert not any(t in ("img", "b") for t, _ in page.tags)
        assert not any("onerror" in a for _, attrs in page.tags for a in attrs)
        # the brand's report link stays whole, its href escaped, and resolves
        hrefs = [
            a["href"] for t, a in page.tags if t == "a" and a.get("href", "").startswith("evil")
        ]
        doc_links = [f"{slug}/2025-12/report.html", f"{slug}/2025-12/kpis.json"]
        assert hrefs == doc_links * 2  # latest report and history
        assert all((reports / h).is_file() for h in hrefs)
        assert CRAFTED in " ".join(page.text)


def test_empty_reports_folder(tmp_path: Path):
    out = export_index(tmp_path / "reports")
    html = out.read_text(encoding="utf-8")
    assert "No brand has been run yet" in html


def test_report_titles_differ_per_page():
    titles = {
        report_title("Aurora Outdoor", stem, "2025-11", "en")
        for stem in ("report", "campaign-roi", "customer-value")
    }
    assert titles == {
        "Aurora Outdoor · KPI report · 2025-11",
        "Aurora Outdoor · Campaign ROI · 2025-11",
        "Aurora Outdoor · Customer value · 2025-11",
    }
    assert report_title("Bellevue", "campaign-roi", "2025-Q4", "fr") == (
        "Bellevue · ROI des campagnes · 2025-Q4"
    )
    assert report_title("Castello", "customer-value", "2025-11", "it") == (
        "Castello · Valore del cliente · 2025-11"
    )
    assert report_title("X", "extra-notebook", "2025", "en") == "X · Extra notebook · 2025"


def _csv_params(tmp_path: Path, path: str):
    from kpitools.params import load_params

    f = tmp_path / "params" / "acme.yaml"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(f"brand: acme\nsource:\n  kind: csv\n  path: {path}\n", encoding="utf-8")
    return load_params(f)


def test_footer_source_never_shows_a_server_path(tmp_path: Path):
    from kpitools.data.provenance import source_label  # the footer's source

    # a folder beside the params file: shown relative to it
    below = _csv_params(tmp_path, "exports/2025")
    assert source_label(below) == "csv:exports/2025"
    # an absolute path elsewhere on the server: its name only
    far = _csv_params(tmp_path, "/srv/secret/export")
    assert source_label(far) == "csv:export"
    # a relative path climbing out of the params folder: its name only
    up = _csv_params(tmp_path, "../../data/crm")
    assert source_label(up) == "csv:crm"


def test_missing_chromium_skips_or_fails_when_required(monkeypatch):
    import browser

    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    monkeypatch.delenv(browser.REQUIRE_VAR, raising=False)
    with pytest.raises(pytest.skip.Exception):
        browser.chromium()
    monkeypatch.setenv(browser.REQUIRE_VAR, "1")
    with pytest.raises(pytest.fail.Exception, match="KPITOOLS_REQUIRE_CHROMIUM=1 requires it"):
        browser.chromium()
