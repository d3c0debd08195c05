"""The reports portal: ``reports/index.html`` (and one page per other locale) that tells the truth.

For every brand (params file) the portal shows

- the status of its **last attempt**: ok; failed, with its one-line reason and links to the
  kept failed notebook and log (also when the failure came before the period was known);
  skipped; or never run;
- its **latest published report** (HTML, PDF and ``kpis.json`` of each notebook), or "never
  published";
- objective badges and the headline KPIs of that report, with a small inline-SVG trend of each
  headline KPI across the published periods;
- the **history**: every published period and every run (from ``reports/runs.jsonl``; without
  it, from the folders: ``<brand>/<period>/``, ``<brand>/<period>/runs/<run-id>/`` and
  ``<brand>/_failed/last.json``).

One page per locale (``index.html`` in the commonest locale of the brands, ``index.<loc>.html``
for the others, with a language switch); numbers through :mod:`kpitools.report.formatting`.
The pages are self-contained (inline CSS and SVG, no script, no font or outside request) and
every link is relative to ``reports/`` and points at a file that exists.

This module only *reads* ``runs.jsonl`` (written by :mod:`kpitools.runs`).
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from markupsafe import Markup

from ..kpis.registry import get_registry
from ..locales import DEFAULT_LOCALE, LOCALES
from .formatting import format_date, format_value
from .i18n import has_message, kpi_name, t
from .templating import render

#: The objective statuses shown as badges: (key, badge class); the label is ``portal.goal.<key>``.
GOALS = (
    ("on_track", "ok"),
    ("at_risk", "risk"),
    ("off_track", "failed"),
    ("unknown", "unknown"),
)

#: Synonyms of objective status keys met in ``runs.jsonl`` and ``kpis.json``.
_GOAL_ALIASES = {"no_data": "unknown"}

#: Headline KPIs when neither the run record nor the caller names them.
DEFAULT_HEADLINE = ("revenue", "new_customers", "retention_rate", "nps")

#: Folders of a brand that are not periods.
_NOT_PERIODS = {"_failed", "_logs", "runs"}


@dataclass
class Attempt:
    """One run of one brand (a ``runs.jsonl`` line, or what the folders tell)."""

    status: str  # "ok" | "failed" | "skipped"
    period: str | None = None
    run_id: str | None = None
    started_at: str | None = None
    seconds: float | None = None
    error: str | None = None
    #: links relative to reports/, present files only (``run_dir``: the report.html of this
    #: run's kept copy)
    failed_notebook: str | None = None
    log: str | None = None
    run_dir: str | None = None


@dataclass
class PeriodReport:
    """One published period of a brand: ``reports/<slug>/<period>/``."""

    period: str
    docs: list[list[tuple[str, str, str]]]
    goals: dict[str, int]
    kpis: dict[str, dict[str, Any]]
    left_out: list[str] = field(default_factory=list)
    #: kept copies of earlier runs of this period (``runs/<run-id>/``), newest first:
    #: (run id, link to its report.html relative to reports/ or None when it has none)
    kept: list[tuple[str, str | None]] = field(default_factory=list)


@dataclass
class BrandEntry:
    """What the portal knows of one params file."""

    slug: str
    name: str
    params_file: str | None = None
    locale: str = DEFAULT_LOCALE
    currency: str = "EUR"
    headline: tuple[str, ...] = DEFAULT_HEADLINE
    periods: list[PeriodReport] = field(default_factory=list)  # newest first
    attempts: list[Attempt] = field(default_factory=list)  # newest first

    @property
    def last(self) -> Attempt | None:
        return self.attempts[0] if self.attempts else None

    @property
    def latest(self) -> PeriodReport | None:
        return self.periods[0] if self.periods else None


# --------------------------------------------------------------------------- reading


def read_run_lines(reports_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The records of ``reports/runs.jsonl`` in file order; ``[]`` when it is absent.

    Tolerant: a blank, truncated or malformed line (a run killed while writing) is skipped,
    and so is a line that is not a JSON object or has no ``params_file``/``brand``.
    """
    path = Path(reports_dir) / "runs.jsonl"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and (doc.get("params_file") or doc.get("brand")):
            out.append(doc)
    return out


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _rel(root: Path, target: object) -> str | None:
    """``target`` as a link relative to ``root`` when it is a file inside it, else None."""
    if not target or not isinstance(target, str):
        return None
    p = Path(target)
    if not p.is_absolute():
        p = root / p
    try:
        rel = p.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return None
    return rel.as_posix() if (root / rel).is_file() else None


def _rel_dir(root: Path, target: object) -> str | None:
    if not target or not isinstance(target, str):
        return None
    p = root / target
    try:
        p.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return None
    return target if p.is_dir() else None


def doc_label(stem: str, locale: str) -> str:
    key = f"portal.doc.{stem}"
    if has_message(key, locale):
        return t(key, locale)
    return stem.replace("-", " ").capitalize()


def report_docs(root: Path, folder: Path) -> list[list[tuple[str, str, str]]]:
    """The documents of a report folder, one line per notebook (its HTML and PDF), then
    ``kpis.json``: ``[[(href, stem, kind), …], …]`` with ``kind`` one of ``html``, ``pdf``,
    ``json``; present files only, each ``href`` relative to ``root``."""
    rel = folder.relative_to(root).as_posix()
    stems = ["report"] + sorted(p.stem for p in folder.glob("*.html") if p.stem != "report")
    lines = []
    for stem in stems:
        line = [
            (f"{rel}/{stem}.{kind}", stem, kind)
            for kind in ("html", "pdf")
            if (folder / f"{stem}.{kind}").is_file()
        ]
        if line:
            lines.append(line)
    if (folder / "kpis.json").is_file():
        lines.append([(f"{rel}/kpis.json", "kpis", "json")])
    return lines


def links_view(docs: list[list[tuple[str, str, str]]], locale: str) -> list[list[dict[str, str]]]:
    """:func:`report_docs` labelled in ``locale``: ``KPI report · PDF``, ``KPIs (JSON)``."""
    out = []
    for line in docs:
        group = []
        for href, stem, kind in line:
            if kind == "json":
                label = t("portal.json", locale)
            elif kind == "html":
                label = doc_label(stem, locale)
            elif len(line) > 1:
                label = t("portal.pdf", locale)
            else:
                label = f"{doc_label(stem, locale)} ({t('portal.pdf', locale)})"
            group.append({"href": href, "label": label})
        out.append(group)
    return out


def _goals(raw: object) -> dict[str, int]:
    counts: dict[str, int] = {}
    if isinstance(raw, dict):
        for raw_key, n in raw.items():
            key = _GOAL_ALIASES.get(str(raw_key), str(raw_key))
            if isinstance(n, int) and not isinstance(n, bool) and n > 0:
                counts[key] = counts.get(key, 0) + n
    return counts


def _period_report(root: Path, folder: Path, doc: dict[str, Any]) -> PeriodReport:
    rel = folder.relative_to(root).as_posix()
    kept = [
        (p.name, f"{rel}/runs/{p.name}/report.html" if (p / "report.html").is_file() else None)
        for p in sorted((folder / "runs").glob("*"), reverse=True)
        if p.is_dir() and p.name[0] not in "._"
    ]
    kpis = doc.get("kpis")
    return PeriodReport(
        period=folder.name,
        docs=report_docs(root, folder),
        goals=_goals((doc.get("objectives") or {}).get("counts")),
        kpis=kpis if isinstance(kpis, dict) else {},
        left_out=[
            str(x.get("key"))
            for x in (doc.get("coverage") or {}).get("left_out", [])
            if isinstance(x, dict) and x.get("kind") == "report"
        ],
        kept=kept,
    )


def _params_header(path: Path) -> dict[str, Any]:
    """``name``, ``locale``, ``currency`` of a params file, read leniently (it may be broken:
    its brand must still be listed)."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _parse_time(text: object) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def _attempt(root: Path, rec: dict[str, Any]) -> Attempt:
    status = rec.get("status") if rec.get("status") in ("ok", "failed", "skipped") else "failed"
    error = rec.get("error")
    return Attempt(
        status=str(status),
        period=str(rec["period"]) if rec.get("period") else None,
        run_id=str(rec["run_id"]) if rec.get("run_id") else None,
        started_at=rec.get("started_at") if isinstance(rec.get("started_at"), str) else None,
        seconds=rec.get("seconds") if isinstance(rec.get("seconds"), int | float) else None,
        error=" ".join(str(error).split()) if error else None,
        failed_notebook=_rel(root, rec.get("failed_notebook")),
        log=_rel(root, rec.get("log")),
        run_dir=_rel(root, f"{rec['run_dir']}/report.html")
        if _rel_dir(root, rec.get("run_dir"))
        else None,
    )


def collect_portal(
    reports_dir: str | os.PathLike,
    *,
    params_paths: list[str | os.PathLike] | None = None,
    headline: tuple[str, ...] = DEFAULT_HEADLINE,
) -> list[BrandEntry]:
    """Everything the portal shows, one entry per brand, sorted by name.

    Parameters
    ----------
    reports_dir : path
        The reports folder (``reports/``).
    params_paths : list of path, optional
        Params files to list even when they never ran, besides the ``*.yaml`` of the
        ``params/`` folder beside ``reports_dir`` (when there is one).
    headline : tuple of str
        Headline KPI ids when a brand's run records do not name them.
    """
    root = Path(reports_dir)
    entries: dict[str, BrandEntry] = {}

    def entry(slug: str) -> BrandEntry:
        if slug not in entries:
            entries[slug] = BrandEntry(slug=slug, name=slug, headline=headline)
        return entries[slug]

    listed: list[str | os.PathLike] = list(params_paths or [])
    if (root.parent / "params").is_dir():
        listed += sorted((root.parent / "params").glob("*.yaml"))
    for p in listed:
        path = Path(p)
        e = entry(path.stem)
        head = _params_header(path)
        e.params_file = _display_params(root, path)
        if isinstance(head.get("name"), str) and head["name"].strip():
            e.name = head["name"]
        elif isinstance(head.get("brand"), str):
            e.name = head["brand"]
        if head.get("locale") in LOCALES:
            e.locale = head["locale"]
        if isinstance(head.get("currency"), str):
            e.currency = head["currency"]

    # run records: newest last in the file; sort by start time then run id
    records = read_run_lines(root)
    by_slug: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        pf = rec.get("params_file")
        slug = Path(str(pf)).stem if pf else str(rec.get("brand"))
        by_slug.setdefault(slug, []).append(rec)
    for slug, recs in by_slug.items():
        e = entry(slug)
        recs.sort(key=lambda r: (str(r.get("started_at") or ""), str(r.get("run_id") or "")))
        last = recs[-1]
        if isinstance(last.get("params_file"), str):
            e.params_file = last["params_file"]
        if isinstance(last.get("name"), str) and last["name"]:
            e.name = last["name"]
        if last.get("locale") in LOCALES:
            e.locale = last["locale"]
        heads = [
            h for r in reversed(recs) if isinstance(r.get("headline"), dict) for h in r["headline"]
        ]
        if heads:
            e.headline = tuple(dict.fromkeys(heads))
        e.attempts = [_attempt(root, r) for r in reversed(recs)]

    # published folders
    for brand_dir in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        if brand_dir.name[0] in "._":
            continue
        periods = []
        docs = []
        for folder in sorted(brand_dir.iterdir(), reverse=True):
            if not folder.is_dir() or folder.name[0] in "._" or folder.name in _NOT_PERIODS:
                continue
            doc = _read_json(folder / "kpis.json")
            if doc is None and not (folder / "report.html").is_file():
                continue
            docs.append(doc or {})
            periods.append((folder, doc or {}))
        last_json = _read_json(brand_dir / "_failed" / "last.json")
        if not periods and last_json is None and brand_dir.name not in entries:
            continue
        e = entry(brand_dir.name)
        for doc in docs:  # the newest report names the brand when nothing else did
            if e.name == e.slug and isinstance(doc.get("name"), str) and doc["name"]:
                e.name = doc["name"]
            if e.params_file is None and doc.get("locale") in LOCALES:
                e.locale = doc["locale"]
            if isinstance(doc.get("currency"), str):
                e.currency = doc["currency"]
            break
        e.periods = [_period_report(root, f, d) for f, d in periods]
        _fold_in_failure(root, e, brand_dir, last_json)
    return sorted(entries.values(), key=lambda e: (e.name.casefold(), e.slug))


def _fold_in_failure(
    root: Path, e: BrandEntry, brand_dir: Path, last_json: dict[str, Any] | None
) -> None:
    """Without run records, the folders tell the last attempt: ``_failed/last.json`` (removed
    by a successful run) means it failed; else a published report means it was ok. With run
    records, a ``last.json`` written after the last record still wins (a run that crashed
    before it could append its line)."""
    if last_json is None:
        if not e.attempts and e.periods:
            e.attempts = [Attempt(status="ok", period=e.periods[0].period)]
        return
    mtime = (brand_dir / "_failed" / "last.json").stat().st_mtime
    newest = e.last
    if newest is not None:
        started = _parse_time(newest.started_at)
        if started is None or mtime <= started + (newest.seconds or 0) + 1:
            return
    error = last_json.get("error")
    period = last_json.get("period")
    log = brand_dir.parent / "_logs" / f"{e.slug}.log"
    failed = Attempt(
        status="failed",
        period=str(period) if period else None,
        started_at=datetime.fromtimestamp(mtime).astimezone().isoformat(timespec="seconds"),
        error=" ".join(str(error).split()) if error else None,
        failed_notebook=_rel(root, last_json.get("notebook")),
        log=_rel(root, str(log)),
    )
    e.attempts.insert(0, failed)


def _display_params(root: Path, path: Path) -> str:
    """A params file as shown: relative to the reports folder's parent when inside it."""
    try:
        return path.resolve().relative_to(root.resolve().parent).as_posix()
    except (ValueError, OSError):
        return path.name


# --------------------------------------------------------------------------- rendering


def trend_svg(values: list[float | None], *, width: int = 96, height: int = 24) -> Markup:
    """A sparkline of ``values`` (oldest first) as inline SVG; missing values break the line.

    The SVG is built from numbers only (no text from data), so it is safe as markup.
    """
    pts = [(i, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if len(pts) < 2:
        return Markup("")
    lo = min(v for _, v in pts)
    hi = max(v for _, v in pts)
    span = (hi - lo) or 1.0
    n = max(len(values) - 1, 1)
    pad = 3

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad + (width - 2 * pad) * i / n
        y = height - pad - (height - 2 * pad) * ((v - lo) / span if hi > lo else 0.5)
        return round(x, 1), round(y, 1)

    segments: list[list[tuple[float, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None or not math.isfinite(v):
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append(xy(i, v))
    paths = "".join(
        f'<polyline points="{" ".join(f"{x},{y}" for x, y in seg)}"/>' for seg in segments if seg
    )
    lx, ly = xy(*pts[-1])
    return Markup(
        f'<svg class="trend" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-hidden="true"><g fill="none" stroke="#4a6fa5" stroke-width="1.5">{paths}</g>'
        f'<circle cx="{lx}" cy="{ly}" r="2.2" fill="#1f3b63"/></svg>'
    )


def _value(entry: dict[str, Any] | None) -> float | None:
    if not isinstance(entry, dict):
        return None
    v = entry.get("value")
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return None
    return float(v)


def _when(text: str | None, locale: str) -> str:
    """A run's start as ``date HH:MM`` in the reader's locale."""
    if not text:
        return ""
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return text
    zone = " UTC" if dt.utcoffset() is not None and not dt.utcoffset() else ""
    return f"{format_date(dt.date(), locale)} {dt.strftime('%H:%M')}{zone}"


def _goal_badges(goals: dict[str, int], locale: str) -> list[dict[str, Any]]:
    return [
        {"n": goals[key], "cls": cls, "label": t(f"portal.goal.{key}", locale)}
        for key, cls in GOALS
        if goals.get(key)
    ]


def _status_view(a: Attempt | None, locale: str) -> dict[str, Any]:
    if a is None:
        return {"cls": "unknown", "label": t("portal.status.never_run", locale)}
    label = t(f"portal.status.{a.status}", locale)
    return {
        "cls": {"ok": "ok", "failed": "failed", "skipped": "unknown"}[a.status],
        "label": label,
        "period": a.period or t("portal.period_unknown", locale),
        "when": _when(a.started_at, locale),
        "seconds": format_value(a.seconds, "number", locale) if a.seconds is not None else "",
        "error": a.error,
        "failed_notebook": a.failed_notebook,
        "log": a.log,
        "run_dir": a.run_dir,
        "run_id": a.run_id,
    }


def _brand_view(e: BrandEntry, locale: str) -> dict[str, Any]:
    reg = get_registry()
    latest = e.latest
    oldest_first = list(reversed(e.periods))
    heads = []
    for h in e.headline:
        kpi = latest.kpis.get(h) if latest else None
        if h not in reg and kpi is None:
            continue
        unit = (kpi or {}).get("unit") or (str(reg[h].unit) if h in reg else "number")
        name = kpi_name(h, locale) if h in reg else str((kpi or {}).get("name") or h)
        values = [_value(p.kpis.get(h)) for p in oldest_first]
        heads.append(
            {
                "name": name,
                "value": format_value(_value(kpi), unit, locale, e.currency) if latest else "–",
                "trend": trend_svg(values),
                "span": (
                    t(
                        "portal.trend_span",
                        locale,
                        first=oldest_first[0].period,
                        last=oldest_first[-1].period,
                        n=sum(v is not None for v in values),
                    )
                    if sum(v is not None for v in values) >= 2
                    else ""
                ),
            }
        )
    return {
        "slug": e.slug,
        "anchor": "b-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in e.slug),
        "name": e.name,
        "params_file": e.params_file,
        "status": _status_view(e.last, locale),
        "latest": (
            {
                "period": latest.period,
                "links": links_view(latest.docs, locale),
                "goals": _goal_badges(latest.goals, locale),
                "left_out": [doc_label(k, locale) for k in latest.left_out],
            }
            if latest
            else None
        ),
        "heads": heads,
        "periods": [
            {
                "period": p.period,
                "links": links_view(p.docs, locale),
                "goals": _goal_badges(p.goals, locale),
                "kept": [{"run_id": k, "href": href} for k, href in p.kept],
            }
            for p in e.periods
        ],
        "runs": [_status_view(a, locale) for a in e.attempts[:12]],
        "more_runs": max(0, len(e.attempts) - 12),
    }


def _stylesheets() -> Markup:
    base = files("kpitools.report")
    text = base.joinpath("report.css").read_text(encoding="utf-8")
    text += "\n" + base.joinpath("portal.css").read_text(encoding="utf-8")
    return Markup(text)  # shipped with kpitools: trusted


def portal_locales(entries: list[BrandEntry]) -> list[str]:
    """The portal's locales, the default first: the commonest locale of the brands (English on
    a tie or with no brand), then the others in :data:`LOCALES` order."""
    counts = Counter(e.locale for e in entries)
    default: str = DEFAULT_LOCALE
    if counts:
        best = max(counts.values())
        tied = [loc for loc in LOCALES if counts.get(loc) == best]
        default = DEFAULT_LOCALE if DEFAULT_LOCALE in tied else tied[0]
    return [default] + [loc for loc in LOCALES if loc != default]


def portal_file(locale: str, default: str) -> str:
    """``index.html`` for the default locale, ``index.<locale>.html`` for the others."""
    return "index.html" if locale == default else f"index.{locale}.html"


def render_portal(entries: list[BrandEntry], locale: str, *, default: str, stamp: str) -> str:
    """The complete portal page in ``locale``."""
    switch = [
        {
            "href": portal_file(loc, default),
            "label": t("portal.language_name", loc),
            "lang": loc,
            "current": loc == locale,
        }
        for loc in [default] + [x for x in LOCALES if x != default]
    ]
    brands = [_brand_view(e, locale) for e in entries]
    failed = sum(b["status"]["cls"] == "failed" for b in brands)
    body = render(
        "portal/index.html",
        brands=brands,
        switch=switch,
        stamp=stamp,
        locale=locale,
        failed=failed,
    )
    html = render(
        "portal/page.html",
        body=body,
        lang=locale,
        title=t("portal.title", locale),
        stylesheet=_stylesheets(),
    )
    return str(html) + "\n"


def export_portal(
    reports_dir: str | os.PathLike,
    *,
    params_paths: list[str | os.PathLike] | None = None,
    headline: tuple[str, ...] = DEFAULT_HEADLINE,
) -> list[Path]:
    """Write the portal pages into ``reports_dir``; returns them, ``index.html`` first.

    Raises
    ------
    OSError
        When the reports folder cannot be written (read-only, full disk); each page is written
        atomically, so a reader never sees half of one.
    """
    from .files import write_text_atomic

    root = Path(reports_dir)
    entries = collect_portal(root, params_paths=params_paths, headline=headline)
    locales = portal_locales(entries)
    now = datetime.now().astimezone().isoformat(timespec="minutes")
    root.mkdir(parents=True, exist_ok=True)
    out = []
    for loc in locales:
        html = render_portal(entries, loc, default=locales[0], stamp=_when(now, loc))
        out.append(write_text_atomic(root / portal_file(loc, locales[0]), html))
    # a page of a locale that has become the default is stale: index.html replaces it
    stale = root / portal_file(locales[0], "")
    stale.unlink(missing_ok=True)
    return out


__all__ = [
    "Attempt",
    "BrandEntry",
    "PeriodReport",
    "collect_portal",
    "doc_label",
    "export_portal",
    "portal_file",
    "portal_locales",
    "read_run_lines",
    "render_portal",
    "links_view",
    "report_docs",
    "trend_svg",
]
