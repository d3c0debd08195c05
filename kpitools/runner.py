"""Run report notebooks with papermill, once per params file, in parallel, and publish.

For each params file: validate it, resolve the period, execute each report notebook into a
staging folder, render HTML (no code) and PDF, then *publish* it as the current report
``reports/<brand>/<period>/`` and keep its copy in ``reports/<brand>/<period>/runs/<run-id>/``
(:func:`kpitools.runs.publish_run`). A run that fails at any step leaves the last good report
untouched; its executed notebook (with the failing cell marked by papermill) is kept in
``reports/<brand>/_failed/`` with a one-line reason, and the other brands go on. Every attempt
is one line of ``reports/runs.jsonl``; the whole run holds ``reports/.lock``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from multiprocessing import get_context
from multiprocessing.connection import wait as wait_for
from pathlib import Path
from types import FrameType
from typing import Any

import papermill as pm
from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
from tqdm.auto import tqdm

from . import __version__
from .data.checks import check_period_in_data, connect_checked
from .data.provenance import table_freshness
from .errors import KpitoolsError, ReportsFolderError, out_of_memory_advice
from .kernels import DEFAULT_CELL_TIMEOUT, DEFAULT_RESTART_EVERY, WarmKernel
from .kpis.compute import latest_period, resolve_period
from .numbers import write_json
from .params import ReportParams, load_params
from .report.coverage import REPORT_TABLES, report_needs
from .report.export import export_html, export_index, export_pdf, report_title
from .runs import (
    ReportsLock,
    RunRecord,
    append_run,
    data_fingerprint,
    file_sha256,
    kpitools_commit,
    new_run_id,
    os_error_line,
    publish_run,
    recover_reports,
    relative_to,
    utc_now,
)

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


#: ``--period last-complete``: the latest complete period of each brand's data, whatever its
#: params file's ``period.current`` says (for unattended monthly runs)
LAST_COMPLETE = "last-complete"


class RunInterrupted(KpitoolsError):
    """A SIGTERM (or SIGINT) stopped the run; the last good reports are kept.

    ``results`` holds the brands' results when the run recorded them before stopping.
    """

    def __init__(self, message: str, results: list | None = None) -> None:
        self.results = list(results or [])
        super().__init__(message)


@dataclass
class RunResult:
    """Outcome of one brand's run (the fields of its :class:`kpitools.runs.RunRecord` line)."""

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
    run_id: str = ""
    batch_id: str = ""
    run_dir: str | None = None
    params_sha256: str | None = None
    name: str | None = None
    locale: str | None = None
    grain: str | None = None
    data_fingerprint: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    #: output stem → ok, failed or skipped
    notebooks: dict[str, str] = field(default_factory=dict)
    log: str | None = None
    headline: dict[str, Any] | None = None
    objectives: dict[str, int] | None = None
    warnings: list[str] = field(default_factory=list)

    def to_record(self, reports_dir: Path) -> RunRecord:
        """The ``runs.jsonl`` line of this attempt; paths relative to ``reports_dir``."""

        def rel(path: str | None) -> str | None:
            return relative_to(path, reports_dir) if path else None

        return RunRecord(
            run_id=self.run_id,
            batch_id=self.batch_id,
            params_file=relative_to(self.params_path, reports_dir.parent),
            params_sha256=self.params_sha256,
            brand=self.slug,
            name=self.name,
            locale=self.locale,
            period=self.period,
            grain=self.grain,
            data_fingerprint=self.data_fingerprint,
            kpitools_version=__version__,
            kpitools_commit=kpitools_commit(),
            started_at=self.started_at,
            ended_at=self.ended_at,
            seconds=self.seconds,
            status=self.status,
            notebooks=dict(self.notebooks),
            error=self.error.splitlines()[0] if self.error else None,
            report_dir=rel(self.report_dir),
            run_dir=rel(self.run_dir),
            outputs=[rel(str(Path(self.report_dir) / o)) or o for o in self.outputs]
            if self.report_dir
            else [],
            failed_notebook=rel(self.failed_notebook),
            log=rel(self.log),
            headline=self.headline,
            objectives=self.objectives,
            warnings=list(self.warnings),
        )


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
    text = out_of_memory_advice(str(text))
    lines = [" ".join(line.split()) for line in str(text).splitlines()]
    return "\n".join(line for line in lines if line)[:2000]


#: set by the worker's SIGTERM handler while a publish is under way (it then finishes first)
_CRITICAL = {"publishing": False, "terminated": False}


def _record_failure(
    brand_dir: Path, result: RunResult, staging: Path | None, failing: Path | None = None
) -> None:
    """Keep the run's notebooks in ``_failed/``; ``failed_notebook`` names the one that failed
    (none when the failure was not a notebook's: a full disk, a kill, a check)."""
    failed_dir = brand_dir / "_failed"
    failed_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    name = f"{result.period or 'unknown'}-{stamp}"
    if staging is not None and staging.exists():
        for nb in staging.glob("*.ipynb"):
            target = failed_dir / f"{name}-{nb.name}"
            shutil.move(str(nb), target)
            if failing is not None and nb.name == failing.name:
                result.failed_notebook = str(target)
        shutil.rmtree(staging, ignore_errors=True)
    write_json(
        failed_dir / "last.json",
        {
            "period": result.period,
            "error": result.error,
            "notebook": result.failed_notebook,
            "run_id": result.run_id,
        },
    )


_ERRNO_TEXT = re.compile(r"\[Errno (\d+)\] ([^:']+)(?:: '([^']*)')?")


def _disk_error(exc: BaseException) -> OSError | None:
    """The OSError of a full disk or an unwritable folder met by a notebook's kernel (papermill
    reports it as ``ename``/``evalue``), else None."""
    if getattr(exc, "ename", None) not in ("OSError", "PermissionError"):
        return None
    m = _ERRNO_TEXT.search(str(getattr(exc, "evalue", "")))
    if m is None or int(m[1]) not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
        return None
    return OSError(int(m[1]), m[2], m[3])


def _summary(folder: Path, headline: list[str]) -> tuple[dict[str, Any], dict[str, int] | None]:
    """The headline KPIs' values and the objectives' counts of a published ``kpis.json``."""
    try:
        doc = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, None
    kpis = doc.get("kpis") or {}
    values = {h: (kpis.get(h) or {}).get("value") for h in headline if h in kpis}
    counts = (doc.get("objectives") or {}).get("counts")
    return values, dict(counts) if isinstance(counts, dict) else None


def run_brand(
    params_path: str | os.PathLike,
    *,
    period: str | None = None,
    reports_dir: str | os.PathLike | None = None,
    notebooks_dir: str | os.PathLike | None = None,
    pdf: bool = True,
    run_id: str | None = None,
    batch_id: str | None = None,
    keep_runs: int | None = None,
    parent_pid: int | None = None,
    cell_timeout: float | None = None,
    kernel: WarmKernel | None = None,
) -> RunResult:
    """Produce one brand's report folder; never raises for a bad brand, returns the failure.

    Call it under the reports lock (:func:`run_all` holds it).

    Parameters
    ----------
    params_path : path
        The brand's params file.
    period : str, optional
        ``YYYY-MM`` / ``YYYY-Qn`` / ``YYYY``, or ``last-complete`` (the latest complete period
        of the data, whatever ``period.current`` says); default from the params file or the
        data.
    reports_dir : path, optional
        Root of the published reports (default: ``reports/`` of the params file's
        :func:`project_dir`).
    notebooks_dir : path, optional
        Where the report notebooks live (default: :func:`default_notebooks_dir` of the
        params file's project).
    pdf : bool
        Render ``report.pdf`` too.
    run_id, batch_id : str, optional
        This attempt and its ``kpitools run`` (default: new ids).
    keep_runs : int, optional
        Run copies kept per period (default: the params' ``report.keep_runs``).
    parent_pid : int, optional
        The ``kpitools run`` process: when it is gone (killed) the report is not published.
    cell_timeout : float, optional
        Seconds a notebook cell may run (papermill's ``execution_timeout``); over it the
        kernel is stopped and the brand fails "cell N of <notebook> ran over S s". Default:
        no limit.
    kernel : WarmKernel, optional
        Run the notebooks in this warm kernel (made clean before each) instead of a fresh
        kernel per notebook.

    Returns
    -------
    RunResult
    """
    t0 = time.perf_counter()
    started = utc_now()
    if kernel is not None:
        kernel.begin_brand()
    params_path = Path(params_path).resolve()
    reports_dir = Path(reports_dir or default_reports_dir([params_path])).resolve()
    result = RunResult(
        params_path=str(params_path),
        slug=params_path.stem,
        run_id=run_id or new_run_id(started),
        batch_id=batch_id or "",
        started_at=started.isoformat(),
        params_sha256=file_sha256(params_path) if params_path.is_file() else None,
    )
    result.batch_id = result.batch_id or result.run_id
    brand_dir = reports_dir / result.slug
    staging = None
    out_nb = None  # the notebook being executed, for the failure record
    try:
        notebooks_dir = Path(
            notebooks_dir or default_notebooks_dir(project_dir(params_path))
        ).resolve()
        params = load_params(params_path)
        result.slug = params.slug
        result.name = params.display_name
        result.locale = params.locale
        result.grain = params.period.grain
        brand_dir = reports_dir / params.slug
        asked_text = None if period == LAST_COMPLETE else period
        # the checks of `kpitools validate` (one function, so they never disagree): a bad
        # source, a brand without rows, no period with data fail here, one line per problem
        checked, problems = connect_checked(params)
        if problems:
            try:  # the period asked for, so that the index marks that report's run as failed
                asked = params.requested_period(asked_text) if period != LAST_COMPLETE else None
                result.period = asked.label if asked is not None else None
            except Exception:  # a bad period is reported by the run itself
                pass
            raise KpitoolsError("\n".join(str(pr) for pr in problems))
        assert checked is not None
        with checked as db:  # the checked source: its table scans are not run again
            if period == LAST_COMPLETE:
                p = latest_period(db, params.period.grain)
            else:
                p = resolve_period(db, params, period)
            result.period = p.label
            check_period_in_data(db, p)  # 2027-03: "the data cover 2024-01 to 2025-12"
            report_inputs = {stem: report_needs(stem, db) for stem in REPORT_TABLES}
            result.data_fingerprint = data_fingerprint(table_freshness(db))
        result.period = p.label
        staging = brand_dir / f".staging-{p.label}-{result.run_id}"
        staging.mkdir(parents=True)
        for i, name in enumerate(params.report.notebooks):
            nb = notebook_path(name, notebooks_dir, params_path)
            if not nb.is_file():
                raise KpitoolsError(f"{params_path.name}: report.notebooks: no notebook {nb}")
            stem = _output_stem(i, nb)
            if i and (needs := report_inputs.get(stem)):
                # nothing of it could be shown; the KPI report's page one says it is left out
                result.skipped[stem] = list(needs)
                result.notebooks[stem] = "skipped"
                continue
            out_nb = staging / f"{stem}.ipynb"
            result.notebooks[stem] = "failed"
            executed = _execute_notebook(
                nb,
                out_nb,
                kernel=kernel,
                cell_timeout=cell_timeout,
                parameters={
                    "params_path": str(params_path),
                    "period": p.label,
                    # the first notebook writes kpis.json, the others add their section
                    "kpis_path": str(staging / "kpis.json"),
                    "run_id": result.run_id,
                    "run_started_at": result.started_at,
                },
            )
            title = report_title(params.display_name, stem, p.label, params.locale)
            # the notebook papermill returns is the one it wrote: not read back and validated
            html = export_html(executed, staging / f"{stem}.html", title=title, lang=params.locale)
            result.outputs.append(html.name)
            if pdf:
                result.outputs.append(export_pdf(html, staging / f"{stem}.pdf").name)
            result.outputs.append(out_nb.name)
            result.notebooks[stem] = "ok"
        out_nb = None  # every notebook ran: a failure from here on is not a notebook's
        # the campaign analysis the KPI report shared with the campaign-ROI notebook is not
        # part of the report (left behind when that notebook was skipped or failed)
        shutil.rmtree(staging / ".shared", ignore_errors=True)
        if not (staging / "kpis.json").exists():
            raise KpitoolsError("the report notebook did not write kpis.json")
        result.outputs.append("kpis.json")
        if parent_pid is not None and os.getppid() != parent_pid:
            raise RunInterrupted("the kpitools run that started this brand is gone: not published")
        final = brand_dir / p.label
        keep = keep_runs if keep_runs is not None else params.report.keep_runs
        _CRITICAL["publishing"] = True  # a SIGTERM now waits for the swap to finish
        try:
            kept = publish_run(staging, final, result.run_id, keep_runs=keep)
        finally:
            _CRITICAL["publishing"] = False
        staging = None
        result.report_dir = str(final)
        result.run_dir = str(kept)
        result.status = "ok"
        result.headline, result.objectives = _summary(final, list(params.report.headline))
        try:
            prov = json.loads((final / "kpis.json").read_text(encoding="utf-8"))
            result.warnings += list((prov.get("provenance") or {}).get("warnings") or [])
        except (OSError, ValueError):
            pass
        last = brand_dir / "_failed" / "last.json"
        if last.exists():
            last.unlink()
    except Exception as exc:  # one brand's failure must never stop the others
        if result.status == "ok":  # published; interrupted while reading its summary
            result.warnings.append(_one_line(exc))
        elif isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
            result.error = os_error_line(exc, reports_dir)  # disk full, read-only, …
            out_nb = None  # not the notebook's fault
        elif (disk := _disk_error(exc)) is not None:  # raised inside a notebook's kernel
            result.error = os_error_line(disk, reports_dir)
            out_nb = None
        else:
            result.error = _one_line(exc)
        if isinstance(exc, RunInterrupted):
            out_nb = None
        if not isinstance(exc, KpitoolsError) and not getattr(exc, "ename", None):
            log.debug("unexpected failure for %s\n%s", params_path, traceback.format_exc())
        if result.status != "ok":
            try:
                _record_failure(brand_dir, result, staging, out_nb)
            except OSError:  # disk full or similar: the one line above says why
                log.warning("could not record the failure of %s", params_path)
    result.ended_at = utc_now().isoformat()
    result.seconds = round(time.perf_counter() - t0, 2)
    if _CRITICAL["terminated"] and result.status == "ok":
        result.warnings.append("SIGTERM received while publishing: published, then stopped")
    return result


class _SparseSaves(NotebookExecutionManager):
    """papermill's execution manager, saving the output notebook less often.

    papermill writes the whole notebook (figures included) at the start and the end of every
    cell: about 160 writes and 1.4 CPU-s a brand. This one writes it when the notebook starts
    and ends, when a cell fails, and while cells run at most every ``autosave_cell_every``
    seconds (papermill's own throttle, 30 s by default), so a hung or killed notebook still
    shows how far it got.
    """

    _quiet = False

    def save(self, **kwargs: Any) -> None:
        if not self._quiet:
            super().save(**kwargs)

    def _without_save(self, method: Any, *args: Any, **kwargs: Any) -> None:
        self._quiet = True
        try:
            method(*args, **kwargs)
        finally:
            self._quiet = False
        self.autosave_cell()

    def cell_start(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        self._without_save(super().cell_start, cell, cell_index, **kwargs)

    def cell_complete(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        self._without_save(super().cell_complete, cell, cell_index, **kwargs)

    def cell_exception(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        super().cell_exception(cell, cell_index, **kwargs)
        self.save()


class _Engine(NBClientEngine):
    """papermill's nbclient engine with :class:`_SparseSaves` (registered as ``kpitools``)."""

    @classmethod
    def execute_notebook(  # type: ignore[override]
        cls,
        nb: Any,
        kernel_name: str,
        output_path: str | None = None,
        progress_bar: bool = True,
        log_output: bool = False,
        autosave_cell_every: int = 30,
        **kwargs: Any,
    ) -> Any:
        nb_man = _SparseSaves(
            nb,
            output_path=output_path,
            progress_bar=progress_bar,
            log_output=log_output,
            autosave_cell_every=autosave_cell_every,
        )
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb


papermill_engines.register("kpitools", _Engine)


def _execute_notebook(
    nb: Path,
    out_nb: Path,
    *,
    parameters: dict[str, Any],
    kernel: WarmKernel | None,
    cell_timeout: float | None,
) -> Any:
    """Run one notebook with papermill, in ``kernel`` when given (else a fresh kernel).

    Returns the executed notebook (``nbformat.NotebookNode``), as written to ``out_nb``.

    A cell over ``cell_timeout`` seconds or a dead kernel is a :class:`KpitoolsError` naming
    the cell (its position in ``nb``, 1-based, the injected parameters not counted); the warm
    kernel is then killed and replaced before its next notebook. A SIGTERM while a warm
    kernel runs a cell kills the kernel at once and raises :class:`RunInterrupted`.
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    at: dict[str, Any] = {"index": 0, "injected": 0, "terminated": None}

    def on_term(signum: int) -> None:  # nbclient's own handler would wait for the cell
        _CRITICAL["terminated"] = True
        at["terminated"] = signal.Signals(signum).name
        if kernel is not None:
            kernel.kill()

    def on_cell_start(cell: Any, cell_index: int) -> None:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            at["injected"] += 1
        at["index"] = cell_index + 1 - at["injected"]
        if kernel is not None and cell_index == 0:
            import asyncio

            try:  # replaces nbclient's handler for this notebook (it removes it at the end)
                asyncio.get_event_loop().add_signal_handler(signal.SIGTERM, on_term, signal.SIGTERM)
            except (RuntimeError, ValueError):  # not the main thread
                pass

    extra: dict[str, Any] = {}
    if kernel is not None:
        extra["km"] = kernel.prepare(nb.parent)
    try:
        executed = pm.execute_notebook(
            str(nb),
            str(out_nb),
            parameters=parameters,
            cwd=str(nb.parent),
            progress_bar=False,
            log_output=False,
            execution_timeout=cell_timeout,
            on_cell_start=on_cell_start,
            engine_name="kpitools",
            **extra,
        )
    except CellTimeoutError:
        if kernel is not None:
            kernel.kill()  # the cell may still be running: never reuse that kernel
        raise KpitoolsError(
            f"cell {at['index']} of {nb.name} ran over {cell_timeout:g} s"
        ) from None
    except DeadKernelError:
        if at["terminated"]:
            raise RunInterrupted(f"interrupted by {at['terminated']}") from None
        if kernel is not None:
            kernel.needs_restart = True
        again = ": a new kernel runs the next brand" if kernel is not None else ""
        raise KpitoolsError(
            f"the kernel died while running cell {at['index']} of {nb.name}{again}"
        ) from None
    except Exception:
        if at["terminated"]:
            raise RunInterrupted(f"interrupted by {at['terminated']}") from None
        raise
    finally:
        if kernel is not None:
            kernel.release_clients()
            # nbclient removes its loop's SIGTERM handler, which leaves the default (die)
            signal.signal(signal.SIGTERM, _worker_sigterm)
    if at["terminated"]:
        raise RunInterrupted(f"interrupted by {at['terminated']}")
    return executed


def quiet_third_party_loggers() -> None:
    """Keep the run's output to what a user needs: font subsetting and alt-text notes are noise."""
    for name in ("weasyprint", "fontTools", "traitlets", "papermill", "nbconvert"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _die_with_parent() -> None:
    """Linux: this process gets SIGTERM when its parent dies (even by SIGKILL)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError, TypeError):  # pragma: no cover - not Linux
        pass


def _worker_sigterm(signum: int, frame: FrameType | None) -> None:
    """A worker stopped by SIGTERM: fail the brand (its kernel is shut down on the way out),
    unless it is publishing, which finishes first (a swap is never left half-done)."""
    _CRITICAL["terminated"] = True
    if not _CRITICAL["publishing"]:
        raise RunInterrupted(f"interrupted by {signal.Signals(signum).name}")


def _run_brand_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Worker entry point: one brand, its kernel's chatter sent to a log file, not the console."""
    quiet_third_party_loggers()  # a spawned worker does not inherit the CLI's logging setup
    log_path = Path(kwargs["reports_dir"]) / "_logs" / f"{Path(kwargs['params_path']).stem}.log"
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - kept open for the kernel
    except OSError:
        fh = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
        log_path = None  # type: ignore[assignment]
    with fh:
        os.dup2(fh.fileno(), 2)  # the kernel subprocess inherits this stderr
        logging.basicConfig(stream=sys.stderr, level=logging.INFO, force=True)
        quiet_third_party_loggers()
        out = asdict(run_brand(**kwargs))
    out["log"] = str(log_path) if log_path else None
    return out


def _worker_main(kwargs: dict[str, Any], conn: Any) -> None:
    """A spawned worker: dies with its parent, fails its brand on SIGTERM, sends the result."""
    _die_with_parent()
    signal.signal(signal.SIGTERM, _worker_sigterm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    try:
        out = _run_brand_kwargs(kwargs)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as the brand's error
        out = {
            "params_path": kwargs["params_path"],
            "slug": Path(kwargs["params_path"]).stem,
            "run_id": kwargs.get("run_id", ""),
            "error": _one_line(exc),
        }
    try:
        conn.send(out)
    finally:
        conn.close()


def _result(doc: dict[str, Any]) -> RunResult:
    known = {f.name for f in fields(RunResult)}
    return RunResult(**{k: v for k, v in doc.items() if k in known})


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise RunInterrupted(f"interrupted by {signal.Signals(signum).name}")


def _died(kw: dict[str, Any], code: int | None) -> dict[str, Any]:
    """The result of a brand whose worker process died (killed, out of memory)."""
    why = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    return {
        "params_path": kw["params_path"],
        "slug": Path(kw["params_path"]).stem,
        "run_id": kw["run_id"],
        "error": f"the brand's worker process died ({why})",
    }


def _pool(
    kwargs: list[dict[str, Any]], jobs: int, bar: Any
) -> tuple[dict[int, RunResult], str | None]:
    """Run each brand in its own spawned process, ``jobs`` at once.

    On SIGTERM/SIGINT (the handler raises :class:`RunInterrupted`) no brand is started, the
    running workers get SIGTERM (each fails its brand, its kernel shut down; one publishing
    finishes the swap first) and are waited for; the rest are killed after 60 s.

    Returns
    -------
    (results by index, the interruption's message or None)
    """
    ctx = get_context("spawn")
    pending = list(range(len(kwargs)))
    running: dict[int, tuple[Any, Any]] = {}
    results: dict[int, RunResult] = {}
    interrupted: str | None = None

    def collect(i: int, block: float = 0.0) -> bool:
        proc, conn = running[i]
        got = None
        try:
            if conn.poll(block):
                got = conn.recv()
        except (EOFError, OSError):
            got = None
        if got is None and proc.is_alive():
            return False
        proc.join(timeout=30)
        if got is None:
            got = _died(kwargs[i], proc.exitcode)
        conn.close()
        results[i] = _result(got)
        del running[i]
        bar.set_postfix_str(f"{results[i].slug}: {results[i].status}")
        bar.update()
        return True

    try:
        while pending or running:
            while pending and len(running) < jobs:
                i = pending.pop(0)
                reader, writer = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_worker_main, args=(kwargs[i], writer))
                proc.start()
                writer.close()
                running[i] = (proc, reader)
            handles = [h for proc, conn in running.values() for h in (conn, proc.sentinel)]
            wait_for(handles, timeout=5)
            for i in list(running):
                collect(i)
    except RunInterrupted as exc:
        interrupted = str(exc)
        previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one: we are on it
        try:
            for proc, _ in running.values():
                proc.terminate()
            deadline = time.monotonic() + 60
            while running and time.monotonic() < deadline:
                for i in list(running):
                    collect(i, block=0.2)
            for i in list(running):
                running[i][0].kill()
                collect(i, block=5)
        finally:
            signal.signal(signal.SIGTERM, previous)
    return results, interrupted


def _warm_pool(
    kwargs: list[dict[str, Any]], jobs: int, bar: Any, restart_every: int
) -> tuple[dict[int, RunResult], str | None]:
    """Run the brands in ``jobs`` long-lived warm workers (:func:`warm_worker_main`).

    Each idle worker is sent the next brand; a worker that dies (killed, out of memory)
    fails the brand it ran ("the brand's worker process died (signal 9)") and is replaced
    while brands remain. On SIGTERM/SIGINT as :func:`_pool`: no brand is sent, the busy
    workers get SIGTERM (a worker in a notebook kills its kernel at once and fails the brand
    "interrupted by SIGTERM"; one publishing finishes the swap first) and are waited for
    (60 s, then killed).

    Returns
    -------
    (results by index, the interruption's message or None)
    """
    ctx = get_context("spawn")
    reports_dir = kwargs[0]["reports_dir"] if kwargs else ""
    pending = list(range(len(kwargs)))
    results: dict[int, RunResult] = {}
    interrupted: str | None = None
    #: worker number → [process, connection, brand index or None]
    workers: dict[int, list[Any]] = {}
    numbers = iter(range(1, 1_000_000))
    deaths = {"idle": 0}

    def start_worker() -> None:
        number = next(numbers)
        parent_end, child_end = ctx.Pipe(duplex=True)
        proc = ctx.Process(
            target=warm_worker_main, args=(child_end, number, reports_dir, restart_every)
        )
        proc.start()
        child_end.close()
        workers[number] = [proc, parent_end, None]

    def finish(number: int, got: dict[str, Any] | None) -> None:
        proc, conn, i = workers[number]
        if i is None:
            return
        if got is None:
            proc.join(timeout=30)
            got = _died(kwargs[i], proc.exitcode)
        results[i] = _result(got)
        workers[number][2] = None
        bar.set_postfix_str(f"{results[i].slug}: {results[i].status}")
        bar.update()

    def collect(number: int, block: float = 0.0) -> None:
        proc, conn, i = workers[number]
        got = None
        try:
            if conn.poll(block):
                got = conn.recv()
        except (EOFError, OSError):
            got = None
        if got is not None:
            finish(number, got)
            return
        if proc.is_alive():
            return
        if i is None:
            deaths["idle"] += 1
        finish(number, None)
        conn.close()
        proc.join(timeout=5)
        del workers[number]

    try:
        for _ in range(min(jobs, len(pending))):
            start_worker()
        while pending or any(w[2] is not None for w in workers.values()):
            while len(workers) < min(
                jobs, len(pending) + sum(w[2] is not None for w in workers.values())
            ):
                if deaths["idle"] > 3 * jobs:
                    raise KpitoolsError("the warm workers keep dying before any brand")
                start_worker()
            for number, (_proc, conn, i) in list(workers.items()):
                if i is None and pending:
                    j = pending.pop(0)
                    try:
                        conn.send(kwargs[j])
                        workers[number][2] = j
                    except (OSError, ValueError):
                        pending.insert(0, j)
            handles = [h for proc, conn, _ in workers.values() for h in (conn, proc.sentinel)]
            wait_for(handles, timeout=5)
            for number in list(workers):
                collect(number)
    except RunInterrupted as exc:
        interrupted = str(exc)
        previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one: we are on it
        try:
            for proc, _, _ in workers.values():
                proc.terminate()
            deadline = time.monotonic() + 60
            while any(w[2] is not None for w in workers.values()) and (time.monotonic() < deadline):
                for number in list(workers):
                    collect(number, block=0.2)
            for number in list(workers):
                workers[number][0].kill()
                collect(number, block=5)
        finally:
            signal.signal(signal.SIGTERM, previous)
    finally:
        for _proc, conn, _ in workers.values():
            try:
                conn.send(None)
            except (OSError, ValueError):
                pass
        for proc, conn, _ in workers.values():
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
            conn.close()
    return results, interrupted


def run_all(
    params_paths: Iterable[str | os.PathLike],
    *,
    period: str | None = None,
    reports_dir: str | os.PathLike | None = None,
    notebooks_dir: str | os.PathLike | None = None,
    jobs: int = 2,
    pdf: bool = True,
    progress: bool = True,
    keep_runs: int | None = None,
    wait: float = 0.0,
    warm: bool = True,
    cell_timeout: float | None = DEFAULT_CELL_TIMEOUT,
    restart_every: int = DEFAULT_RESTART_EVERY,
    shard: tuple[int, int] | None = None,
) -> list[RunResult]:
    """Run several brands in parallel (warm workers), record them, rebuild the index.

    Under the reports folder's lock (``reports/.lock``): repair what a killed run left
    (:func:`kpitools.runs.recover_reports`), run the brands, append one line per brand to
    ``reports/runs.jsonl``, rebuild ``reports/index.html``. A SIGTERM or SIGINT stops the
    workers (see :func:`_pool`), records the brands as failed or skipped, rebuilds the index,
    then raises :class:`RunInterrupted`.

    Parameters
    ----------
    params_paths : iterable of path
        The brands' params files.
    period : str, optional
        As :func:`run_brand` (``last-complete`` included), for every brand.
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
    keep_runs : int, optional
        Run copies kept per period, for every brand (default: each params'
        ``report.keep_runs``).
    wait : float
        Seconds to wait for another run's lock before giving up.
    warm : bool
        ``jobs`` long-lived workers, each running brand after brand in one warm kernel
        (:func:`_warm_pool`); False: one process per brand and a fresh kernel per notebook
        (``kpitools run --cold``).
    cell_timeout : float, optional
        Seconds a notebook cell may run (None: no limit).
    restart_every : int
        Brands a warm kernel runs before it is restarted.
    shard : (int, int), optional
        These params files are shard ``(I, N)`` of a ``--shard`` run (:func:`select_shard`):
        the reports folder is shared with the other shards (its lock held shared, only these
        brands repaired), so the shards of one folder run at the same time.

    Returns
    -------
    list of RunResult, in the order of ``params_paths``.

    Raises
    ------
    KpitoolsError
        When no notebooks folder is given and none is found, or no reports folder is given
        for params files of several projects (before any brand runs);
        :class:`~kpitools.errors.RunLockedError` when another run holds the lock;
        :class:`~kpitools.errors.ReportsFolderError` when the reports folder cannot be
        written; :class:`RunInterrupted` after a SIGTERM (the results are in its ``results``).
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
    batch_id = new_run_id()
    kwargs = [
        {
            "params_path": p,
            "period": period,
            "reports_dir": str(reports_dir),
            "notebooks_dir": notebooks,
            "pdf": pdf,
            "run_id": new_run_id(),
            "batch_id": batch_id,
            "keep_runs": keep_runs,
            "parent_pid": os.getpid(),
            "cell_timeout": cell_timeout,
        }
        for p in paths
    ]
    with ReportsLock(reports_dir, wait=wait, shard=shard):
        try:
            notes = recover_reports(reports_dir, _slugs(paths) if shard else None)
            (reports_dir / "_logs").mkdir(exist_ok=True)
        except OSError as exc:
            raise ReportsFolderError(os_error_line(exc, reports_dir)) from None
        for note in notes:
            log.warning("recovered: %s", note)
        bar = tqdm(total=len(paths), desc="reports", unit="brand", disable=not progress)
        handlers = {}
        try:
            for sig in (signal.SIGTERM, signal.SIGINT):
                handlers[sig] = signal.signal(sig, _on_signal)
        except ValueError:  # not the main thread: no signal handling
            pass
        try:
            if warm:
                results, interrupted = _warm_pool(kwargs, jobs, bar, restart_every)
            else:
                results, interrupted = _pool(kwargs, jobs, bar)
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            bar.close()
        for i, kw in enumerate(kwargs):
            if i not in results:
                results[i] = RunResult(
                    params_path=paths[i],
                    slug=Path(paths[i]).stem,
                    status="skipped",
                    error=f"not started: {interrupted}",
                    run_id=str(kw["run_id"]),
                )
        ordered = [results[i] for i in range(len(paths))]
        for r in ordered:
            r.batch_id = batch_id
            r.started_at = r.started_at or utc_now().isoformat()
            r.ended_at = r.ended_at or utc_now().isoformat()
            r.warnings += [n for n in notes if n.split("/")[0].split(":")[0] == r.slug]
        problems = _record(reports_dir, ordered)
    if problems:
        raise ReportsFolderError(problems[0], ordered)
    if interrupted:
        raise RunInterrupted(interrupted, ordered)
    return ordered


def _slugs(paths: Iterable[str]) -> list[str]:
    """The brand folders of these params files (the file name when a file does not load)."""
    out = []
    for p in paths:
        try:
            out.append(load_params(p).slug)
        except Exception:  # noqa: BLE001 - its run fails with the reason; its folder is the stem
            out.append(Path(p).stem)
    return out


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` → ``(2, 4)``: shard I (1-based) of N.

    Raises
    ------
    KpitoolsError
        ``--shard 3/2: I must be between 1 and N`` and the like.
    """
    head, sep, tail = text.partition("/")
    try:
        i, n = int(head), int(tail)
    except ValueError:
        raise KpitoolsError(f"--shard {text}: write it I/N, e.g. 1/4") from None
    if not sep or n < 1:
        raise KpitoolsError(f"--shard {text}: write it I/N with N at least 1, e.g. 1/4")
    if not 1 <= i <= n:
        raise KpitoolsError(f"--shard {text}: I must be between 1 and N")
    return i, n


def shard_of(params_path: str | os.PathLike, count: int) -> int:
    """The shard (1-based, of ``count``) a params file belongs to.

    ``sha256`` of the file's name without ``.yaml`` (``aurora``), as a number, modulo
    ``count``, plus 1: it depends on that name alone, so adding or removing a brand never
    moves another one to a different shard, and every machine computes the same split.
    """
    digest = hashlib.sha256(Path(params_path).stem.encode("utf-8")).hexdigest()
    return int(digest, 16) % count + 1


def select_shard(paths: Iterable[str | os.PathLike], shard: tuple[int, int]) -> list[str]:
    """The params files of shard ``(I, N)`` (:func:`shard_of`), in their order."""
    i, n = shard
    return [str(p) for p in paths if shard_of(p, n) == i]


def rebuild_index(reports_dir: str | os.PathLike, *, wait: float = 0.0) -> Path:
    """Rebuild ``reports/index.html`` from whatever is published there (every shard's brands).

    Takes the reports lock (waits ``wait`` seconds for it) so that it never reads a
    half-published report.

    Raises
    ------
    RunLockedError
        When a run holds the lock longer than ``wait``.
    ReportsFolderError
        When the folder is missing or the index cannot be written.
    """
    folder = Path(reports_dir).resolve()
    if not folder.is_dir():
        raise ReportsFolderError(f"{folder}: no reports folder")
    with ReportsLock(folder, wait=wait):
        try:
            return Path(export_index(folder))
        except OSError as exc:
            raise ReportsFolderError(os_error_line(exc, folder)) from None


def _record(reports_dir: Path, results: list[RunResult]) -> list[str]:
    """Append the attempts to ``runs.jsonl`` and rebuild the index; the problems, one line
    each (a full disk, a read-only folder), never an exception."""
    problems = []
    try:
        for r in results:
            append_run(reports_dir, r.to_record(reports_dir))
    except OSError as exc:
        problems.append(os_error_line(exc, reports_dir))
    try:
        export_index(reports_dir)
    except OSError as exc:
        problems.append(os_error_line(exc, reports_dir))
    return problems


# -- warm workers -----------------------------------------------------------------------------


def _open_log(path: Path | None, mode: str = "a") -> Any:
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return open(path, mode, encoding="utf-8")  # noqa: SIM115 - caller closes
        except OSError:
            pass
    return open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115


def warm_worker_main(
    conn: Any,
    number: int,
    reports_dir: str,
    restart_every: int,
) -> None:
    """A warm worker: brands from ``conn`` one after another in one kernel, results back.

    Dies with its parent; a SIGTERM fails the brand under way (a publish finishes first) and
    stops the worker. Each brand's log is ``reports/_logs/<params stem>.log``; the worker's
    own and its kernel's go to ``reports/_logs/worker-<number>.log``, with one line per brand.
    """
    _die_with_parent()
    signal.signal(signal.SIGTERM, _worker_sigterm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    quiet_third_party_loggers()
    worker_log = Path(reports_dir) / "_logs" / f"worker-{number}.log"
    wfh = _open_log(worker_log, "w")
    os.dup2(wfh.fileno(), 2)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, force=True)
    quiet_third_party_loggers()
    kernel = WarmKernel(restart_every=restart_every, log_file=worker_log)
    try:
        try:
            kernel.start()  # before the first brand arrives: it benefits too
        except Exception as exc:  # noqa: BLE001 - retried for each brand, which fails with it
            log.warning("warm kernel: %s", exc)
        while not _CRITICAL["terminated"]:
            try:
                kwargs = conn.recv()
            except (EOFError, OSError):
                break
            if kwargs is None:
                break
            out = _one_brand(kwargs, kernel, wfh)
            conn.send(out)
    except RunInterrupted:
        pass
    finally:
        kernel.shutdown()
        try:
            conn.close()
        finally:
            wfh.close()


def _one_brand(kwargs: dict[str, Any], kernel: WarmKernel, wfh: Any) -> dict[str, Any]:
    """Run one brand with its stderr and logging sent to its own log file."""
    stem = Path(kwargs["params_path"]).stem
    log_path: Path | None = Path(kwargs["reports_dir"]) / "_logs" / f"{stem}.log"
    fh = _open_log(log_path, "w")
    if fh.name == os.devnull:
        log_path = None
    print(f"{time.strftime('%H:%M:%S')} brand {stem} run {kwargs.get('run_id')}", file=wfh)
    wfh.flush()
    try:
        os.dup2(fh.fileno(), 2)
        logging.basicConfig(stream=sys.stderr, level=logging.INFO, force=True)
        quiet_third_party_loggers()
        log.info(
            "warm worker %s, kernel pid %s (brand %s of this kernel; its own output: %s)",
            os.getpid(),
            kernel.pid,
            kernel.brands + 1,
            wfh.name,
        )
        try:
            out = asdict(run_brand(**kwargs, kernel=kernel))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent as the brand's
            out = {
                "params_path": kwargs["params_path"],
                "slug": stem,
                "run_id": kwargs.get("run_id", ""),
                "error": _one_line(exc),
            }
    finally:
        sys.stderr.flush()
        os.dup2(wfh.fileno(), 2)
        fh.close()
    out["log"] = str(log_path) if log_path else None
    print(f"{time.strftime('%H:%M:%S')} brand {stem}: {out.get('status')}", file=wfh)
    wfh.flush()
    return out
