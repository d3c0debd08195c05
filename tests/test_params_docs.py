"""docs/params.md documents every key a params file can hold.

The keys are read from the pydantic models (:class:`kpitools.params.BrandParams` and every
model nested in it, through lists, dicts and optionals): a key is its dotted path, list items
being transparent (``objectives.strategies.metrics.kpi``) and a dict's keys a placeholder
(``source.tables.<table>.columns``). A key is documented when docs/params.md names its full
path in backticks, or names its last part in backticks in a section (a ``#`` heading to the
next) that names its parent's path in backticks; a key made of other keys is documented by
them. Fields excluded from the model's dump
(``base_dir``, ``origin``: set by the loader, not written in a file) are not keys.
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path

from pydantic import BaseModel

from kpitools.params import BrandParams

DOC = Path(__file__).resolve().parent.parent / "docs" / "params.md"

#: the placeholder of a dict's keys, by the dict's field name
PLACEHOLDERS = {"tables": "<table>"}


def _models_in(annotation: object) -> list[tuple[type[BaseModel], bool]]:
    """The models an annotation holds, each with whether it sits behind a dict's keys."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, False)]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _models_in(args[0])
    if origin in (dict, typing.Dict):  # noqa: UP006 - both spellings
        return [(m, True) for m, _ in _models_in(args[1])]
    if origin in (list, tuple, set, typing.Union, types.UnionType) or args:
        return [pair for a in args for pair in _models_in(a)]
    return []


def params_keys(model: type[BaseModel] = BrandParams, prefix: str = "") -> list[str]:
    """Dotted paths of every field of ``model`` and of the models nested in it."""
    keys = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        path = f"{prefix}{name}"
        keys.append(path)
        for sub, keyed in _models_in(field.annotation):
            inner = f"{path}.{PLACEHOLDERS.get(name, '<key>')}." if keyed else f"{path}."
            keys.extend(params_keys(sub, inner))
    return list(dict.fromkeys(keys))


def _sections(text: str) -> list[str]:
    return re.split(r"^#+ ", text, flags=re.MULTILINE)


def undocumented(keys: list[str], text: str) -> list[str]:
    """The keys ``text`` does not document; a key made of others (``period``,
    ``objectives.target``) is documented by its own keys, each checked."""
    sections = _sections(text)
    missing = []
    for key in keys:
        if any(k.startswith(f"{key}.") for k in keys) or f"`{key}`" in text:
            continue
        parent, _, leaf = key.rpartition(".")
        if parent and any(f"`{parent}`" in s and f"`{leaf}`" in s for s in sections):
            continue
        missing.append(key)
    return missing


def test_the_walk_finds_nested_keys():
    keys = params_keys()
    for key in (
        "brand",
        "period.grain",
        "source.tables.<table>.columns",
        "settings.lapse_days",
        "roi.method",
        "clv.horizon_months",
        "report.breakdown_kpis",
        "objectives.baseline.date",
        "objectives.strategies.metrics.target.min",
        "objectives.strategies.metrics.tolerance",
    ):
        assert key in keys
    assert "base_dir" not in keys and "origin" not in keys
    assert undocumented(["roi.nonexistent_key"], DOC.read_text(encoding="utf-8")) == [
        "roi.nonexistent_key"
    ]


def test_docs_params_md_names_every_params_key():
    missing = undocumented(params_keys(), DOC.read_text(encoding="utf-8"))
    assert not missing, "docs/params.md does not document: " + ", ".join(missing)
