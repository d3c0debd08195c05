"""Run report notebooks with papermill, once per params file, in parallel, and publish.

For each params file: validate it, resolve the period, execute each report notebook into a
staging folder, render HTML (no code) and PDF, then *publish* by swapping the staging folder
into ``reports/<brand>/<period>/``. A run that fails at any step leaves the last good report
untouched; its executed notebook (with the failing cell marked by papermill) is kept in
``reports/<brand>/_failed/`` with a one-line reason, and the other brands go on.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
import traceback
import uuid
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import papermill as pm
from tqdm.auto import tqdm

from .data.checks import check_params_source, check_period_in_data
from .data.sources import connect
from .errors import KpitoolsError
from .kpis.compute import resolve_period
from .numbers import write_json
from .params import ReportParams, load_params
from .report.coverage import REPORT_TABLES, report_needs
from .report.export import export_html, export_index, export_pdf, report_title

log = logging.getLogger(__name__)

#: The report notebooks shipped inside the package (copied from the project's ``notebooks/``
#: when the wheel is built, see ``setup.py``).
PACKAGED_NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


def _holds_report_notebooks(folder: Path) -> bool:
    """Whether ``folder`` has every notebook a brand runs by default."""
    return all((folder / f"{name}.ipynb").is_file() for name in ReportParams().notebooks)


#: The notebooks of the source checkout kpitools is imported from (an editable install, where
#: the package has no copy of its own).
SOURCE_NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def project_dir(params_path: str | os.PathLike) -> Path:
    """The project folder of a params file: the parent of its folder when that is ``params/``.

    ``<project>/params/aurora.yaml`` → ``<project>``; a params file elsewhere
    (``/srv/acme/acme.yaml``) → its own folder. Default reports (``<project>/reports``) and
    notebooks (``<project>/notebooks``) are found there, never in the working directory.
    """
    folder = Path(params_path).resolve().parent
    return folder.parent if folder.name == "params" else folder


def common_project_dir(params_paths: Iterable[str | os.PathLike]) -> Path:
    """The one project folder of several params files (:func:`project_dir`).

    Raises
    ------
    KpitoolsError
        When the files belong to different projects (name the folder with ``--reports-dir``).
    """
    projects = list(dict.fromkeys(project_dir(p) for p in params_paths))
    if len(projects) != 1:
        shown = ", ".join(str(p) for p in projects) or "none"
        raise KpitoolsError(
            f"params files of several project folders ({shown}): "
            "say where the reports go with --reports-dir DIR"
        )
    return projects[0]


def default_reports_dir(params_paths: Iterable[str | os.PathLike]) -> Path:
    """``<project>/reports`` of the params files (:func:`common_project_dir`)."""
    return common_project_dir(params_paths) / "reports"


def default_notebooks_dir(project: str | os.PathLike | None = None) -> Path:
    """Where the report notebooks are read from when no folder is given.

    ``<project>/notebooks`` when it holds the report notebooks (a project where analysts edit
    them; ``project`` is the params files' :func:`project_dir`), else the copy shipped in the
    package, else the notebooks of the source checkout kpitools runs from (an editable
    install). The working directory is never searched.

    Parameters
    ----------
    project : path, optional
        The project folder; without it only the shipped notebooks are looked for.

    Raises
    ------
    KpitoolsError
        When none holds them (pass ``--notebooks DIR``).
    """
    local = [Path(project) / "notebooks"] if project is not None else []
    for folder in (*local, PACKAGED_NOTEBOOKS, SOURCE_NOTEBOOKS):
        if _holds_report_notebooks(folder):
            return folder.resolve()
    searched = ", ".join(str(f) for f in (*local, PACKAGED_NOTEBOOKS))
    raise KpitoolsError(
        f"no report notebooks in {searched}: put them in the project's notebooks/ folder "
        "or pass --notebooks DIR"
    )


@dataclass
class RunResult:
    """Outcome of one brand's run."""

    params_path: str
    slug: str
    period: str | None = None
    status: str = "failed"
    error: str | None = None
    seconds: float = 0.0
    report_dir: str | None = None
    failed_notebook: str | None = None
    outputs: list[str] = field(default_factory=list)
    #: report notebooks left out (output stem → the tables the source lacks)
    skipped: dict[str, list[str]] = field(default_factory=dict)


def notebook_path(name: str, notebooks_dir: Path, params_path: Path) -> Path:
    """The notebook file of a ``report.notebooks`` entry, never looked for in the working dir.

    An absolute path is taken as is; a relative one is looked for in ``notebooks_dir`` (the
    ``--notebooks`` folder or :func:`default_notebooks_dir`), then in the ``notebooks/``
    folder of the params file's :func:`project_dir`, then next to the params file. When it is
    in none, the ``notebooks_dir`` path is returned (and reported as missing).
    """
    p = Path(name)
    if p.suffix != ".ipynb":
        p = p.with_suffix(".ipynb")
    if p.is_absolute():
        return p
    folders = (notebooks_dir, project_dir(params_path) / "notebooks", params_path.parent)
    for folder in folders:
        if (folder / p).is_file():
            return (folder / p).resolve()
    return notebooks_dir / p


def _output_stem(index: int, nb: Path) -> str:
    """``report`` for the first notebook; ``campaign-roi`` for ``20-campaign-roi.ipynb``."""
    if index == 0:
        return "report"
    stem = nb.stem
    head, _, tail = stem.partition("-")
    return tail if head.isdigit() and tail else stem


def _one_line(exc: BaseException) -> str:
    """The failure in plain words: one line per problem (a params file or a table contract can
    have several), no stack trace."""
    ename = getattr(exc, "ename", None)
    evalue = getattr(exc, "evalue", None)
    if ename:
        text = f"{ename}: {evalue}"
    elif isinstance(exc, KpitoolsError):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    lines = [" ".join(line.split()) for line in str(text).splitlines()]
    return "\n".join(line for line in lines if line)[:2000]


def _publish(staging: Path, final: Path) -> None:
    """Swap ``staging`` into ``final`` so that readers never see a half-written report."""
    final.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
        os.replace(final, old)
    try:
        os.replace(staging, final)
    except OSError:
        if old is not None:  # put the previous report back
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _record_failure(
    brand_dir: Path, result: RunResult, staging: Path | None, failing: Path | None = None
) -> None:
    """Keep the run's notebooks in ``_failed/``; ``failed_notebook`` names the one that failed."""
    failed_dir = brand_dir / "_failed"
    failed_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    name = f"{result.period or 'unknown'}-{stamp}"
    if staging is not None and staging.exists():
        for nb in staging.glob("*.ipynb"):
            target = failed_dir / f"{name}-{nb.name}"
            shutil.move(str(nb), target)
            if failing is None or nb.name == failing.name:
                result.failed_notebook = str(target)
        shutil.rmtree(staging, ignore_errors=True)
    write_json(
        failed_dir / "last.json",
        {"period": result.period, "error": result.error, "notebook": result.failed_notebook},
    )


def run_brand(
    params_path: str | os.PathLike,
    *,
    period: str | None = None,
    reports_dir: str | os.PathLike | None = None,
    notebooks_dir: str | os.PathLike | None = None,
    pdf: bool = True,
) -> RunResult:
    """Produce one brand's report folder; never raises for a bad brand, returns the failure.

    Parameters
    ----------
    params_path : path
        The brand's params file.
    period : str, optional
        ``YYYY-MM`` / ``YYYY-Qn`` / ``YYYY``; default from the params file or the data.
    reports_dir : path, optional
        Root of the published reports (default: ``reports/`` of the params file's
        :func:`project_dir`).
    notebooks_dir : path, optional
        Where the report notebooks live (default: :func:`default_notebooks_dir` of the
        params file's project).
    pdf : bool
        Render ``report.pdf`` too.

    Returns
    -------
    RunResult
    """
    t0 = time.perf_counter()
    params_path = Path(params_path).resolve()
    reports_dir = Path(reports_dir or default_reports_dir([params_path])).resolve()
    result = RunResult(params_path=str(params_path), slug=params_path.stem)
    brand_dir = reports_dir / result.slug
    staging = None
    out_nb = None  # the notebook being executed, for the failure record
    try:
        notebooks_dir = Path(
            notebooks_dir or default_notebooks_dir(project_dir(params_path))
        ).resolve()
        params = load_params(params_path)
        result.slug = params.slug
        brand_dir = reports_dir / params.slug
        # the checks of `kpitools validate` (one function, so they never disagree): a bad
        # source, a brand without rows, no period with data fail here, one line per problem
        problems = check_params_source(params)
        if problems:
            try:  # the period asked for, so that the index marks that report's run as failed
                asked = params.requested_period(period)
                result.period = asked.label if asked is not None else None
            except Exception:  # a bad period is reported by the run itself
                pass
            raise KpitoolsError("\n".join(str(pr) for pr in problems))
        with connect(params) as db:
            p = resolve_period(db, params, period)
            check_period_in_data(db, p)  # 2027-03: "the data cover 2024-01 to 2025-12"
            report_inputs = {stem: report_needs(stem, db) for stem in REPORT_TABLES}
        result.period = p.label
        staging = brand_dir / f".staging-{p.label}-{uuid.uuid4().hex[:8]}"
        staging.mkdir(parents=True)
        for i, name in enumerate(params.report.notebooks):
            nb = notebook_path(name, notebooks_dir, params_path)
            if not nb.is_file():
                raise KpitoolsError(f"{params_path.name}: report.notebooks: no notebook {nb}")
            stem = _output_stem(i, nb)
            if i and (needs := report_inputs.get(stem)):
                # nothing of it could be shown; the KPI report's page one says it is left out
                result.skipped[stem] = list(needs)
                continue
            out_nb = staging / f"{stem}.ipynb"
            pm.execute_notebook(
                str(nb),
                str(out_nb),
                parameters={
                    "params_path": str(params_path),
                    "period": p.label,
                    # the first notebook writes kpis.json, the others add their section
                    "kpis_path": str(staging / "kpis.json"),
                },
                cwd=str(nb.parent),
                progress_bar=False,
                log_output=False,
            )
            title = report_title(params.display_name, stem, p.label, params.locale)
            html = export_html(out_nb, staging / f"{stem}.html", title=title, lang=params.locale)
            result.outputs.append(html.name)
            if pdf:
                result.outputs.append(export_pdf(html, staging / f"{stem}.pdf").name)
            result.outputs.append(out_nb.name)
        if not (staging / "kpis.json").exists():
            raise KpitoolsError("the report notebook did not write kpis.json")
        final = brand_dir / p.label
        _publish(staging, final)
        result.report_dir = str(final)
        result.status = "ok"
        last = brand_dir / "_failed" / "last.json"
        if last.exists():
            last.unlink()
    except Exception as exc:  # one brand's failure must never stop the others
        result.error = _one_line(exc)
        if not isinstance(exc, KpitoolsError) and not getattr(exc, "ename", None):
            log.debug("unexpected failure for %s\n%s", params_path, traceback.format_exc())
        try:
            _record_failure(brand_dir, result, staging, out_nb)
        except OSError:  # pragma: no cover - disk full or similar
            log.warning("could not record the failure of %s", params_path)
    result.seconds = round(time.perf_counter() - t0, 2)
    return result


def quiet_third_party_loggers() -> None:
    """Keep the run's output to what a user needs: font subsetting and alt-text notes are noise."""
    for name in ("weasyprint", "fontTools", "traitlets", "papermill", "nbconvert"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _run_brand_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Worker entry point: one brand, its kernel's chatter sent to a log file, not the console."""
    quiet_third_party_loggers()  # a spawned worker does not inherit the CLI's logging setup
    logs = Path(kwargs["reports_dir"]) / "_logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{Path(kwargs['params_path']).stem}.log"
    with open(log_path, "w", encoding="utf-8") as fh:
        os.dup2(fh.fileno(), 2)  # the kernel subprocess inherits this stderr
        logging.basicConfig(stream=sys.stderr, level=logging.INFO, force=True)
        quiet_third_party_loggers()
        return asdict(run_brand(**kwargs))


def run_all(
    params_paths: Iterable[str | os.PathLike],
    *,
    period: str | None = None,
    reports_dir: str | os.PathLike | None = None,
    notebooks_dir: str | os.PathLike | None = None,
    jobs: int = 2,
    pdf: bool = True,
    progress: bool = True,
) -> list[RunResult]:
    """Run several brands in parallel (one process each), then rebuild ``reports/index.html``.

    Parameters
    ----------
    params_paths : iterable of path
        The brands' params files.
    period : str, optional
        As :func:`run_brand`, for every brand.
    reports_dir : path, optional
        Root of the published reports (default: :func:`default_reports_dir`, the
        ``reports/`` folder of the params files' project).
    notebooks_dir : path, optional
        Where the report notebooks live (default: :func:`default_notebooks_dir` of the params
        files' project, resolved once here so that every brand runs the same notebooks).
    jobs : int
        Brands run at once.
    pdf : bool
        Render ``report.pdf`` too.
    progress : bool
        Show a tqdm progress bar on stderr.

    Returns
    -------
    list of RunResult, in the order of ``params_paths``.

    Raises
    ------
    KpitoolsError
        When no notebooks folder is given and none is found, or no reports folder is given
        for params files of several projects (before any brand runs).
    """
    quiet_third_party_loggers()
    paths = [str(Path(p).resolve()) for p in params_paths]
    jobs = max(1, min(jobs, len(paths) or 1))
    reports_dir = Path(reports_dir or default_reports_dir(paths)).resolve()
    if notebooks_dir:
        notebooks = str(Path(notebooks_dir).resolve())
    else:
        projects = {project_dir(p) for p in paths}
        only = projects.pop() if len(projects) == 1 else None
        notebooks = str(default_notebooks_dir(only))
    kwargs = [
        {
            "params_path": p,
            "period": period,
            "reports_dir": str(reports_dir),
            "notebooks_dir": notebooks,
            "pdf": pdf,
        }
        for p in paths
    ]
    results: dict[int, RunResult] = {}
    bar = tqdm(total=len(paths), desc="reports", unit="brand", disable=not progress)
    # every brand runs in a spawned process (also with jobs=1): kernels, DuckDB handles and
    # stderr are never shared, and a crash of one brand cannot take the run down
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(_run_brand_kwargs, kw): i for i, kw in enumerate(kwargs)}
        for fut in as_completed(futures):
            i = futures[fut]
            try:
                results[i] = RunResult(**fut.result())
            except Exception as exc:  # a crashed worker process
                results[i] = RunResult(
                    params_path=paths[i], slug=Path(paths[i]).stem, error=_one_line(exc)
                )
            bar.set_postfix_str(f"{results[i].slug}: {results[i].status}")
            bar.update()
    bar.close()
    export_index(reports_dir)
    return [results[i] for i in range(len(paths))]
