"""Propose a mapping of a user's tables onto the canonical model, and write it as a commented
params file: the second half of ``kpitools init`` (:mod:`kpitools.data.inspect` is the first).

Tables and columns are matched by name (synonyms in English, French and Italian, in
``synonyms.yaml`` beside this module) and by what the values are (a date column for a date,
a number for an amount). What a single-brand export cannot have is written in the mapping
language of :mod:`kpitools.params` (docs/params.md): the brand as ``source.brand``, one product
line as ``{value: all}``, an order number as the file's row (``{expr: "row_number() over ()"}``),
dates with their format, numbers with their decimal comma. Nothing is rewritten: the params file
says how to read the files as they are.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..schema import TABLES, Column, Table
from .inspect import ColumnProfile, Inventory, TableProfile, normalise

#: canonical kinds a source column of each kind can fill
_FITS = {
    "id": {"int", "string"},
    "string": {"string", "int", "boolean"},
    "int": {"int"},
    "float": {"float", "int"},
    "timestamp": {"timestamp"},
    "boolean": {"boolean", "int"},
}

#: tables ``init`` may propose from column names alone (no table name matched): those a
#: company's first export holds; any other table needs its name to match.
_BY_COLUMNS = ("orders", "customers")

ROW_NUMBER = "row_number() over ()"
ONE_LINE = "all"


@cache
def synonyms() -> dict[str, Any]:
    """The synonym lists (``tables`` and ``columns``, each by language)."""
    text = resources.files("kpitools.data").joinpath("synonyms.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _names(entry: dict[str, list[str]] | None) -> list[tuple[str, str]]:
    """(normalised name, language) pairs of one synonym entry, in priority order."""
    out: list[tuple[str, str]] = []
    for lang, names in (entry or {}).items():
        out += [(normalise(n), lang) for n in names]
    return out


def column_synonyms(table: str, column: str) -> list[tuple[str, str]]:
    """The names column ``table.column`` may have, first the canonical one (language ``""``)."""
    cols = synonyms()["columns"]
    return [(column, "")] + _names(cols.get(f"{table}.{column}")) + _names(cols.get(column))


def _same(a: str, b: str) -> bool:
    return a == b or a.replace("_", "") == b.replace("_", "")


def table_name_match(profile: TableProfile, table: str) -> str | None:
    """The language (``""`` for the canonical name) in which ``profile``'s name names
    canonical ``table``, or None. ``export_commandes_2025.csv`` names ``orders``."""
    name = normalise(profile.stem)
    tokens = name.split("_")
    for syn, lang in [(table, "")] + _names(synonyms()["tables"].get(table)):
        if (
            _same(name, syn)
            or (syn in tokens and len(syn) > 3)
            or ("_" in syn and f"_{syn}_" in f"_{name}_")
        ):
            return lang
    return None


@dataclass
class ColumnChoice:
    """How one canonical column is read: ``form`` is what goes under ``columns:`` (a source
    column name, or a mapping such as ``{value: all}``); ``note`` is the comment beside it."""

    form: str | dict[str, Any]
    note: str | None = None
    language: str | None = None
    source: str | None = None


@dataclass
class TableProposal:
    """A user's table proposed as canonical ``canonical``."""

    canonical: str
    profile: TableProfile
    columns: dict[str, ColumnChoice] = field(default_factory=dict)
    absent_optional: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    name_language: str | None = None
    date_format: str | None = None
    #: this file's own CSV keys (those not shared by every file, under source.csv)
    csv: dict[str, Any] = field(default_factory=dict)

    @property
    def needs_brand(self) -> bool:
        return "brand" not in self.columns


@dataclass
class Proposal:
    """The proposed mapping of a whole source."""

    inventory: Inventory
    tables: list[TableProposal]
    unmatched: list[tuple[TableProfile, str]] = field(default_factory=list)
    csv: dict[str, Any] = field(default_factory=dict)

    @property
    def languages(self) -> Counter:
        out: Counter = Counter()
        for t in self.tables:
            if t.name_language:
                out[t.name_language] += 1
            out.update(c.language for c in t.columns.values() if c.language)
        return out

    @property
    def locale(self) -> str:
        """The language the names are in: fr or it when they are French or Italian."""
        langs = self.languages
        foreign = [(n, lang) for lang, n in langs.items() if lang in ("fr", "it")]
        if foreign:
            n, lang = max(foreign)
            if n >= langs.get("en", 0):
                return lang
        return "en"

    @property
    def needs_brand(self) -> bool:
        return any(t.needs_brand for t in self.tables)

    def table(self, canonical: str) -> TableProposal | None:
        return next((t for t in self.tables if t.canonical == canonical), None)


def _fits(col: Column, prof: ColumnProfile) -> bool:
    return prof.kind in _FITS.get(col.kind, {prof.kind})


def _derived(spec: Table, col: Column) -> ColumnChoice | None:
    """The column a single-brand, single-line export does not have, written another way."""
    if col.name == "brand":
        return None  # source.brand
    if col.name == "product_line" and not col.nullable:
        return ColumnChoice(
            {"value": ONE_LINE},
            "no product line in the export: every row on one line, 'all'",
        )
    if spec.key == (col.name,) and col.kind == "id":
        what = "order" if spec.name == "orders" else "row"
        return ColumnChoice(
            {"expr": ROW_NUMBER},
            f"no {col.name} in the export: each line of the file is one {what}, numbered",
        )
    if col.nullable and not col.optional:
        return ColumnChoice({"value": None}, "not in the export")
    return None


def _required_unmatched(spec: Table, columns: dict[str, ColumnChoice]) -> list[str]:
    """Columns of ``spec`` that must come from the export and were not found."""
    out = []
    for col in spec.columns:
        if col.name in columns or col.optional:
            continue
        if _derived(spec, col) is None and col.name != "brand":
            out.append(col.name)
    return out


def match_columns(profile: TableProfile, table: str) -> dict[str, ColumnChoice]:
    """Canonical column → the user's column that names it (synonyms, first wins) and whose
    values fit its type. Each user column is taken once."""
    spec = TABLES[table]
    by_name = {normalise(c.name): c for c in profile.columns}
    taken: set[str] = set()
    out: dict[str, ColumnChoice] = {}
    for col in spec.columns:
        for syn, lang in column_synonyms(table, col.name):
            prof = next((p for n, p in by_name.items() if _same(n, syn)), None)
            if prof is None or prof.name in taken or not _fits(col, prof):
                continue
            taken.add(prof.name)
            out[col.name] = ColumnChoice(prof.name, language=lang or None, source=prof.name)
            break
    if profile.headerless:
        _match_by_kind(profile, spec, out, taken)
    return out


def _match_by_kind(
    profile: TableProfile, spec: Table, out: dict[str, ColumnChoice], taken: set[str]
) -> None:
    """A file without a header: the first free column of the right kind for each required
    column of the table, in the order of the file (an id, then a date, then an amount)."""
    for col in spec.columns:
        if col.name in out or col.optional or _derived(spec, col) is not None:
            continue
        if col.name == "brand":
            continue
        prof = next((p for p in profile.columns if p.name not in taken and _fits(col, p)), None)
        if prof is not None:
            taken.add(prof.name)
            out[col.name] = ColumnChoice(
                prof.name,
                "check: the file has no header; chosen by the type of its values",
                source=prof.name,
            )


def _score(profile: TableProfile, table: str) -> tuple[int, str | None, dict] | None:
    lang = table_name_match(profile, table)
    if lang is None and table not in _BY_COLUMNS:
        return None
    cols = match_columns(profile, table)
    if _required_unmatched(TABLES[table], cols):
        return None
    found = len(cols)
    return (found + (10 if lang is not None else 0), lang, cols)


def propose(inventory: Inventory) -> Proposal:
    """The mapping of ``inventory``'s tables onto the canonical tables.

    Each user table goes to the canonical table it names (synonyms) or, for orders and
    customers, whose required columns it holds; the best-scoring pairs first (a name match
    counts more than any number of columns). A table that fits nothing is listed with the
    reason in :attr:`Proposal.unmatched`.
    """
    scored = []
    for profile in inventory.tables:
        for table in TABLES:
            s = _score(profile, table)
            if s is not None:
                scored.append((s[0], profile.name, table, s[1], s[2], profile))
    scored.sort(key=lambda x: (-x[0], list(TABLES).index(x[2])))
    used_profiles: set[str] = set()
    used_tables: set[str] = set()
    chosen: list[TableProposal] = []
    for _, pname, table, lang, cols, profile in scored:
        if pname in used_profiles or table in used_tables:
            continue
        used_profiles.add(pname)
        used_tables.add(table)
        chosen.append(_complete(TableProposal(table, profile, cols, name_language=lang)))
    chosen.sort(key=lambda t: list(TABLES).index(t.canonical))
    unmatched = [(p, _why_not(p)) for p in inventory.tables if p.name not in used_profiles]
    proposal = Proposal(inventory, chosen, unmatched)
    _dialects(proposal)
    return proposal


def _why_not(profile: TableProfile) -> str:
    """Why a user table was left out: the closest canonical table and what it lacks."""
    best = None
    for table in TABLES:
        cols = match_columns(profile, table)
        missing = _required_unmatched(TABLES[table], cols)
        named = table_name_match(profile, table) is not None
        key = (named, len(cols) - len(missing))
        if best is None or key > best[0]:
            best = (key, table, missing, named)
    assert best is not None
    _, table, missing, named = best
    if named and missing:
        return f"looks like {table} but has no column for {', '.join(missing)}"
    return "matches no canonical table by its name or its columns"


def _complete(tp: TableProposal) -> TableProposal:
    spec = TABLES[tp.canonical]
    profile = tp.profile
    for col in spec.columns:
        if col.name in tp.columns or col.name == "brand":
            continue
        derived = _derived(spec, col)
        if derived is not None:
            tp.columns[col.name] = derived
        elif col.optional:
            tp.absent_optional.append(col.name)
    # dates: text read with a format. In a CSV the one text format of a file goes under its
    # csv.date_format (DuckDB then reads those columns as dates); a number such as 20251231,
    # a second format or a database's text column gets {column, format}.
    dated = []
    for name, choice in tp.columns.items():
        if choice.source is None or spec.column(name).kind != "timestamp":
            continue
        prof = profile.column(choice.source)
        if prof.text and prof.date_format:
            dated.append((choice, prof))
            if prof.ambiguous_date:
                choice.note = (
                    f"check: dates such as {prof.examples[0]} read day first and month "
                    f"first; read as {prof.date_format}"
                )
    text_formats = {p.date_format for _, p in dated if p.date_format != "%Y%m%d"}
    if profile.dialect is not None and len(text_formats) == 1:
        tp.date_format = text_formats.pop()
    for choice, prof in dated:
        if prof.date_format != tp.date_format:
            choice.form = {"column": prof.name, "format": prof.date_format}
    # numbers held as text outside a CSV (a database's text column, an Excel column of text
    # cells): the CSV dialect does not apply there, so the conversion is an expression
    if profile.dialect is None:
        for name, choice in tp.columns.items():
            kind = spec.column(name).kind
            if choice.source is None or kind not in ("float", "int"):
                continue
            prof = profile.column(choice.source)
            if prof.text and prof.kind in ("float", "int"):
                choice.form = {"expr": _number_expr(prof, kind)}
    used = {c.source for c in tp.columns.values() if c.source}
    tp.unused = [c.name for c in profile.columns if c.name not in used]
    _hints(tp)
    return tp


_DISCOUNT = {"discount", "discounts", "remise", "remises", "reduction", "sconto", "sconti"}
_GROSS = {"montant_ttc", "total_ttc", "ttc", "lordo", "importo_lordo", "gross", "gross_amount"}


def _hints(tp: TableProposal) -> None:
    if tp.canonical != "orders" or "revenue" not in tp.columns:
        return
    revenue = tp.columns["revenue"].source
    discount = next((c for c in tp.unused if normalise(c) in _DISCOUNT), None)
    if revenue and discount:
        tp.hints.append(
            f"a discount column {discount!r}: for net revenue write "
            f'revenue: {{expr: "{_ident(revenue)} - {_ident(discount)}"}}'
        )
    if revenue and normalise(revenue) in _GROSS:
        tp.columns[
            "revenue"
        ].note = "check: an amount including tax; revenue is net of tax where the export has it"


def _number_expr(prof: ColumnProfile, kind: str) -> str:
    """DuckDB SQL turning a text column such as ``1 234,50`` into a number."""
    text = _ident(prof.name)
    if prof.thousands:
        text = f"replace({text}, '{prof.thousands}', '')"
    if prof.decimal == ",":
        text = f"replace({text}, ',', '.')"
    return f"cast({text} AS {'DOUBLE' if kind == 'float' else 'BIGINT'})"


def _ident(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else '"' + name + '"'


def _dialects(proposal: Proposal) -> None:
    """The CSV dialect every file shares goes under ``source.csv``; a file's own under its
    table. Numbers: the decimal and thousands marks of the text number columns."""
    if proposal.inventory.kind != "csv":
        return
    per_table: dict[str, dict[str, Any]] = {}
    for tp in proposal.tables:
        d = tp.profile.dialect
        if d is None:  # an Excel sheet: its cells have types
            continue
        keys: dict[str, Any] = {
            "delimiter": d.delimiter,
            "encoding": d.encoding,
            "header": d.header,
        }
        marks = [
            tp.profile.column(c.source)
            for name, c in tp.columns.items()
            if c.source and TABLES[tp.canonical].column(name).kind in ("float", "int")
        ]
        decimal = {m.decimal for m in marks if m.text and m.decimal}
        thousands = {m.thousands for m in marks if m.text and m.thousands}
        if decimal == {","}:
            keys["decimal"] = ","
        if len(thousands) == 1:
            keys["thousands"] = thousands.pop()
        if tp.date_format:
            keys["date_format"] = tp.date_format
        per_table[tp.canonical] = {k: v for k, v in keys.items() if v is not None}
    if not per_table:
        return
    order = ["delimiter", "decimal", "thousands", "encoding", "header", "date_format"]
    shared = {}
    for key in order:
        values = [d.get(key, "<none>") for d in per_table.values()]
        if values and all(v == values[0] for v in values) and values[0] != "<none>":
            shared[key] = values[0]
    proposal.csv = shared
    for tp in proposal.tables:
        own = {k: v for k, v in per_table.get(tp.canonical, {}).items() if k not in shared}
        tp.csv = own


#: Share of rows repeating a customer and date above which an export is taken to hold order
#: lines (one row per product of a basket) rather than orders.
ORDER_LINES_SHARE = 0.05


def detect_order_lines(proposal: Proposal, table) -> None:
    """When the orders have no order number and many rows repeat a customer and a date (an
    export of order lines, one row per product), make the order a customer's purchases of
    the day: ``order_id: {expr: "customer || '-' || date"}``.

    ``table`` is the user's table as Ibis reads it (:func:`kpitools.data.inspect.read_profiled`);
    one aggregate query.
    """
    tp = proposal.table("orders")
    if tp is None:
        return
    oid, cust, when = (tp.columns.get(c) for c in ("order_id", "customer_id", "ordered_at"))
    if oid is None or oid.source is not None or cust is None or when is None:
        return
    if cust.source is None or when.source is None:
        return
    c, d = table[cust.source], table[when.source]
    row = (
        table.aggregate(
            rows=table.count(), keys=(c.cast("string") + "|" + d.cast("string")).nunique()
        )
        .execute()
        .iloc[0]
    )
    rows, keys = int(row["rows"] or 0), int(row["keys"] or 0)
    if rows == 0 or (rows - keys) / rows <= ORDER_LINES_SHARE:
        return
    expr = (
        f"CAST({_ident(cust.source)} AS VARCHAR) || '-' || CAST({_ident(when.source)} AS VARCHAR)"
    )
    oid.form = {"expr": expr}
    oid.note = (
        f"check: {rows:,} rows but {keys:,} customer-days: the export holds order lines, "
        "and an order is a customer's purchases of one day"
    )


# -- writing ------------------------------------------------------------------------------
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
_YAML_WORDS = {"yes", "no", "on", "off", "true", "false", "null", "y", "n", "~"}


def _scalar(value: Any) -> str:
    """A YAML scalar or flow mapping; text is double-quoted unless it is a plain word."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _YAML_WORDS and not _INTLIKE.fullmatch(text):
        return text
    return json.dumps(text, ensure_ascii=False)


_INTLIKE = re.compile(r"[-+]?[\d.e_]+")


def _line(indent: int, key: str, value: Any = None, comment: str | None = None) -> str:
    text = " " * indent + (f"{key}:" if value is None else f"{key}: {_scalar(value)}")
    return text + (f"  # {comment}" if comment else "")


def slug(text: str) -> str:
    """A brand id from a name: ``Maison Dupont`` → ``maison-dupont``."""
    return normalise(text).replace("_", "-") or "brand"


def render_params(
    proposal: Proposal,
    *,
    brand: str,
    name: str,
    locale: str,
    currency: str,
    source_location: str,
    written_by: str = "kpitools init",
    adds: Mapping[str, str] | None = None,
) -> str:
    """The params file of ``proposal``, as commented YAML text.

    Parameters
    ----------
    proposal : Proposal
    brand, name, locale, currency : str
        The brand's id, display name, report language and ISO 4217 currency code.
    source_location : str
        ``source.path`` (relative to the params file) or ``source.url``.
    adds : mapping, optional
        ``table.column`` → what an absent optional column would add (the KPIs that need it),
        for the comment beside it; from the KPI layer, which this module does not import.
    """
    inv = proposal.inventory
    today = dt.date.today().isoformat()
    out = [
        f"# {name}: params written by `{written_by}` on {today} from {inv.location}.",
        "# Every key is documented in docs/params.md; lines marked 'check' are guesses.",
        "# Next: kpitools validate <this file>, then kpitools run <this file>.",
        _line(0, "brand", brand),
        _line(0, "name", name),
        _line(0, "locale", locale, "report language: en, fr or it"),
        _line(0, "currency", currency, "ISO 4217 code of the amounts"),
        "period:",
        _line(
            2,
            "grain",
            "month",
            "month, quarter or year; the report is of the latest "
            "complete period unless current: is given",
        ),
        "source:",
    ]
    if inv.kind == "sql":
        out.append(_line(2, "kind", "sql"))
        out.append(_line(2, "url", source_location, "credentials as ${ENV_VAR}"))
    else:
        out.append(_line(2, "kind", inv.kind))
        where = "relative to this file"
        out.append(_line(2, "path", source_location, where))
    if proposal.needs_brand:
        out.append(
            _line(2, "brand", brand, "the export has no brand column: every row is this brand's")
        )
    if proposal.csv:
        out.append(_line(2, "csv", comment="how the files are written (found by kpitools init)"))
        for k, v in proposal.csv.items():
            out.append(_line(4, k, v))
    out.append("  tables:")
    for tp in proposal.tables:
        prof = tp.profile
        rows = f"{prof.rows:,} rows"
        out.append(_line(4, tp.canonical, comment=f"{rows}, from {prof.name}"))
        out.append(_line(6, "table", prof.name))
        own = tp.csv
        if own:
            out.append(_line(6, "csv"))
            for k, v in own.items():
                out.append(_line(8, k, v))
        out.append(_line(6, "columns"))
        spec = TABLES[tp.canonical]
        for col in spec.columns:
            choice = tp.columns.get(col.name)
            if choice is None:
                continue
            note = choice.note
            if note is None and choice.source is not None:
                p = prof.column(choice.source)
                note = "e.g. " + ", ".join(p.examples[:3]) if p.examples else None
            out.append(_line(8, col.name, choice.form, note))
        for absent in tp.absent_optional:
            what = (adds or {}).get(f"{tp.canonical}.{absent}")
            note = f"it would add {what}" if what else "optional"
            out.append(" " * 8 + f"# {absent}: not in the export ({note})")
        for hint in tp.hints:
            out.append(" " * 8 + f"# {hint}")
        if tp.unused:
            out.append(" " * 6 + "# not used: " + ", ".join(tp.unused))
    for prof, why in proposal.unmatched:
        out.append(f"# {prof.name} was left out: {why}")
    for skipped in inv.skipped:
        out.append(f"# not read: {skipped}")
    return "\n".join(out) + "\n"


def relative_path(target: Path, params_file: Path) -> str:
    """``target`` relative to the params file's folder (absolute when on another drive)."""
    import os

    try:
        return Path(os.path.relpath(target.resolve(), params_file.parent.resolve())).as_posix()
    except ValueError:
        return target.resolve().as_posix()
