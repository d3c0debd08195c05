"""Command-line interface: thin subcommands over the package.

``kpitools demo-data``, ``kpitools validate``, ``kpitools kpis``, ``kpitools run``,
``kpitools history``. Only the CLI
configures logging. Errors from kpitools print as one clear line per problem, never a stack
trace (``--debug`` shows it).

Each subcommand imports what it needs when it runs (start-up speed, not cycles: the CLI is the
top layer and may import anything): ``validate`` loads params and the data sources only,
never the KPI engine, the report or papermill.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import click

from .errors import KpitoolsError
from .locales import LOCALES

log = logging.getLogger("kpitools")


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show stack traces and debug logs.")
@click.version_option(package_name="kpitools")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """kpitools: CRM KPI reports per brand, from params files to HTML and PDF."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = {"debug": debug}


@main.command("demo-data")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    default="data/demo.duckdb",
    show_default=True,
    help="DuckDB file to write.",
)
@click.option("--customers", type=click.IntRange(min=100), default=20_000, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
def demo_data(out: str, customers: int, seed: int) -> None:
    """Generate the demo CRM database (3 brands, 24 months, every table, planted truth)."""
    from .data.demo import generate_demo

    summary = generate_demo(out, customers=customers, seed=seed, progress=True)
    rows = summary.get("rows", {})
    click.echo(
        f"wrote {out}: {customers:,} customers, {rows.get('orders', 0):,} orders, "
        f"{len(rows)} tables in {summary.get('seconds', 0):.1f} s"
    )


def _params_files(paths: Sequence[str], all_: bool, params_dir: str | None = None) -> list[Path]:
    """The params files a command runs on, never found in the working directory by accident.

    Names are taken as given (relative to the working directory, as a shell would), except that
    with ``--params-dir D`` a relative name is looked for in ``D``. ``--all`` lists
    ``D/*.yaml`` (``--params-dir``), else ``./params/*.yaml``, and says which folder it searched
    when there is none; ``--params-dir`` without names means ``--all``.
    """
    folder = Path(params_dir).expanduser() if params_dir else None
    files = [Path(p) if folder is None or Path(p).is_absolute() else folder / p for p in paths]
    if folder is not None and not folder.is_dir():
        _fail(f"--params-dir: no folder {folder.resolve()}")
    if all_ or (folder is not None and not paths):
        where = folder if folder is not None else Path("params")
        found = sorted(where.glob("*.yaml")) + sorted(where.glob("*.yml"))
        if not found:
            hint = "" if folder is not None else "; name the folder with --params-dir DIR"
            flag = "--all: " if all_ else ""
            _fail(f"{flag}no params files (*.yaml) in {where.resolve()}{hint}")
        files += found
    if not files:
        _fail(
            "no params file given: name one or more, or use --all for the params/*.yaml of "
            "the working directory, or --params-dir DIR"
        )
    return list(dict.fromkeys(files))


_PARAMS_DIR = click.option(
    "--params-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of the params files: --all (or no names) takes its *.yaml, relative names are "
    "looked for there [default for --all: ./params].",
)


@main.command()
@click.argument("params", nargs=-1, type=click.Path())
@click.option("--all", "all_", is_flag=True, help="Every params/*.yaml (see --params-dir).")
@_PARAMS_DIR
@click.option("--deep", is_flag=True, help="Also scan the data for out-of-range values.")
def validate(params: tuple[str, ...], all_: bool, params_dir: str | None, deep: bool) -> None:
    """Check params files and that their data sources open and match the contracts.

    The checks are those ``run`` makes before a report (:func:`kpitools.data.checks.
    check_params_source`): the files are readable, the contracts hold, the brand has rows and
    at least one period has data; one line per problem."""
    from .data.checks import check_params_source, empty_optional_columns
    from .data.sources import connect
    from .params import load_params

    bad = 0
    for f in _params_files(params, all_, params_dir):
        try:
            p = load_params(f)
            problems = check_params_source(p, deep=deep)
            missing: list[str] = []
            empty: list[str] = []
            if not problems:
                with connect(p) as db:
                    missing = db.missing_tables
                    empty = empty_optional_columns(db)
        except KpitoolsError as exc:
            bad += 1
            click.echo(str(exc), err=True)
            continue
        if problems:
            bad += 1
            for pr in problems:
                click.echo(f"{f}: {pr}", err=True)
            continue
        note = (
            f" (absent tables, their KPIs not available: {', '.join(missing)})" if missing else ""
        )
        if empty:
            note += f" (empty columns, their KPIs not available: {', '.join(empty)})"
        click.echo(f"{f}: ok{note}")
    sys.exit(1 if bad else 0)


@main.command()
@click.argument("source")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Params file to write [default: params/<brand>.yaml].",
)
@click.option("--brand", default=None, help="Brand id [default: from --name or the folder].")
@click.option("--name", default=None, help="Brand name shown in the report.")
@click.option(
    "--locale",
    type=click.Choice(list(LOCALES)),
    default=None,
    help="Report language [default: the language of the column names].",
)
@click.option(
    "--currency",
    default=None,
    help="ISO 4217 code of the amounts [default: EUR for French or Italian names, else USD].",
)
@click.option(
    "--month-first",
    is_flag=True,
    help="Read dates such as 05/01/2025 as 1 May (US) [default: day first, 5 January].",
)
@click.option("--force", is_flag=True, help="Overwrite the params file if it exists.")
def init(
    source: str,
    out: Path | None,
    brand: str | None,
    name: str | None,
    locale: str | None,
    currency: str | None,
    month_first: bool,
    force: bool,
) -> None:
    """Propose a params file for your own data: a folder of CSV/text/Parquet exports, a DuckDB
    file or a database URL.

    Inspects the tables (encoding, delimiter, header, decimal marks, date formats), maps them
    onto the canonical model by their names (English, French and Italian synonyms) and the
    kind of their values, writes a commented params file, checks it as ``validate`` does,
    and prints which KPIs the data allow and which tables or columns would add more.
    """
    from .data.checks import check_params_source
    from .data.inspect import inspect_source, read_profiled
    from .data.propose import detect_order_lines, propose, relative_path, render_params, slug
    from .data.sources import connect
    from .kpis.columns import kpi_availability, what_columns_add
    from .params import load_params

    try:
        inventory = inspect_source(source, day_first=not month_first)
    except KpitoolsError as exc:
        _fail(f"init: {exc}")
    proposal = propose(inventory)
    if (orders := proposal.table("orders")) is not None:
        detect_order_lines(proposal, read_profiled(inventory, orders.profile))
    if not proposal.tables:
        for prof, why in proposal.unmatched:
            click.echo(f"{prof.name}: {why}", err=True)
        _fail(
            f"init: no table of {source} could be mapped onto orders, customers or another "
            "canonical table; see docs/data.md for writing the mapping by hand"
        )
    brands = _brands_in(proposal)
    if brands and brand is not None and brand not in brands:
        _fail(f"init: --brand {brand}: the data's brand column holds {', '.join(brands[:20])}")
    if brands and brand is None:
        brand = brands[0]
        if len(brands) > 1:
            click.echo(
                f"the data hold {len(brands)} brands ({', '.join(brands[:10])}); writing the "
                f"params of {brand}: run init again with --brand for another (same mapping)"
            )
    where = inventory.path
    default_name = name or brand or (where.name if where is not None and where.is_dir() else None)
    if default_name is None and where is not None:
        default_name = where.stem
    default_name = default_name or "brand"
    brand = brand or slug(name or default_name)
    name = name or default_name.replace("_", " ").replace("-", " ").strip().title()
    locale = locale or proposal.locale
    currency = (currency or ("USD" if locale == "en" else "EUR")).upper()
    out = out or Path("params") / f"{brand}.yaml"
    if out.exists() and not force:
        _fail(f"init: {out} exists; give another --out or --force to overwrite it")
    if inventory.kind == "sql":
        location = inventory.url or source
    else:
        assert where is not None
        location = relative_path(where, out)
    text = render_params(
        proposal,
        brand=brand,
        name=name,
        locale=locale,
        currency=currency,
        source_location=location,
        adds=what_columns_add(),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    click.echo(f"wrote {out}")
    for tp in proposal.tables:
        click.echo(f"  {tp.canonical} <- {tp.profile.name} ({tp.profile.rows:,} rows)")
    for prof, why in proposal.unmatched:
        click.echo(f"  left out {prof.name}: {why}")
    for skipped in inventory.skipped:
        click.echo(f"  not read {skipped}")
    checks = text.count("# check")
    if checks:
        click.echo(f"  {checks} line(s) marked 'check' are guesses: read them")
    try:
        params = load_params(out)
        problems = check_params_source(params)
        lacks = {}
        if not problems:
            with connect(params) as db:
                lacks = kpi_availability(db)
    except KpitoolsError as exc:
        _fail(f"{out}: {exc}", code=1)
    if problems:
        for pr in problems:
            click.echo(f"{out}: {pr}", err=True)
        _fail(f"{out}: written, but validate finds the problems above; edit it", code=1)
    _print_availability(lacks)
    click.echo(f"next: kpitools validate {out} && kpitools run {out}")


def _brands_in(proposal) -> list[str]:
    """The values of the brand column of the proposed orders (or first) table, if it has one."""
    import ibis

    from .data.inspect import read_profiled

    tp = proposal.table("orders") or proposal.tables[0]
    choice = tp.columns.get("brand")
    if choice is None or choice.source is None:
        return []
    t = read_profiled(proposal.inventory, tp.profile)
    values = t[choice.source].cast("string").name("b")
    frame = t.select(values).distinct().order_by(ibis._.b).limit(1000).execute()
    return [str(v) for v in frame["b"] if v is not None and str(v).strip()]


def _print_availability(lacks: dict[str, tuple[str, ...]]) -> None:
    """Which KPIs the data allow, by department, and what would add the others."""
    from .catalogue import DEPARTMENTS, KPIS

    allowed = [k for k, missing in lacks.items() if not missing]
    click.echo(f"KPIs these data allow: {len(allowed)} of {len(lacks)}")
    for dept in DEPARTMENTS:
        ids = [k for k in allowed if KPIS[k].department == dept]
        if ids:
            click.echo(f"  {dept}: {', '.join(ids)}")
    groups: dict[tuple[str, ...], list[str]] = {}
    for k, missing in lacks.items():
        if missing:
            groups.setdefault(tuple(sorted(missing)), []).append(k)
    if not groups:
        return
    click.echo("What would add more (tables or columns -> KPIs):")
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), len(kv[0]), kv[0]))
    for missing, ids in ranked:
        shown = ", ".join(ids[:6]) + (f" and {len(ids) - 6} more" if len(ids) > 6 else "")
        click.echo(f"  + {' + '.join(missing)}: {len(ids)} ({shown})")


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    help="markdown: the KPI reference docs/kpis.md (names, definitions, populations, windows).",
)
@click.option(
    "--locale",
    type=click.Choice(["all", *LOCALES]),
    default="all",
    show_default=True,
    help="Language of names and definitions (all: English, French and Italian).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of the terminal (e.g. docs/kpis.md).",
)
def kpis(fmt: str, locale: str, out: Path | None) -> None:
    """List the KPI registry by department, with names and definitions in en, fr and it."""
    from .kpis.registry import get_registry

    reg = get_registry()
    if fmt == "markdown" or out is not None:
        if fmt == "markdown":
            from .report.kpi_docs import kpis_markdown

            text = kpis_markdown()
        else:
            text = _kpis_listing(fmt, locale)
        if out is None:
            click.echo(text, nl=False)
        else:
            out.write_text(click.unstyle(text), encoding="utf-8")
            click.echo(f"wrote {out} ({len(reg)} KPIs)")
        return
    click.echo(_kpis_listing(fmt, locale), nl=False)


def _kpis_listing(fmt: str, locale: str) -> str:
    """``kpitools kpis`` as text or JSON (ends with a newline)."""
    from .catalogue import DEPARTMENTS
    from .kpis.registry import get_registry
    from .report.i18n import kpi_description, kpi_name, t

    reg = get_registry()
    if fmt == "json":
        doc = [
            {
                "id": k.id,
                "department": k.department,
                "unit": k.unit,
                "direction": k.direction,
                "scope": k.scope,
                "matures": k.matures,
                "tables": list(k.tables),
                "labels": {
                    lang: {"name": kpi_name(k.id, lang), "definition": kpi_description(k.id, lang)}
                    for lang in LOCALES
                },
                "definition": k.definition,
            }
            for k in reg.values()
        ]
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    langs = list(LOCALES) if locale == "all" else [locale]
    lines: list[str] = []
    for dept in DEPARTMENTS:
        ks = [k for k in reg.values() if k.department == dept]
        if not ks:
            continue
        lines.append(
            click.style(" / ".join(t(f"department.{dept}", lang) for lang in langs), bold=True)
        )
        for k in ks:
            better = "higher is better" if k.direction == "higher" else "lower is better"
            scope = "brand-wide in a product-line report" if k.scope == "brand" else "by line"
            final = f"; final after {k.matures}" if k.matures else ""
            lines.append(
                f"  {k.id}  [{k.unit}, {better}; {scope}{final}; tables: {', '.join(k.tables)}]"
            )
            for lang in langs:
                lines.append(f"    {lang}: {kpi_name(k.id, lang)}: {kpi_description(k.id, lang)}")
    lines.append(
        f"\n{len(reg)} KPIs. Exact definitions: kpitools kpis --format json; "
        "reference: docs/kpis.md (kpitools kpis --format markdown)"
    )
    return "\n".join(lines) + "\n"


@main.command()
@click.argument("params", nargs=-1, type=click.Path())
@click.option("--all", "all_", is_flag=True, help="Every params/*.yaml (see --params-dir).")
@_PARAMS_DIR
@click.option(
    "--period",
    help="YYYY-MM, YYYY-Qn or YYYY, or last-complete (the latest complete period of each "
    "brand's data, whatever its params say) [default: params, else latest complete].",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Brands run in parallel.",
)
@click.option(
    "--reports-dir",
    "--reports",
    "reports_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Root of the published reports [default: reports/ of the params files' project: the "
    "folder holding params/, or the params file's own folder].",
)
@click.option(
    "--notebooks-dir",
    "--notebooks",
    "notebooks_dir",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Folder of the report notebooks [default: notebooks/ of the params files' project "
    "when it holds them, else the copy shipped with kpitools].",
)
@click.option("--no-pdf", is_flag=True, help="Skip the PDF.")
@click.option(
    "--kpi-cache",
    is_flag=True,
    help="Read closed periods' KPI rows from <reports>/.cache/ and query only the others "
    "(sets KPITOOLS_KPI_CACHE=on; off by default, it saves nothing on DuckDB: "
    "docs/operations.md).",
)
@click.option(
    "--deliver",
    is_flag=True,
    help="Then e-mail each brand's PDFs and summary to its delivery.to, and alert the "
    "operators (KPITOOLS_ALERT_TO) of failures; SMTP from KPITOOLS_SMTP_* (docs/operations.md).",
)
@click.option(
    "--dry-run-deliver",
    "dry_run_deliver",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Write the messages --deliver would send as .eml files into DIR; nothing is sent.",
)
@click.option(
    "--keep-runs",
    type=click.IntRange(min=1),
    default=None,
    help="Run copies kept per period in reports/<brand>/<period>/runs/ "
    "[default: params report.keep_runs, 5].",
)
@click.option(
    "--wait",
    "wait",
    type=click.FloatRange(min=0),
    default=0,
    help="Seconds to wait when another run holds reports/.lock [default: 0, stop at once].",
)
@click.option(
    "--cold",
    is_flag=True,
    help="One process per brand and a fresh kernel per notebook (the old way), instead of "
    "long-lived workers that reuse one warm kernel each.",
)
@click.option(
    "--cell-timeout",
    type=click.FloatRange(min=0),
    default=600,
    show_default=True,
    metavar="SECONDS",
    help="A notebook cell running longer fails its brand (0: no limit).",
)
@click.option(
    "--restart-every",
    type=click.IntRange(min=1),
    default=25,
    show_default=True,
    metavar="N",
    help="Brands a warm worker's kernel runs before it is restarted.",
)
@click.option(
    "--shard",
    default=None,
    metavar="I/N",
    help="Run only shard I of N of the params files (sha256 of the file name, stable when "
    "brands are added); then `kpitools index` once all shards are done.",
)
def run(
    params: tuple[str, ...],
    all_: bool,
    params_dir: str | None,
    period: str | None,
    jobs: int,
    reports_dir: str | None,
    notebooks_dir: str | None,
    no_pdf: bool,
    keep_runs: int | None,
    wait: float,
    deliver: bool = False,
    dry_run_deliver: str | None = None,
    cold: bool = False,
    cell_timeout: float = 600,
    restart_every: int = 25,
    shard: str | None = None,
    kpi_cache: bool = False,
) -> None:
    """Execute the report notebooks for each brand and publish reports/<brand>/<period>/.

    Exit code: 0 every brand ok, 1 some failed (others published), 2 nothing published (no
    brand ok, or the run could not start: lock held, reports folder not writable, no
    notebooks), 143 stopped by SIGTERM (130 by Ctrl-C).
    """
    from .errors import ReportsFolderError
    from .runner import RunInterrupted, default_reports_dir, parse_shard, run_all, select_shard

    files = _params_files(params, all_, params_dir)
    part = None
    if shard is not None:
        try:
            part = parse_shard(shard)
        except KpitoolsError as exc:
            _fail(str(exc))
        everything = files
        files = [Path(f) for f in select_shard(files, part)]
        if not files:
            click.echo(f"shard {shard}: none of the {len(everything)} params files", err=True)
            sys.exit(0)
    if kpi_cache:  # the kernels (and warm workers) inherit it
        os.environ["KPITOOLS_KPI_CACHE"] = "on"
    if deliver and not dry_run_deliver:  # wrong SMTP settings: say so before hours of work
        from .delivery import SmtpSettings

        try:
            SmtpSettings.from_env()
        except KpitoolsError as exc:
            _fail(str(exc))
    problem = None
    interrupted = None
    try:
        reports = Path(reports_dir) if reports_dir else default_reports_dir(files)
        results = run_all(
            files,
            period=period,
            reports_dir=reports,
            notebooks_dir=notebooks_dir,
            jobs=jobs,
            pdf=not no_pdf,
            keep_runs=keep_runs,
            wait=wait,
            warm=not cold,
            cell_timeout=cell_timeout or None,
            restart_every=restart_every,
            shard=part,
        )
    except RunInterrupted as exc:
        results, interrupted = exc.results, str(exc)
    except ReportsFolderError as exc:  # not writable: before the brands or after them
        if not exc.results:
            _fail(str(exc))
        results, problem = exc.results, str(exc)
    except KpitoolsError as exc:  # no notebooks folder, lock held: nothing ran
        _fail(str(exc))
    if not results:
        _fail(interrupted or problem or "nothing ran")
    width = max(len(r.slug) for r in results)
    click.echo("")
    click.echo(f"{'brand':<{width}}  {'period':<8}  {'status':<6}  {'time':>7}  detail")
    indent = " " * (width + 30)
    for r in results:
        lines: list[str]
        if r.status == "ok" and r.report_dir is not None:  # an ok run always has its folder
            lines = [r.report_dir]
        else:
            lines = (r.error or "").splitlines() or ["?"]
        if r.failed_notebook:
            lines.append(f"failed notebook: {r.failed_notebook}")
        click.echo(
            f"{r.slug:<{width}}  {r.period or '-':<8}  {r.status:<6}  {r.seconds:>6.1f}s  "
            + f"\n{indent}".join(lines)
        )
    failed = sum(r.status != "ok" for r in results)
    click.echo(
        f"\n{len(results) - failed} ok, {failed} failed · index: {reports.resolve() / 'index.html'}"
    )
    if problem:
        click.echo(problem, err=True)
    undelivered = False
    if (deliver or dry_run_deliver) and not interrupted:
        from .delivery import deliver_results

        outcome = deliver_results(results, reports_dir=reports, outbox=dry_run_deliver)
        for line in outcome.lines():
            click.echo(line)
        undelivered = bool(outcome.problems)
    if interrupted:
        click.echo(f"{interrupted}: the last good reports are kept", err=True)
        sys.exit(130 if "SIGINT" in interrupted else 143)
    sys.exit(0 if not (failed or undelivered) else 1 if failed < len(results) else 2)


@main.command()
@click.argument("brand")
@click.option(
    "--reports-dir",
    "--reports",
    "reports_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Root of the published reports [default: reports/ of the params file's project when "
    "BRAND is a params file, else ./reports].",
)
@click.option("--period", default=None, help="Only this period.")
@click.option("--json", "as_json", is_flag=True, help="The runs.jsonl records as JSON lines.")
def history(brand: str, reports_dir: str | None, period: str | None, as_json: bool) -> None:
    """List a brand's runs: period, run id, start, status, seconds, error.

    BRAND is a brand id (its reports folder's name) or its params file. The run marked *
    is the period's current report; kept says whether its copy is still in
    reports/<brand>/<period>/runs/ (see report.keep_runs).
    """
    from .runs import history as runs_of

    slug = brand
    if brand.endswith((".yaml", ".yml")) or Path(brand).is_file():
        from .runner import default_reports_dir

        path = Path(brand)
        slug = path.stem
        if path.is_file():
            try:
                from .params import load_params

                slug = load_params(path).slug
            except KpitoolsError:
                pass
        reports = Path(reports_dir) if reports_dir else default_reports_dir([path])
    else:
        reports = Path(reports_dir or "reports")
    if not (reports / "runs.jsonl").is_file():
        _fail(f"no run history in {reports.resolve()} (no runs.jsonl): name it with --reports-dir")
    runs = [r for r in runs_of(reports, slug) if period is None or r.period == period]
    if not runs:
        _fail(f"no runs of {slug!r} in {(reports / 'runs.jsonl').resolve()}")
    if as_json:
        for r in runs:
            click.echo(json.dumps(r.to_dict(), ensure_ascii=False))
        return
    current = {}
    for r in runs:
        if r.status == "ok" and r.period:
            current[r.period] = r.run_id
    click.echo(
        f"{'period':<8}  {'run id':<22}  {'started':<19}  {'status':<7}  {'time':>7}  kept  error"
    )
    for r in runs:
        mark = "*" if current.get(r.period or "") == r.run_id else " "
        kept = "yes" if r.run_dir and (reports / r.run_dir).is_dir() else "-"
        started = (r.started_at or "")[:19].replace("T", " ")
        click.echo(
            f"{r.period or '-':<8}  {r.run_id:<21}{mark}  {started:<19}  {r.status:<7}  "
            f"{r.seconds:>6.1f}s  {kept:<4}  {(r.error or '').splitlines()[0] if r.error else ''}"
        )


@main.command()
@click.option(
    "--reports-dir",
    "--reports",
    "reports_dir",
    type=click.Path(file_okay=False),
    default="reports",
    show_default=True,
    help="The reports folder (every shard's published brands).",
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0,
    help="Seconds to wait when a run holds reports/.lock [default: 0, stop at once].",
)
def index(reports_dir: str, wait: float) -> None:
    """Rebuild the portal (reports/index.html) from what is published in the reports folder,
    e.g. once every `kpitools run --shard I/N` is done."""
    from .runner import rebuild_index

    try:
        path = rebuild_index(reports_dir, wait=wait)
    except KpitoolsError as exc:
        _fail(str(exc))
    click.echo(str(path))


if __name__ == "__main__":  # pragma: no cover
    main()
