"""Write the demo database: the table families in their fixed order, into a file that appears
only when complete."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb
import numpy as np

from . import adoption, campaigns, customers, engagement, perception, sales, service, truth
from .generator import DemoGenerator


def _run(gen: DemoGenerator) -> dict[str, int]:
    """Every table, in the order that fixes the random streams (changing it changes the data)."""
    customers.customers(gen)
    customers.purchase_process(gen)
    adoption.crm_users(gen)
    campaigns.campaigns(gen)
    customers.orders(gen)
    sales.leads(gen)
    sales.opportunities(gen)
    sales.activities(gen)
    service.cases_and_calls(gen)
    perception.surveys(gen)
    engagement.web_sessions(gen)
    engagement.subscriptions(gen)
    engagement.referrals(gen)
    perception.social_mentions(gen)
    truth.truth_brands(gen)
    truth.truth_customer_lives(gen)
    return gen.rows


def _remove(*paths: str) -> None:
    for p in paths:
        if os.path.exists(p):
            os.remove(p)


def generate_demo(
    path: str | os.PathLike,
    *,
    customers: int = 20_000,
    seed: int = 42,
    start: str = "2024-01-01",
    months: int = 24,
    progress: bool = False,
) -> dict:
    """Write the demo CRM database with planted ground truth to a DuckDB file.

    The file is written to ``path + ".tmp"`` and moved over ``path`` only when complete, so a
    crash never leaves a half-written database (a stale ``.tmp`` is removed first).

    Parameters
    ----------
    path : str or os.PathLike
        DuckDB file to write; parent directories are created; an existing file is replaced.
    customers : int, default 20 000
        Number of customers over all brands (at least 100). Orders are about ten times more;
        every other table is at most twice the number of customers.
    seed : int, default 42
        Seed of :func:`numpy.random.default_rng`; the same seed gives identical tables.
    start : str, default "2024-01-01"
        First day of the span (must be the first day of a month).
    months : int, default 24
        Length of the span in calendar months (at least 12).
    progress : bool, default False
        Print one line per table written (with elapsed seconds) to standard error.

    Returns
    -------
    dict
        ``path``, ``customers``, ``seed``, ``start``, ``end`` (exclusive, ISO date), ``rows``
        (table name -> row count, truth tables included) and ``seconds`` (wall time).

    Raises
    ------
    ValueError
        If ``customers`` < 100, ``months`` < 12 or ``start`` is not the first day of a month.
    """
    if int(customers) < 100:
        raise ValueError(f"customers must be at least 100, got {customers}")
    if int(months) < 12:
        raise ValueError(f"months must be at least 12, got {months}")
    t0 = time.perf_counter()
    path = os.fspath(path)
    tmp = path + ".tmp"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    _remove(tmp, tmp + ".wal")
    try:
        con = duckdb.connect(tmp)
        try:
            con.execute("SET preserve_insertion_order = true")
            con.execute("SET enable_progress_bar = false")
            gen = DemoGenerator(con, customers, seed, start, months, progress)
            rows = _run(gen)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        _remove(path + ".wal")
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp, tmp + ".wal")
        raise
    end = np.datetime64(gen.T_END, "s").astype("datetime64[D]")
    seconds = round(time.perf_counter() - t0, 2)
    gen.log(f"done: {path}")
    return {
        "path": path,
        "customers": int(customers),
        "seed": int(seed),
        "start": str(np.datetime64(gen.T0, "s").astype("datetime64[D]")),
        "end": str(end),
        "rows": dict(rows),
        "seconds": seconds,
    }
