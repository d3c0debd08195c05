"""Compiled SQL reused across the brands of one process that share a schema.

Ibis turns an expression into SQL in two steps (the expression to sqlglot, sqlglot to a
string) that cost about 14 ms a query at demo size: some 100 queries, 1.5 CPU seconds, per
brand. A warm worker (``kpitools run``) runs brand after brand whose queries differ, if at
all, only in their literals (brand filter, period dates). :func:`install_compile_cache`
wraps a connection's ``compile`` so that a query compiled once is not compiled again by
any connection of the same backend in the same process.

The key is the expression with each bound table (``DatabaseTable``: name, schema,
namespace *and* the connection) replaced by the unbound table of the same name, schema and
namespace (a temporary table of ``Table.cache()``, whose name is random, by its place in the
query, the name put back in the SQL handed out; a self-join's reference, whose number counts
every self-join the process made, by its order in the query), so two connections to two files with the same tables share their SQL, and any
difference that changes the SQL (a literal, a column, a type, a table's schema) makes a
different key. Queries over in-memory tables (``ibis.memtable``: a new name each time) and
queries with scalar parameters are compiled as before, and never kept. The cache holds SQL
strings and expression keys (no data, no connection), at most :data:`MAX_ENTRIES` of them,
least recently used first out; ``KPITOOLS_COMPILE_CACHE=off`` turns it off.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import ibis.expr.operations as ops

#: compiled queries kept per process (a brand asks about 100; a dozen schemas fit)
MAX_ENTRIES = 2048

_cache: OrderedDict[tuple, str] = OrderedDict()
_lock = threading.Lock()
#: ``hits`` and ``misses`` since the process started (or :func:`clear_compile_cache`)
stats = {"hits": 0, "misses": 0, "uncached": 0}


class _Uncacheable(Exception):
    """The expression reads an in-memory table: its SQL names a table made for it alone."""


#: the prefix of the temporary tables ``Table.cache()`` makes (a new random name each time)
CACHED_PREFIX = "ibis_cached_"


def compile_key(expr: Any) -> tuple[Any, dict[str, str]]:
    """The expression's operation with every bound table unbound (connection left out).

    A temporary table of ``Table.cache()`` (a random name) is keyed by its place instead:
    the second item maps its name to the placeholder the key uses, in the order met.
    Raises ``_Uncacheable`` for an expression over an in-memory table.
    """
    names: dict[str, str] = {}
    selves: dict[int, int] = {}

    def unbind(node: Any, kwargs: dict | None) -> Any:
        if isinstance(node, ops.InMemoryTable):
            raise _Uncacheable
        if isinstance(node, ops.SelfReference):
            # a self-join's reference carries a process-wide counter: numbered in order met
            kwargs = dict(kwargs or {n: getattr(node, n) for n in node.__argnames__})
            kwargs["identifier"] = selves.setdefault(node.identifier, len(selves))
            return node.__recreate__(kwargs)
        if isinstance(node, ops.DatabaseTable):
            name = node.name
            if name.startswith(CACHED_PREFIX):
                name = names.setdefault(name, f"{CACHED_PREFIX}kpitools_{len(names)}_")
            return ops.UnboundTable(name=name, schema=node.schema, namespace=node.namespace)
        return node.__recreate__(kwargs) if kwargs else node

    return expr.op().replace(unbind), names


def _swap(sql: str, names: dict[str, str], *, to_placeholder: bool) -> str:
    for real, placeholder in names.items():
        sql = sql.replace(real, placeholder) if to_placeholder else sql.replace(placeholder, real)
    return sql


def enabled() -> bool:
    """False when ``KPITOOLS_COMPILE_CACHE`` is ``off`` (or ``0``, ``false``, ``no``)."""
    return os.environ.get("KPITOOLS_COMPILE_CACHE", "on").strip().lower() not in {
        "off",
        "0",
        "false",
        "no",
    }


def install_compile_cache(con: Any) -> Any:
    """Make ``con.compile`` reuse the SQL this process already compiled for the same query.

    Only for Ibis' SQL backends (they have a ``compiler``); any other connection is returned
    unchanged. Installing twice is harmless.

    Parameters
    ----------
    con : ibis.BaseBackend
        An open connection; its ``compile`` method is wrapped in place.

    Returns
    -------
    ibis.BaseBackend
        ``con`` itself.
    """
    if getattr(con, "compiler", None) is None or getattr(con, "_kpitools_compile_cache", False):
        return con
    original: Callable[..., str] = con.compile
    backend = (type(con).__module__, type(con).__qualname__, str(getattr(con, "dialect", "")))

    def cached_compile(
        expr: Any, /, *, limit: Any = None, params: Any = None, **kwargs: Any
    ) -> str:
        if params or not enabled():
            stats["uncached"] += 1
            return original(expr, limit=limit, params=params, **kwargs)
        try:
            op, names = compile_key(expr)
            key = (backend, op, limit, tuple(sorted(kwargs.items())))
            hash(key)
        except Exception:  # an in-memory table, or an operation that cannot be a key
            stats["uncached"] += 1
            return original(expr, limit=limit, **kwargs)
        with _lock:
            template = _cache.get(key)
            if template is not None:
                _cache.move_to_end(key)
                stats["hits"] += 1
                return _swap(template, names, to_placeholder=False)
        sql = original(expr, limit=limit, **kwargs)
        with _lock:
            stats["misses"] += 1
            _cache[key] = _swap(sql, names, to_placeholder=True)
            while len(_cache) > MAX_ENTRIES:
                _cache.popitem(last=False)
        return sql

    con.compile = cached_compile
    con._kpitools_compile_cache = True
    return con


def clear_compile_cache() -> None:
    """Forget every compiled query and reset :data:`stats` (tests, benchmarks)."""
    with _lock:
        _cache.clear()
        for k in stats:
            stats[k] = 0
