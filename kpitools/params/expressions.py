"""SQL expressions in a params file's column mapping, checked with sqlglot (no database).

``source.tables.orders.columns.revenue: {expr: "montant_ht - remise"}`` is DuckDB SQL: one
scalar expression over the source table's columns (arithmetic, ``a || '-' || b``, ``CASE``,
casts, functions, and a window such as ``row_number() over ()``). A subquery, a second
statement, a table reference or an aggregate is refused.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

#: the dialect user expressions are written in
EXPR_DIALECT = "duckdb"


def parse_expression(text: str) -> exp.Expression:
    """The sqlglot tree of a column expression.

    Raises
    ------
    ValueError
        When ``text`` is not one scalar expression (a message for a params file).
    """
    if not text or not text.strip():
        raise ValueError("expr is empty")
    if ";" in text.replace("';'", ""):
        raise ValueError(f"expr {text!r}: one expression only (no ';')")
    try:
        tree = sqlglot.parse_one(text, read=EXPR_DIALECT, into=exp.Condition)
    except sqlglot.errors.ParseError as exc:
        first = str(exc).splitlines()[0]
        raise ValueError(f"expr {text!r} is not a valid SQL expression: {first}") from None
    for node in tree.walk():
        if isinstance(node, (exp.Query, exp.Subquery, exp.Table, exp.DDL, exp.DML)):
            raise ValueError(
                f"expr {text!r}: a single expression over the table's columns, "
                "without a subquery or a table"
            )
        if isinstance(node, exp.AggFunc) and not isinstance(node.parent, exp.Window):
            raise ValueError(
                f"expr {text!r}: an aggregate ({node.sql(EXPR_DIALECT)}) is not a value per row"
            )
        if isinstance(node, exp.Column) and node.table:
            raise ValueError(f"expr {text!r}: write column names without a table prefix")
        if isinstance(node, exp.Star):
            raise ValueError(f"expr {text!r}: '*' is not a value")
    return tree


def check_expression(text: str) -> None:
    """Raise ValueError unless ``text`` is one scalar SQL expression."""
    parse_expression(text)


def expression_columns(tree: exp.Expression) -> list[str]:
    """The source columns an expression reads, in order of appearance."""
    out: list[str] = []
    for node in tree.find_all(exp.Column):
        if node.name not in out:
            out.append(node.name)
    return out


__all__ = ["EXPR_DIALECT", "check_expression", "expression_columns", "parse_expression"]
