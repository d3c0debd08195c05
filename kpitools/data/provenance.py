"""Provenance of a report: what it was made from, by which kpitools, in which run.

Computed by a notebook cell (:func:`compute_provenance`: one aggregate query per table), shown
on the report's last page (:func:`kpitools.report.notebook.show_footer`) and written to
``kpis.json`` under ``provenance``; the runner records the same data fingerprint in
``reports/runs.jsonl``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..params import BrandParams
from ..runs import data_fingerprint, file_sha256, kpitools_commit, utc_now
from ..schema import TABLES
from .sources import Database


@dataclass
class Provenance:
    """Where a report's numbers come from.

    Attributes
    ----------
    params_file : str
        The params file's name (never a local absolute path).
    params_sha256 : str or None
        sha256 of its bytes.
    source : str
        The data source without credentials or local absolute paths (:func:`source_label`).
    tables : dict
        Per canonical table present: ``rows`` (the brand's rows) and ``latest`` (ISO date-time
        of its time column's maximum, the data's freshness; None without one).
    data_fingerprint : str
        sha256 over (table, rows, latest).
    kpitools_version, kpitools_commit : str
        The package version; ``git describe`` of the checkout when run from one.
    run_id : str or None
        The ``kpitools run`` attempt (None when a notebook is run by hand).
    started_at, ended_at : str
        ISO 8601 (UTC): the run's start, and when this report's numbers were finished.
    warnings : list of str
    """

    params_file: str
    params_sha256: str | None
    source: str
    tables: dict[str, dict[str, Any]]
    data_fingerprint: str
    kpitools_version: str
    kpitools_commit: str | None
    run_id: str | None
    started_at: str
    ended_at: str
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def source_label(params: BrandParams) -> str:
    """The data source for readers: ``scheme://host/db`` for SQL (no user, password or query),
    a file or folder path relative to the params file when under its project, else its name.
    """
    src = params.source
    if src.kind == "sql" or (src.kind == "spark" and not src.path):  # a server, a catalog
        return src.redacted()
    path = Path(src.path or "")
    full = path if path.is_absolute() else Path(params.base_dir) / path
    base = Path(params.base_dir).resolve()
    project = base.parent if base.name == "params" else base
    try:
        full.resolve().relative_to(project)
        shown = os.path.relpath(full.resolve(), base)
    except ValueError:
        shown = full.name
    return f"{src.kind}:{Path(shown).as_posix()}"


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def table_freshness(db: Database) -> dict[str, dict[str, Any]]:
    """Rows and the latest time-column value of each canonical table the source has.

    On the brand's (and product lines') rows, in one ``UNION ALL`` query per type of time
    column (the values come back exactly as one query per table would give them). Computed
    once per :class:`~kpitools.data.sources.Database`: the campaign analysis key, the
    provenance and the runner's fingerprint of one notebook read the same data.
    """
    cached = db.memo.get("table_freshness")
    if cached is not None:
        return {name: dict(d) for name, d in cached.items()}
    import ibis

    parts: dict[str, list[Any]] = {}
    for name in db.available_tables:
        t = db.table(name)
        col = TABLES[name].time_column
        if col and col in t.columns:
            agg = t.aggregate(rows=t.count(), latest=t[col].max())
            key = str(t[col].type())
        else:
            agg = t.aggregate(rows=t.count())
            key = ""
        parts.setdefault(key, []).append(agg.mutate(table=ibis.literal(name)))
    found: dict[str, dict[str, Any]] = {}
    for key, aggs in parts.items():
        frame = (aggs[0] if len(aggs) == 1 else ibis.union(*aggs, distinct=False)).execute()
        for row in frame.to_dict("records"):
            latest = _iso(row["latest"]) if key else None
            found[row["table"]] = {"rows": int(row["rows"]), "latest": latest}
    out = {name: found[name] for name in db.available_tables}
    db.memo["table_freshness"] = out
    return {name: dict(d) for name, d in out.items()}


def compute_provenance(
    params: BrandParams,
    db: Database,
    *,
    params_path: str | os.PathLike | None = None,
    run_id: str | None = None,
    started_at: str | None = None,
    warnings: list[str] | None = None,
) -> Provenance:
    """The provenance of a report made now from ``params`` and ``db``.

    Parameters
    ----------
    params : BrandParams
    db : Database
        The brand's open source (read for row counts and freshness).
    params_path : path, optional
        The params file (default: ``params.origin``).
    run_id, started_at : str, optional
        Set by ``kpitools run`` (papermill parameters); by hand: None and now.
    warnings : list of str, optional
        Warnings of the run; tables the source lacks are added.
    """
    path = Path(params_path or params.origin)
    fresh = table_freshness(db)
    notes = list(warnings or [])
    notes += [f"table {n}: absent from the data source" for n in db.missing_tables]
    notes += [f"table {n}: no rows for this brand" for n, d in fresh.items() if not d["rows"]]
    now = utc_now().isoformat()
    return Provenance(
        params_file=path.name,
        params_sha256=file_sha256(path),
        source=source_label(params),
        tables=fresh,
        data_fingerprint=data_fingerprint(fresh),
        kpitools_version=__version__,
        kpitools_commit=kpitools_commit(),
        run_id=run_id,
        started_at=started_at or now,
        ended_at=now,
        warnings=notes,
    )


def local_time(iso: str | None) -> str:
    """``2026-12-02 06:30 UTC`` from an ISO date-time with a UTC offset, ``2025-12-31 22:42``
    from one without (the data's own clock); as given when it does not parse."""
    if not iso:
        return "–"
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return when.strftime("%Y-%m-%d %H:%M") + (" UTC" if when.utcoffset() is not None else "")


__all__ = ["Provenance", "compute_provenance", "source_label", "table_freshness"]
