"""kpitools on real public purchase histories, read from the user's raw exports as they are.

Two datasets shipped inside packages of the package index (see :mod:`realdata`): CDNOW (CD
purchases, 1997-1998; as an English CSV and as a French-style ``;`` / decimal-comma / latin-1
export) and Ta-Feng (a supermarket's line items, 2000-2001; the shipped CSV as is). Each export
is read through a params file written by hand (``realdata.*_params``) and the KPIs are compared
with a pandas computation on the raw file: revenue to 1e-6 relative, counts exactly.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import realdata as rd

from kpitools.data import connect
from kpitools.kpis.compute import compute_kpis
from kpitools.params import load_params

#: Each test reads tens of thousands of real rows (Ta-Feng: 817,741): out of the fast suite.
pytestmark = pytest.mark.slow

#: The KPIs compared with the pandas reference (:func:`realdata.monthly_reference`).
COMPARED = ("revenue", "new_customers", "active_customers", "repeat_purchase_rate")

#: What each dataset allows: the KPIs computed (status ok or no_data) from orders alone.
ORDERS_ONLY_KPIS = {
    "active_customers",
    "churn_rate",
    "customer_tenure_days",
    "lapsed_customers",
    "loyal_customers",
    "new_customer_revenue",
    "new_customers",
    "repeat_purchase_rate",
    "retention_rate",
    "revenue",
}
#: Those not available because the export has no cost (named as such, never computed as 0).
COST_KPIS = {"avg_margin_per_customer", "average_clv", "customer_equity"}
#: Not available with a single product line (it was 0 by construction).
ONE_LINE_KPIS = {"cross_sell_value"}


class Dataset:
    """One export: its folder, params file and the pandas reference of its raw file."""

    def __init__(self, root: Path, params: Path, reference: pd.DataFrame) -> None:
        self.root, self.params, self.reference = root, params, reference


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory) -> Dataset:
    root = tmp_path_factory.mktemp("cdnow")
    rd.write_cdnow_export(root / "export")
    return Dataset(root, rd.cdnow_params(root), rd.monthly_reference(rd.read_cdnow_raw()))


@pytest.fixture(scope="module")
def cdnow_fr(tmp_path_factory) -> Dataset:
    root = tmp_path_factory.mktemp("cdnow_fr")
    path = rd.write_cdnow_french(root / "export")
    ref = rd.monthly_reference(rd.read_cdnow_french_raw(path))
    return Dataset(root, rd.cdnow_french_params(root), ref)


@pytest.fixture(scope="module")
def tafeng(tmp_path_factory) -> Dataset:
    root = tmp_path_factory.mktemp("tafeng")
    rd.write_tafeng_export(root / "export")
    return Dataset(root, rd.tafeng_params(root), rd.monthly_reference(rd.read_tafeng_raw()))


def _init(root: Path, *args: str) -> Path:
    """``kpitools init`` on ``root/export``: the params file it writes (no edit)."""
    from click.testing import CliRunner

    from kpitools.cli import main

    out = root / "params" / "init.yaml"
    result = CliRunner().invoke(main, ["init", str(root / "export"), "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def cdnow_init(cdnow) -> Dataset:
    return Dataset(cdnow.root, _init(cdnow.root, "--currency", "USD"), cdnow.reference)


@pytest.fixture(scope="module")
def cdnow_fr_init(cdnow_fr) -> Dataset:
    return Dataset(cdnow_fr.root, _init(cdnow_fr.root, "--currency", "USD"), cdnow_fr.reference)


@pytest.fixture(scope="module")
def tafeng_init(tafeng) -> Dataset:
    return Dataset(tafeng.root, _init(tafeng.root, "--currency", "TWD"), tafeng.reference)


# -- the raw files ------------------------------------------------------------------------------


def test_cdnow_raw_file_is_the_published_one():
    df = rd.read_cdnow_raw().frame
    assert len(df) == rd.CDNOW_ROWS
    assert df.customer_id.nunique() == rd.CDNOW_CUSTOMERS
    assert (df.day.min(), df.day.max()) == (pd.Timestamp("1997-01-01"), pd.Timestamp("1998-06-30"))
    # the cohort: every customer's first purchase is in the first quarter of 1997
    assert df.groupby("customer_id").day.min().max() < pd.Timestamp("1997-04-01")


def test_tafeng_raw_file_is_the_published_one():
    df = rd.read_tafeng_raw().frame
    assert len(df) == rd.TAFENG_ROWS
    assert df.customer_id.nunique() == rd.TAFENG_CUSTOMERS
    assert (df.day.min(), df.day.max()) == (pd.Timestamp("2000-11-01"), pd.Timestamp("2001-02-28"))
    assert df.amount.notna().all()


def test_tafeng_export_is_the_shipped_file_byte_for_byte(tmp_path):
    import zipfile

    out = rd.write_tafeng_export(tmp_path)
    with zipfile.ZipFile(rd.packaged_file(rd.TAFENG_DIST, rd.TAFENG_FILE)) as z:
        assert out.read_bytes() == z.read(rd.TAFENG_MEMBER)
    head = out.read_bytes()[:40]
    assert head.startswith(b'\xef\xbb\xbf"TRANSACTION_DT","CUSTOMER_ID"')  # BOM, quoted
    assert b"\r\n" in out.read_bytes()[:200]


def test_french_export_holds_the_same_records_in_the_french_dialect(tmp_path):
    path = rd.write_cdnow_french(tmp_path)
    raw = path.read_bytes()
    assert raw.startswith("num_client;date_achat;quantité;montant_ttc\r\n".encode("latin-1"))
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # latin-1, really
    lines = raw.decode("latin-1").split("\r\n")
    assert lines[1] == "00001;01/01/1997;1;11,77"
    grouped = [line for line in lines if line.count(" ") == 1]
    assert len(grouped) == 3 and all(" " in line.split(";")[3] for line in grouped)
    assert lines.index(grouped[0]) > 20_480  # past DuckDB's sniffing sample
    for banned in ("brand", "marque", "product", "order_id", "cost", "coût"):
        assert banned not in lines[0]
    fr = rd.read_cdnow_french_raw(path).frame
    en = rd.read_cdnow_raw().frame
    pd.testing.assert_frame_equal(fr, en)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("11.77", "11,77"), ("12", "12,00"), ("1286.01", "1 286,01"), ("0.00", "0,00")],
)
def test_french_amount(text, expected):
    assert rd.french_amount(text) == expected


#: A hand-made purchase file: (customer, yyyymmdd, amount). ``d`` buys on 2020-03-01, exactly
#: 365 days before the end of February 2021 (2020 is a leap year).
HAND = [
    ("a", "20200105", 10.0),
    ("b", "20200120", 5.0),
    ("a", "20200210", 2.5),
    ("c", "20200211", 1.0),
    ("d", "20200301", 7.0),
    ("a", "20210131", 4.0),
    ("b", "20210201", 3.0),
]


def test_reference_counts_what_the_kpis_define(tmp_path):
    """The reference on a hand-made file (lapse boundary, coverage, repeat-purchase cohort,
    months without purchases), and kpitools on the same file as an English CSV."""
    frame = pd.DataFrame(
        {
            "customer_id": [c for c, _, _ in HAND],
            "day": pd.to_datetime([d for _, d, _ in HAND], format="%Y%m%d"),
            "amount": [a for _, _, a in HAND],
        }
    )
    ref = rd.monthly_reference(rd.Purchases(frame), lapse_days=365)
    m = {label: pd.Timestamp(label + "-01") for label in ("2020-01", "2020-02", "2020-03")}
    assert ref.loc[m["2020-01"]].tolist()[:3] == [15.0, 2, 2]  # revenue, buyers, new
    assert ref.loc[m["2020-02"], "repeat_purchase_rate"] == 0.5  # a of {a, b} again
    assert ref.loc[m["2020-03"], "repeat_purchase_rate"] == 0.0  # neither a nor c
    assert pd.isna(ref.loc[m["2020-01"], "repeat_purchase_rate"])
    assert ref.loc["2020-04-01":"2020-12-01"].isna().all().all()  # no purchase, no value
    # end of Dec 2020 - 365 days = 2020-01-02, before the first purchase: base cut short
    assert ref.loc[:"2020-03-01", "active_customers"].isna().all()
    # end of Jan 2021 - 365 days = 2020-02-02: a, c, d; end of Feb - 365 = 2020-03-01: a, b, d
    assert ref.loc[pd.Timestamp("2021-01-01"), "active_customers"] == 3
    assert ref.loc[pd.Timestamp("2021-02-01"), "active_customers"] == 3
    assert ref.loc[pd.Timestamp("2021-02-01"), "repeat_purchase_rate"] == 0.0  # a not in Feb
    assert ref.new_customers.sum() == 4

    folder = tmp_path / "export"
    folder.mkdir()
    rows = "".join(f"{c},{d},1,{a}\n" for c, d, a in HAND)
    (folder / "cdnow_purchases.csv").write_text(
        "customer_id,date,number_of_cds,dollar_value\n" + rows
    )
    _compare(Dataset(tmp_path, rd.cdnow_params(tmp_path), ref), "2021-02", months=12)


# -- kpitools on the exports, against the reference ---------------------------------------------


def _compare(ds: Dataset, period: str, months: int) -> int:
    """Compute the scorecard for ``period`` and compare its trends with the reference; returns
    the number of (KPI, month) values compared."""
    params = load_params(ds.params)
    with connect(params) as db:
        assert db.check() == []
        sc = compute_kpis(db, params, period, kpis=list(COMPARED))
    compared = 0
    for kpi in COMPARED:
        r = sc[kpi]
        for p, got in r.trend:
            ts = pd.Timestamp(p.start)
            if ts not in ds.reference.index:
                assert got is None, (kpi, p.label)  # before the data
                continue
            want = ds.reference.loc[ts, kpi]
            if pd.isna(want):
                assert got is None, (kpi, p.label, got)
            elif kpi == "revenue" or kpi == "repeat_purchase_rate":
                assert got == pytest.approx(want, rel=1e-6), (kpi, p.label)
            else:
                assert got == want, (kpi, p.label)
            compared += 1
        assert r.trend[-1][1] == r.value
    assert compared == months * len(COMPARED)
    return compared


@pytest.mark.parametrize("period", ["1997-06", "1998-06"])
def test_cdnow_english_csv_matches_pandas(cdnow, period):
    _compare(cdnow, period, months=6 if period == "1997-06" else 12)


@pytest.mark.parametrize("period", ["1997-06", "1998-06"])
def test_cdnow_french_export_matches_pandas(cdnow_fr, period):
    _compare(cdnow_fr, period, months=6 if period == "1997-06" else 12)


@pytest.mark.parametrize("name", ["cdnow_init", "cdnow_fr_init", "tafeng_init"])
def test_what_init_wrote_matches_pandas_without_an_edit(name, request):
    """``kpitools init`` on each raw export: the params it writes, unedited, give the same
    figures as the pandas reference (and as the hand-written mapping)."""
    ds = request.getfixturevalue(name)
    period = "2001-02" if name.startswith("tafeng") else "1998-06"
    months = 4 if name.startswith("tafeng") else 12
    _compare(ds, period, months)


def test_init_reads_each_export_as_its_writer_meant(cdnow_init, cdnow_fr_init, tafeng_init):
    import yaml

    en = yaml.safe_load(cdnow_init.params.read_text("utf-8"))
    fr = yaml.safe_load(cdnow_fr_init.params.read_text("utf-8"))
    tf = yaml.safe_load(tafeng_init.params.read_text("utf-8"))
    assert (en["locale"], fr["locale"], tf["locale"]) == ("en", "fr", "en")
    assert fr["source"]["csv"] == {
        "delimiter": ";",
        "decimal": ",",
        "thousands": " ",  # first seen at row 27,634: found by a query over the whole file
        "encoding": "latin-1",
        "header": True,
        "date_format": "%d/%m/%Y",
    }
    fr_cols = fr["source"]["tables"]["orders"]["columns"]
    assert fr_cols["customer_id"] == "num_client" and fr_cols["revenue"] == "montant_ttc"
    assert fr_cols["order_id"] == {"expr": "row_number() over ()"}  # one purchase per row
    tf_cols = tf["source"]["tables"]["orders"]["columns"]
    assert tf["source"]["csv"]["date_format"] == "%m/%d/%Y"
    assert tf_cols["revenue"] == "SALES_PRICE"  # not AMOUNT, the quantity
    assert "customer-days" in tafeng_init.params.read_text("utf-8")
    params = load_params(tafeng_init.params)
    with connect(params) as db:
        orders = db.table("orders")
        assert orders.order_id.nunique().execute() == 119_578  # baskets, not 817,741 lines


def test_tafeng_shipped_csv_matches_pandas(tafeng):
    _compare(tafeng, "2001-02", months=4)


def test_figures_a_reader_can_check(cdnow_fr, tafeng):
    """A few published figures, as kpitools gives them from the raw exports."""
    for ds, period, want in [
        (cdnow_fr, "1998-06", {"revenue": 76_109.30, "active_customers": 8_332}),
        (cdnow_fr, "1997-03", {"new_customers": 7_248}),
        (tafeng, "2001-02", {"revenue": 24_837_951.0, "new_customers": 3_656}),
    ]:
        params = load_params(ds.params)
        with connect(params) as db:
            sc = compute_kpis(db, params, period, kpis=list(want))
        for kpi, value in want.items():
            assert sc.value(kpi) == pytest.approx(ds.reference.loc[pd.Timestamp(period), kpi])
            assert sc.value(kpi) == pytest.approx(value)


@pytest.mark.parametrize(
    ("name", "period", "key"),
    [("cdnow_fr", "1998-06", None), ("tafeng", "2001-02", ["customer_id", "day"])],
)
def test_revenue_drivers_orders_and_buyers_match_pandas(name, period, key, request):
    """The first page's revenue split (buyers x orders per buyer x average order): CDNOW's rows
    are orders; Ta-Feng's are product lines, an order being a customer's basket of the day."""
    from kpitools.kpis.drivers import compute_revenue_table

    ds = request.getfixturevalue(name)
    raw = (
        rd.read_cdnow_french_raw(ds.root / "export" / "ventes.csv")
        if key is None
        else rd.read_tafeng_raw()
    ).frame
    params = load_params(ds.params)
    with connect(params) as db:
        table = compute_revenue_table(db, params, period)
    total = table[table["by"] == "total"].set_index("period")
    for ts, row in total.iterrows():
        month = raw[raw.day.dt.to_period("M") == pd.Timestamp(ts).to_period("M")]
        orders = len(month) if key is None else len(month.drop_duplicates(key))
        assert row.orders == orders, ts
        assert row.buyers == month.customer_id.nunique(), ts
        assert row.revenue == pytest.approx(month.amount.sum(), rel=1e-6), ts
    assert len(total) >= 2


@pytest.mark.parametrize("name", ["cdnow_fr", "tafeng"])
def test_what_orders_alone_allow(name, request):
    """Every KPI: from orders alone only the customer and revenue KPIs have values; margin KPIs
    say they need orders.cost, the others name the table they need."""
    ds = request.getfixturevalue(name)
    params = load_params(ds.params)
    with connect(params) as db:
        sc = compute_kpis(db, params, "1998-06" if name == "cdnow_fr" else "2001-02")
    computed = {r.id for r in sc if str(r.status) != "not_available"}
    assert computed == ORDERS_ONLY_KPIS
    for r in sc:
        if r.id in COST_KPIS:
            assert str(r.reason) == "needs_column" and r.missing_columns == ("orders.cost",)
        elif r.id in ONE_LINE_KPIS:
            assert str(r.reason) == "needs_column"
            assert r.missing_columns == ("orders.product_line",)
        elif r.id not in computed:
            assert str(r.reason) in ("needs_table", "needs_column"), r.id
            assert r.missing_tables or r.missing_columns, r.id
    if name == "tafeng":  # four months: the lapse base (365 days) is never covered
        for kpi in ("active_customers", "churn_rate", "retention_rate", "lapsed_customers"):
            assert str(sc[kpi].status) == "no_data"


# -- end to end: validate, then run, then kpis.json ---------------------------------------------


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kpitools.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.e2e
def test_cli_init_validate_and_run_on_the_french_export(cdnow_fr, tmp_path):
    """The issue's path: init on the raw French export, then validate and run on what it
    wrote, with no edit; the report's figures equal pandas on the raw file."""
    params = tmp_path / "params" / "cdnow.yaml"
    i = _cli("init", str(cdnow_fr.root / "export"), "--name", "CDNOW", "--currency", "USD",
             "--out", str(params), cwd=tmp_path)  # fmt: skip
    assert i.returncode == 0, i.stdout + i.stderr
    assert "KPIs these data allow: 10 of" in i.stdout
    v = _cli("validate", str(params), cwd=tmp_path)
    assert v.returncode == 0, v.stdout + v.stderr
    assert "Traceback" not in v.stdout + v.stderr
    reports = tmp_path / "reports"
    r = _cli(
        "run",
        str(params),
        "--period",
        "1998-06",
        "--reports-dir",
        str(reports),
        "--no-pdf",
        "-j",
        "1",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(next(reports.rglob("kpis.json")).read_text(encoding="utf-8"))
    kpis = doc["kpis"]
    ref = cdnow_fr.reference
    for kpi in COMPARED:
        got = kpis[kpi]
        assert got["status"] == "ok", (kpi, got)
        want = ref.loc[pd.Timestamp("1998-06-01"), kpi]
        assert got["value"] == pytest.approx(want, rel=1e-6), kpi
        for point in got["trend"]:
            ts = pd.Timestamp(point["period"] + "-01")
            want = ref.loc[ts, kpi]
            if pd.isna(want):
                assert point["value"] is None
            else:
                assert point["value"] == pytest.approx(want, rel=1e-6), (kpi, point)
    assert kpis["avg_margin_per_customer"]["status"] == "not_available"
    # the report shows only what the data support, and says what was left out and why
    left_out = {(x["kind"], x["key"]): x["needs"] for x in doc["coverage"]["left_out"]}
    assert left_out[("report", "customer_value")] == ["orders.cost"]
    assert left_out[("report", "campaign_roi")] == ["campaigns"]
    assert left_out[("section", "breakdown.product_line")] == ["orders.product_line"]
    assert left_out[("section", "breakdown.acquisition_channel")] == ["customers"]
    assert left_out[("department", "service")] == ["cases", "calls"]
    folder = next(reports.rglob("kpis.json")).parent
    assert sorted(p.name for p in folder.glob("*.html")) == ["report.html"]
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "Pas dans ce rapport" in html or "Absent de ce rapport" in html
    assert "Valeur des ventes croisées" not in html  # cross-sell: one product line
