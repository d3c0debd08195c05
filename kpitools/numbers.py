"""The numbers policy: what counts as a value, and how results are written to JSON.

A KPI, an estimate or a target is either a finite float or *missing* (``None``): NaN, NaT,
``pd.NA`` and infinities never reach a report or a ``kpis.json``. Every module that turns a
computed number into a result field goes through :func:`finite_or_none`; every JSON document
kpitools writes goes through :func:`write_json`.
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def finite_or_none(value: object) -> float | None:
    """``float(value)`` when it is a finite number, else ``None`` (None, NaN, inf, text)."""
    if value is None:
        return None
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def is_missing(value: object) -> bool:
    """True for None, NaN, NaT, ``pd.NA``, infinities and anything that is not a number."""
    return finite_or_none(value) is None


def json_safe(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by ``None``, tuples as lists, dates and
    times as ISO strings, enums as their values and NumPy scalars as Python numbers."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return str(obj) if isinstance(obj, enum.Enum) else obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, _dt.date | _dt.datetime | _dt.time):
        return obj.isoformat()
    if hasattr(obj, "item") and callable(obj.item):  # NumPy scalar
        return json_safe(obj.item())
    if hasattr(obj, "isoformat"):  # pandas Timestamp
        return obj.isoformat()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def write_json(path: str | os.PathLike, doc: Mapping[str, Any]) -> Path:
    """Write ``doc`` as indented UTF-8 JSON, atomically (a temporary file, then ``os.replace``).

    Non-finite numbers become ``null`` (:func:`json_safe`); the result is always valid JSON.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(
        json.dumps(json_safe(doc), indent=2, ensure_ascii=False, allow_nan=False),
        encoding="utf-8",
    )
    os.replace(tmp, out)
    return out


__all__ = ["finite_or_none", "is_missing", "json_safe", "write_json"]
