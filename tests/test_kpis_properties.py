"""Catalogue-wide properties of every registered KPI, on random small tables.

Hypothesis draws a handful of rows for each canonical table (any of which may be absent),
with values of the right kind, NULLs where a column is nullable, timestamps spread around the
report's period in any order (a case may be "resolved" before it was opened), a few rows of
another brand, and unique keys. Whatever the data, a scorecard must:

- give every KPI the status ``ok``, ``no_data`` or ``not_available``, never raise;
- give no NaN or infinite value (for the period, the previous one, the year-ago one, the trend);
- keep every ``ratio`` within [0, 1] (a growth rate at -1 or more) and every ``count`` at 0
  or more.

Amounts, durations, reach, page views and other unbounded numbers are drawn non-negative and to
the thousandth (as they are in a CRM); bounded columns (NPS 0-10, CSAT 1-5, sentiment -1..1,
...) within their contract's bounds.
"""

from __future__ import annotations

import json
import math
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from helpers import make_db, write_params
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kpitools.catalogue import SIGNED_RATIOS, UNBOUNDED_RATIOS
from kpitools.data.sources import connect
from kpitools.kpis.compute import NO_DATA, NOT_AVAILABLE, OK, compute_kpis
from kpitools.kpis.registry import get_registry
from kpitools.params import load_params
from kpitools.schema import TABLES

# Report periods: March 2025 (month) or Q1 2025 (quarter); rows fall from a year and a half
# before (so that previous, year-ago and lapse-based segments see data) to just after.
PERIODS = {"month": "2025-03", "quarter": "2025-Q1"}
T_MIN, T_MAX = datetime(2023, 10, 1), datetime(2025, 4, 15)
MAX_ROWS = 8

_timestamps = st.one_of(
    # mostly the report's quarter and the months around it, sometimes anywhere in the span
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2025, 4, 5)),
    st.datetimes(min_value=datetime(2024, 2, 1), max_value=datetime(2024, 4, 1)),
    st.datetimes(min_value=T_MIN, max_value=T_MAX),
).map(lambda d: d.replace(microsecond=0))

_STRINGS = {
    "brand": st.sampled_from(["acme", "acme", "acme", "other"]),
    "product_line": st.sampled_from(["a", "b"]),
    "mentioned_brand": st.sampled_from(["acme", "rival"]),
    "list": st.sampled_from(["newsletter", "offers"]),
    "role": st.sampled_from(["sales", "service", "marketing"]),
    "acquisition_channel": st.sampled_from(["web", "store"]),
}


def _value_strategy(col):
    """Values for one canonical column, by kind, bounds and allowed values."""
    if col.isin:
        s = st.sampled_from(col.isin)
    elif col.kind == "string":
        s = _STRINGS.get(col.name, st.sampled_from(["x", "y"]))
    elif col.kind == "id":
        s = st.integers(1, 6)
    elif col.kind == "int":
        lo, hi = col.between or (0, 6)
        s = st.integers(int(lo), int(hi))
    elif col.kind == "float":
        lo, hi = col.between or (0, 500)
        # to the thousandth, as CRM amounts and durations are (no subnormal 5e-324 "revenue")
        s = st.floats(lo, min(hi, 500), allow_nan=False, allow_infinity=False).map(
            lambda x: round(x, 3)
        )
    elif col.kind == "boolean":
        s = st.booleans()
    elif col.kind == "timestamp":
        s = _timestamps
    else:  # pragma: no cover - a new kind needs a strategy here
        raise AssertionError(col.kind)
    return st.one_of(st.none(), s) if col.nullable else s


def _rows(table):
    row = st.fixed_dictionaries({c.name: _value_strategy(c) for c in table.columns})
    rows = st.lists(row, max_size=MAX_ROWS)

    def with_keys(rs):
        if len(table.key) == 1:  # a single-column key: 1, 2, 3, ...
            return [r | {table.key[0]: i} for i, r in enumerate(rs, start=1)]
        seen, out = set(), []
        for r in rs:
            k = tuple(r[c] for c in table.key)
            if k not in seen:
                seen.add(k)
                out.append(r)
        return out

    return rows.map(with_keys)


# every table is present (with 0..8 rows) two times out of three: a scorecard costs about 60 ms
# of query compilation per measure group whose tables are all present, so this keeps 25
# examples under 30 s, while a one-table group still gets data in about 16 of them and the
# three-table one in about 7
_tables = st.fixed_dictionaries(
    {name: st.one_of(st.none(), _rows(t), _rows(t)) for name, t in TABLES.items()}
).map(lambda d: {k: v for k, v in d.items() if v is not None})


def _problems(r, tables) -> list[str]:
    """What is wrong with one KPI's result (empty when nothing)."""
    k, out = r.kpi, []
    if r.status not in (OK, NO_DATA, NOT_AVAILABLE):
        out.append(f"status {r.status!r}")
    # not available exactly when a table it reads is absent, or an input column is empty
    # throughout (then the result names the columns)
    absent = any(t not in tables for t in k.tables)
    if (r.status == NOT_AVAILABLE) != (absent or bool(r.missing_columns)):
        out.append(f"status {r.status} with tables {sorted(tables)}")
    if r.missing_columns and r.status != NOT_AVAILABLE:
        out.append(f"status {r.status} with missing columns {r.missing_columns}")
    if (r.value is not None) != (r.status == OK):
        out.append(f"status {r.status} with value {r.value}")
    values = [("value", r.value), ("previous", r.previous), ("year_ago", r.year_ago)]
    for where, v in values + [(p.label, v) for p, v in r.trend]:
        if v is None:
            continue
        if not math.isfinite(v):
            out.append(f"{where} = {v}")
        elif k.unit == "ratio" and k.id in SIGNED_RATIOS:
            if v < -1.0 - 1e-12:  # a growth rate: a list cannot lose more than all of it
                out.append(f"{where}: growth rate {v} below -1")
        elif k.unit == "ratio" and k.id not in UNBOUNDED_RATIOS and not 0.0 <= v <= 1.0 + 1e-12:
            out.append(f"{where}: ratio {v} outside [0, 1]")
        elif k.unit == "count" and v < 0:
            out.append(f"{where}: negative count {v}")
    return [f"{k.id} ({k.unit}): {p}" for p in out]


# No shrinking: every example computes the whole scorecard (about a second), so shrinking a
# failure would take minutes; the failing tables (8 rows at most each) are printed as drawn,
# and every KPI that breaks a property is listed at once. One test per grain (13 examples
# each, 26 in all) so that pytest-xdist runs the two grains side by side.
@pytest.mark.parametrize("grain", sorted(PERIODS))
@settings(
    max_examples=13,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(tables=_tables)
def test_every_kpi_is_bounded_finite_and_never_crashes(tables, grain):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        db_path = make_db(tmp / "random.duckdb", tables)
        params = load_params(write_params(tmp / "acme.yaml", db_path, period={"grain": grain}))
        with connect(params) as db:
            sc = compute_kpis(db, params, PERIODS[grain])
    assert set(sc.results) == set(get_registry())
    problems = [p for r in sc for p in _problems(r, tables)]
    assert not problems, "\n".join(problems)
    text = json.dumps(sc.to_dict())
    assert "NaN" not in text and "Infinity" not in text
