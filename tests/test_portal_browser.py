"""The portal and the report pages in headless Chromium: what a reader's browser does.

No outside request (nothing loaded at all: CSS inline, no font, no script; Chromium runs behind
a proxy that refuses everything), no console error, every link resolves, nothing cut off at
1280, 390 and 360 px (a table wider than the screen scrolls inside its own box), a screenshot
at 1280 and 390 px, and the failed-run cases: failed before the period was known, failed after
an earlier success, never run. Skips without Chromium, fails in CI (``KPITOOLS_REQUIRE_CHROMIUM``).

Set ``KPITOOLS_PORTAL_SHOTS=DIR`` to keep the screenshots.
"""

from __future__ import annotations

import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import browser
import portal_scenario as scn
import pytest

from kpitools.report.portal import export_portal

pytestmark = pytest.mark.slow

PAGES = {"index.html": "it", "index.en.html": "en", "index.fr.html": "fr"}
TITLES = {"it": "Report CRM", "en": "CRM reports", "fr": "Rapports CRM"}


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("href", "src", "srcset", "action", "poster", "data") and value:
                self.refs.append((tag, key, value))
            if key == "id" and value:
                self.ids.add(value)


def _keep(shot: Path) -> None:
    keep = os.environ.get("KPITOOLS_PORTAL_SHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)


@pytest.fixture(scope="module")
def portal(tmp_path_factory) -> Path:
    reports = scn.build(tmp_path_factory.mktemp("portal"))
    export_portal(reports)
    return reports


def test_detectors_catch_an_outside_request_and_a_console_error(tmp_path: Path):
    """The probe is not blind: a page with an outside image, font and a console error."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><head><title>bad</title><style>@font-face{font-family:X;"
        "src:url(https://fonts.example.org/x.woff2)} body{font-family:X}</style></head><body>"
        '<img src="http://example.com/a.png"><table style="width:900px"><tr><td>wide</td></tr>'
        '</table><script>console.error("boom")</script></body></html>',
        encoding="utf-8",
    )
    p = browser.probe(bad, width=390)
    assert "http://example.com/a.png" in p.resources
    assert any("boom" in line for line in p.console)
    assert p.cut == ["TABLE. right=908"]
    assert p.viewport == 390


@pytest.mark.parametrize("width", [1280, 390, 360])
@pytest.mark.parametrize("name", list(PAGES))
def test_portal_pages_in_chromium(portal: Path, name: str, width: int):
    p = browser.probe(portal / name, width=width)
    assert p.viewport == width
    assert p.title == TITLES[PAGES[name]]
    assert p.resources == [], "the portal must load nothing (inline CSS, no font, no image)"
    assert p.console == []
    assert p.cut == [], f"cut off at {width} px: {p.cut}"
    assert p.scroll_width <= width, "the page scrolls sideways"


@pytest.mark.parametrize("name", list(PAGES))
def test_every_link_resolves_in_the_loaded_dom(portal: Path, name: str):
    dom, stderr = browser.dump_dom((portal / name).as_uri())
    assert browser.console_lines(stderr) == []
    refs = _Refs()
    refs.feed(dom)
    assert refs.refs, "no link at all"
    for tag, key, ref in refs.refs:
        if ref.startswith("#"):
            assert ref[1:] in refs.ids, ref
            continue
        assert re.match(r"^[a-z][a-z0-9+.-]*:", ref) is None and not ref.startswith("/"), (
            f"{name}: {tag}[{key}]={ref} is not relative"
        )
        assert (portal / ref).is_file(), f"{name}: {ref} does not exist"
    # each locale page links the others
    others = {n for n in PAGES if n != name}
    assert others <= {ref for _, _, ref in refs.refs}


def test_failed_run_cases_as_the_browser_shows_them(portal: Path):
    dom, _ = browser.dump_dom((portal / "index.en.html").as_uri())
    text = " ".join(re.sub(r"<[^>]+>", " ", dom).split())
    aurora = text.split("Aurora Outdoor failed Params file")[1].split("Bellevue")[0]
    assert "Last attempt failed Period: 2026-01" in aurora  # failed after earlier successes
    assert "Latest report Period: 2025-12" in aurora  # the last good report stays linked
    castello = text.split("Castello Caffè failed Params file")[1]
    assert "Last attempt failed Period: not known (the run stopped before it)" in castello
    assert "Latest report never published" in castello
    machines = text.split("Castello Caffè · Macchine never run Params file")[1]
    assert "This brand has never been run." in machines
    assert "None" not in text and "Last run: ok" not in text


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots(portal: Path, tmp_path: Path, width: int):
    for name in ("index.html", "index.en.html"):
        out = tmp_path / f"portal-{name.replace('.html', '')}-{width}.png"
        browser.screenshot(portal / name, out, width=width)
        w, h = browser.png_size(out)
        assert w == width and h > 1000
        _keep(out)


@pytest.mark.e2e
def test_real_run_pages_in_chromium(tmp_path: Path):
    """A real run of one brand (small demo): its three pages have their own tab titles, fit a
    phone, load nothing; then its data breaks and the portal says so beside the last good
    report."""
    import yaml

    from kpitools.data.demo import generate_demo
    from kpitools.runner import run_all

    db = tmp_path / "data" / "demo.duckdb"
    db.parent.mkdir()
    generate_demo(db, customers=1500, seed=7)
    root = Path(__file__).resolve().parent.parent
    data = yaml.safe_load((root / "params" / "aurora.yaml").read_text(encoding="utf-8"))
    data["source"]["path"] = "../data/demo.duckdb"
    params = tmp_path / "params" / "aurora.yaml"
    params.parent.mkdir()
    params.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    reports = tmp_path / "reports"
    [ok] = run_all([params], reports_dir=reports, jobs=1, progress=False, pdf=False)
    assert ok.status == "ok", ok.error
    folder = reports / "aurora" / str(ok.period)
    titles = {}
    for stem in ("report", "campaign-roi", "customer-value"):
        page = folder / f"{stem}.html"
        for width in (1280, 390):
            p = browser.probe(page, width=width)
            assert p.resources == [] and p.console == [], (p.resources, p.console)
            assert p.cut == [] and p.scroll_width <= width, (stem, width, p.cut)
        titles[stem] = p.title
        html = page.read_text(encoding="utf-8")
        assert str(tmp_path) not in html, "a server path in the page"
    assert titles == {
        "report": f"Aurora Outdoor · KPI report · {ok.period}",
        "campaign-roi": f"Aurora Outdoor · Campaign ROI · {ok.period}",
        "customer-value": f"Aurora Outdoor · Customer value · {ok.period}",
    }
    footer = (folder / "report.html").read_text(encoding="utf-8")
    assert "duckdb:../data/demo.duckdb" in footer and str(tmp_path) not in footer
    shot = browser.screenshot(folder / "report.html", tmp_path / "aurora-report-390.png", width=390)
    _keep(shot)

    # the database disappears: the run fails before the period is known
    db.rename(db.with_name("gone.duckdb"))
    [bad] = run_all([params], reports_dir=reports, jobs=1, progress=False, pdf=False)
    assert bad.status == "failed"
    dom, stderr = browser.dump_dom((reports / "index.html").as_uri())
    assert browser.console_lines(stderr) == []
    text = " ".join(re.sub(r"<[^>]+>", " ", dom).split())
    assert "Aurora Outdoor failed" in text
    assert f"Latest report Period: {ok.period}" in text
    assert "Last run: ok" not in text and "None" not in text
    shot = browser.screenshot(reports / "index.html", tmp_path / "portal-real-1280.png", width=1280)
    _keep(shot)
