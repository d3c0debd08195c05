"""Delivery by e-mail, against a real SMTP server (aiosmtpd) started by the test on 127.0.0.1.

The reports are built cheaply: a published folder made by hand (a tiny PDF and a kpis.json
holding what the summary reads), so that every number of the message is known; one slow test
runs the real pipeline on a 300-customer demo and receives the French brand's real PDF.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kpitools.cli import main
from kpitools.delivery import (
    DeliveryError,
    SmtpSettings,
    build_summary,
    deliver_results,
    guardrails,
)
from kpitools.errors import ParamsError
from kpitools.params import load_params, parse_params
from kpitools.runner import RunResult

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")

#: a minimal valid PDF (what the attachment check needs: bytes starting with %PDF)
TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
NNBSP, NBSP = "\u202f", "\u00a0"  # Babel's French group separator, and the space before €


class _Collect:
    """aiosmtpd handler keeping every envelope it receives."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self) -> list[tuple[list[str], email.message.EmailMessage]]:
        return [
            (
                list(e.rcpt_tos),
                email.message_from_bytes(e.original_content, policy=email.policy.default),
            )
            for e in self.envelopes
        ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    handler = _Collect()
    port = _free_port()
    controller = aiosmtpd_controller.Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def smtp_env(smtp_server, monkeypatch):
    """The environment of an operator's cron job pointing at the test server."""
    handler, port = smtp_server
    env = {
        "KPITOOLS_SMTP_HOST": "127.0.0.1",
        "KPITOOLS_SMTP_PORT": str(port),
        "KPITOOLS_SMTP_STARTTLS": "0",
        "KPITOOLS_SMTP_FROM": "CRM reports <crm-reports@company.example>",
        "KPITOOLS_ALERT_TO": "ops@company.example, oncall@company.example",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("KPITOOLS_PORTAL_URL", raising=False)
    return handler, env


def _kpis(period: str = "2025-Q4", **extra) -> dict:
    """What the summary reads of kpis.json, with known values."""
    return {
        "brand": "bellevue",
        "period": period,
        "grain": "quarter",
        "locale": "fr",
        "currency": "EUR",
        "kpis": {
            "revenue": {
                "unit": "currency",
                "value": 17004.03,
                "previous": 13579.74,
                "change_previous": 0.2521616,
            },
            "new_customers": {"unit": "count", "value": 21.0, "change_previous": 0.5},
            "retention_rate": {"unit": "ratio", "value": 0.949, "change_previous": -0.006},
            "nps": {"unit": "score", "value": 50.0, "change_previous": 12.0},
        },
        "objectives": {
            "counts": {"on_track": 1, "at_risk": 0, "off_track": 1, "unknown": 0},
            "objectives": [
                {
                    "id": "marge",
                    "title": "Porter la marge par cliente à 160 €",
                    "kpi": "avg_margin_per_customer",
                    "unit": "currency",
                    "status": "on_track",
                    "value": 161.0,
                    "expected": 158.0,
                    "relative_gap": 0.019,
                },
                {
                    "id": "ca-nouvelles-clientes",
                    "title": "Augmenter de 15 % le CA des nouvelles clientes",
                    "kpi": "new_customer_revenue",
                    "unit": "currency",
                    "status": "off_track",
                    "value": 3408.54,
                    "expected": 4200.0,
                    "relative_gap": -0.18844,
                },
            ],
        },
        "what_changed": {
            "kpis": {
                "revenue": {
                    "unit": "currency",
                    "comparisons": {
                        "previous": {
                            "base_period": "2025-Q3",
                            "before": 13579.74,
                            "after": 17004.03,
                            "total": 3424.29,
                            "relative": 0.2521616,
                            "factors": [
                                {"driver": "buyers", "effect": 3767.47},
                                {"driver": "average_order", "effect": -660.77},
                            ],
                        }
                    },
                }
            }
        },
        **extra,
    }


def _publish(reports: Path, slug: str, period: str, kpis: dict, pdfs=("report.pdf",)) -> Path:
    folder = reports / slug / period
    folder.mkdir(parents=True)
    (folder / "kpis.json").write_text(json.dumps(kpis), encoding="utf-8")
    for name in pdfs:
        (folder / name).write_bytes(TINY_PDF)
    (folder / "report.html").write_text("<html></html>", encoding="utf-8")
    return folder


def _params(folder: Path, slug: str, locale: str = "fr", grain: str = "quarter", **delivery):
    path = folder / "params" / f"{slug}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "brand": slug,
        "name": {"fr": "Bellevue Cosmétiques", "en": "Aurora Outdoor", "it": "Castello"}[locale],
        "locale": locale,
        "currency": "EUR",
        "period": {"grain": grain},
        "source": {"kind": "duckdb", "path": "../data/demo.duckdb"},
    }
    if delivery:
        data["delivery"] = delivery
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _ok(params: Path, folder: Path, period: str) -> RunResult:
    return RunResult(
        params_path=str(params),
        slug=params.stem,
        period=period,
        status="ok",
        report_dir=str(folder),
        outputs=["report.html", "report.pdf"],
    )


def _text(msg) -> str:
    """The plain-text body, with the wire's CRLF line ends read back as newlines."""
    return msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


# --------------------------------------------------------------------------------------
# Sending to a real SMTP server
# --------------------------------------------------------------------------------------


def test_french_brand_gets_its_pdf_and_a_french_summary(tmp_path, smtp_env):
    handler, _ = smtp_env
    reports = tmp_path / "reports"
    folder = _publish(reports, "bellevue", "2025-Q4", _kpis(), pdfs=("report.pdf", "clv.pdf"))
    params = _params(
        tmp_path,
        "bellevue",
        to=["direction@bellevue.example", "Claire Martin <claire@bellevue.example>"],
        cc=["crm@bellevue.example"],
        portal_url="https://reports.example/kpitools/",
    )
    out = deliver_results([_ok(params, folder, "2025-Q4")], reports_dir=reports)
    assert out.problems == []
    (rcpts, msg), *others = handler.messages()
    assert others == []  # nothing failed or tripped: no alert
    assert sorted(rcpts) == [
        "claire@bellevue.example",
        "crm@bellevue.example",
        "direction@bellevue.example",
    ]
    assert msg["Subject"] == "Bellevue Cosmétiques : rapport CRM de T4 2025"
    assert msg["From"] == "CRM reports <crm-reports@company.example>"
    assert msg["Cc"] == "crm@bellevue.example"
    assert msg["Content-Language"] == "fr"
    body = _text(msg)
    assert body.startswith("Bonjour,\n")
    assert (
        "Vous trouverez ci-joint le rapport CRM de Bellevue Cosmétiques pour T4 2025 (2 PDF)"
        in body
    )
    # the off-track objective first, with Babel's French numbers (narrow no-break space
    # between thousands, no-break space before the euro sign, decimal comma)
    off = (
        f"Augmenter de 15 % le CA des nouvelles clientes (Chiffre d'affaires des nouveaux "
        f"clients) : 3{NNBSP}409{NBSP}€ pour 4{NNBSP}200{NBSP}€ attendu à date (−18,8{NBSP}%)"
    )
    assert "Objectifs hors trajectoire : 1\n  - " + off in body
    assert "Porter la marge" not in body  # an objective on track is only counted
    assert "Objectifs : 1 en bonne voie, 0 à risque, 1 hors trajectoire" in body
    assert body.index(off) < body.index("Indicateurs clés") < body.index("Ce qui a changé")
    assert f"Chiffre d'affaires : 17{NNBSP}004{NBSP}€ (+25,2{NBSP}% par rapport" in body
    assert f"Taux de rétention : 94,9{NBSP}% (−0,6{NBSP}pt par rapport" in body
    assert f"13{NNBSP}580{NBSP}€ → 17{NNBSP}004{NBSP}€ (+25,2{NBSP}%) par rapport à T3 2025" in body
    assert f"effet le plus fort : Acheteurs (+3{NNBSP}767{NBSP}€)" in body
    assert "https://reports.example/kpitools/bellevue/2025-Q4/report.html" in body
    assert "Tous les rapports : https://reports.example/kpitools/index.html" in body
    assert msg.get_body(preferencelist=("html",)).get_content().lstrip().startswith("<!DOCTYPE")
    files = {p.get_filename(): p.get_content() for p in msg.iter_attachments()}
    assert list(files) == ["report.pdf", "clv.pdf"]  # the KPI report first
    assert all(b.startswith(b"%PDF") for b in files.values())
    assert files["report.pdf"] == TINY_PDF
    assert out.lines() == [
        "delivery: bellevue 2025-Q4: sent to direction@bellevue.example, "
        "claire@bellevue.example, crm@bellevue.example"
    ]


def test_failed_brand_sends_nothing_to_its_recipients_and_alerts_the_operators(tmp_path, smtp_env):
    handler, _ = smtp_env
    reports = tmp_path / "reports"
    ok_folder = _publish(reports, "aurora", "2025-11", _kpis("2025-11"))
    ok_params = _params(tmp_path, "aurora", "en", "month", to=["ceo@aurora.example"])
    bad_params = _params(
        tmp_path,
        "bellevue",
        to=["direction@bellevue.example"],
        alert_to=["crm-ops@bellevue.example"],
    )
    failed = RunResult(
        params_path=str(bad_params),
        slug="bellevue",
        period=None,
        status="failed",
        error="params/bellevue.yaml: orders.revenue: column 'montant' not found\nsecond line",
        failed_notebook=str(reports / "bellevue" / "_failed" / "unknown-20261202-report.ipynb"),
    )
    out = deliver_results([_ok(ok_params, ok_folder, "2025-11"), failed], reports_dir=reports)
    assert out.problems == []
    msgs = handler.messages()
    assert len(msgs) == 2  # aurora's report, then the alert; nothing for bellevue's readers
    everyone = [r for rcpts, _ in msgs for r in rcpts]
    assert "direction@bellevue.example" not in everyone
    (aurora_rcpts, aurora), (alert_rcpts, alert) = msgs
    assert aurora_rcpts == ["ceo@aurora.example"]
    assert aurora["Subject"] == "Aurora Outdoor: CRM report for November 2025"
    assert sorted(alert_rcpts) == [
        "crm-ops@bellevue.example",
        "oncall@company.example",
        "ops@company.example",
    ]
    assert alert["Subject"].startswith("kpitools: 1 brand(s) failed, 0 with warnings (")
    body = _text(alert)
    assert (
        "  - bellevue (–): params/bellevue.yaml: orders.revenue: column 'montant' not found\n"
        "      second line\n"
    ) in body
    assert "failed notebook: " + failed.failed_notebook in body
    assert f"log: {reports.resolve() / '_logs' / 'bellevue.log'}" in body
    assert f"rerun: kpitools run {bad_params}" in body
    assert not list(alert.iter_attachments())
    assert "delivery: bellevue: failed, report not sent (the operators are alerted)" in out.lines()


def test_a_sample_ratio_mismatch_alerts_the_operators_and_the_report_still_goes(tmp_path, smtp_env):
    handler, _ = smtp_env
    reports = tmp_path / "reports"
    srm = {
        "code": "srm",
        "severity": "warning",
        "message": "control group holds 31% of members, 10% planned (p < 0.001)",
    }
    kpis = _kpis(
        campaign_roi={"campaign_results": [{"name": "Soldes 2025-12", "issues": [srm]}]},
        data_quality=[
            {
                "rule": "negative_revenue",
                "action": "exclude",
                "table": "orders",
                "column": "revenue",
                "rows": 3,
                "rows_excluded": 3,
                "kpis": ["revenue", "average_order_value"],
            }
        ],
        provenance={"warnings": ["orders: latest row 2025-12-28, 3 days before the period end"]},
    )
    assert guardrails(kpis) == [
        "campaign Soldes 2025-12: control group holds 31% of members, 10% planned (p < 0.001)",
        "data quality: orders.revenue: rule negative_revenue, 3 rows (3 left out); "
        "KPIs affected: revenue, average_order_value",
        "warning: orders: latest row 2025-12-28, 3 days before the period end",
    ]
    assert guardrails(_kpis()) == []  # nothing tripped in a clean report
    folder = _publish(reports, "bellevue", "2025-Q4", kpis)
    params = _params(tmp_path, "bellevue", to=["direction@bellevue.example"])
    deliver_results([_ok(params, folder, "2025-Q4")], reports_dir=reports)
    (_, report), (_, alert) = handler.messages()
    assert report["Subject"].endswith("rapport CRM de T4 2025")
    body = _text(alert)
    assert alert["Subject"].startswith("kpitools: 0 brand(s) failed, 1 with warnings")
    assert "Published with warnings to check (1):\n  - bellevue 2025-Q4:\n" in body
    assert "      campaign Soldes 2025-12: control group holds 31% of members" in body
    assert "      data quality: orders.revenue: rule negative_revenue, 3 rows (3 left out)" in body
    assert "      warning: orders: latest row 2025-12-28" in body


def test_no_operator_address_is_a_problem_line_not_a_silence(tmp_path, smtp_env, monkeypatch):
    handler, _ = smtp_env
    monkeypatch.delenv("KPITOOLS_ALERT_TO")
    failed = RunResult(params_path=str(tmp_path / "gone.yaml"), slug="gone", error="boom")
    out = deliver_results([failed], reports_dir=tmp_path / "reports")
    assert handler.messages() == []
    assert out.problems == [
        "delivery: 1 failed and 0 with warnings, but no operator to alert: set "
        "KPITOOLS_ALERT_TO or delivery.alert_to"
    ]


def test_an_unreachable_server_is_one_line_naming_it(tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    folder = _publish(reports, "bellevue", "2025-Q4", _kpis())
    params = _params(tmp_path, "bellevue", to=["direction@bellevue.example"])
    smtp = SmtpSettings("127.0.0.1", _free_port(), "kpitools@company.example", starttls=False)
    out = deliver_results([_ok(params, folder, "2025-Q4")], reports_dir=reports, smtp=smtp)
    (line,) = out.problems
    assert line.startswith(f"delivery: could not send through 127.0.0.1:{smtp.port}: ")
    assert line.endswith("(bellevue 2025-Q4)")


# --------------------------------------------------------------------------------------
# Dry run, languages, settings
# --------------------------------------------------------------------------------------


def test_dry_run_writes_eml_files_and_sends_nothing(tmp_path, smtp_env):
    handler, _ = smtp_env
    reports = tmp_path / "reports"
    folder = _publish(reports, "bellevue", "2025-Q4", _kpis())
    params = _params(tmp_path, "bellevue", to=["direction@bellevue.example"])
    failed = RunResult(params_path=str(tmp_path / "x.yaml"), slug="x", error="boom")
    box = tmp_path / "outbox"
    out = deliver_results([_ok(params, folder, "2025-Q4"), failed], reports_dir=reports, outbox=box)
    assert handler.messages() == []
    names = sorted(p.name for p in box.iterdir())
    assert names[0].startswith("alert-") and names[0].endswith(".eml")
    assert names[1] == "bellevue-2025-Q4.eml"
    msg = email.message_from_bytes((box / names[1]).read_bytes(), policy=email.policy.default)
    assert msg["To"] == "direction@bellevue.example"
    assert next(msg.iter_attachments()).get_content().startswith(b"%PDF")
    assert "(dry run, not sent)" in out.lines()[0]


@pytest.mark.parametrize(
    ("locale", "subject", "greeting", "off_title"),
    [
        ("en", "Aurora Outdoor: CRM report for Q4 2025", "Hello,", "Objectives off track: 1"),
        (
            "fr",
            "Bellevue Cosmétiques : rapport CRM de T4 2025",
            "Bonjour,",
            "Objectifs hors trajectoire : 1",
        ),
        ("it", "Castello: report CRM di T4 2025", "Buongiorno,", "Obiettivi fuori traiettoria: 1"),
    ],
)
def test_the_summary_is_in_the_brand_language(tmp_path, locale, subject, greeting, off_title):
    from kpitools.delivery import summary_text

    folder = _publish(tmp_path / "reports", "b", "2025-Q4", _kpis())
    params = load_params(_params(tmp_path, "b", locale, to=["a@b.example"]))
    s = build_summary(params, folder, tmp_path / "reports", environ={})
    assert s.subject == subject
    text = summary_text(s)
    assert text.startswith(greeting + "\n") and off_title in text
    assert s.report_url is None and s.portal_url is None  # no portal configured


def test_subject_from_params_and_portal_from_the_environment(tmp_path):
    folder = _publish(tmp_path / "reports", "bellevue", "2025-Q4", _kpis())
    params = load_params(
        _params(tmp_path, "bellevue", to=["a@b.example"], subject="[{brand}] Rapport {period}")
    )
    s = build_summary(
        params, folder, tmp_path / "reports", environ={"KPITOOLS_PORTAL_URL": "https://r.example"}
    )
    assert s.subject == "[bellevue] Rapport T4 2025"
    assert s.report_url == "https://r.example/bellevue/2025-Q4/report.html"


@pytest.mark.parametrize(
    ("delivery", "expected"),
    [
        ({"to": ["a@b.example"], "password": "hunter2"}, "delivery: password: SMTP settings"),
        ({"to": ["a@b.example"], "smtp_host": "mail"}, "delivery: smtp_host: SMTP settings"),
        ({"to": ["a@b.example"], "from": "me@b.example"}, "delivery: from: SMTP settings"),
        (
            {"to": ["a@b.example"], "portal_url": "https://u:p@r.example/"},
            "delivery.portal_url: portal_url holds credentials",
        ),
        (
            {"to": ["a@b.example"], "portal_url": "https://r.example/?token=abc"},
            "delivery.portal_url: portal_url holds credentials",
        ),
        ({"to": ["a@b.example, c@d.example"]}, "delivery.to.0: 'a@b.example, c@d.example' is not"),
        ({"to": ["nobody"]}, "delivery.to.0: 'nobody' is not an e-mail address"),
        (
            {"to": ["a@b.example"], "subject": "{nom}"},
            "delivery.subject: subject: unknown field {nom}",
        ),
    ],
)
def test_secrets_and_bad_addresses_in_params_are_refused(delivery, expected):
    data = {"brand": "b", "source": {"kind": "duckdb", "path": "x"}, "delivery": delivery}
    with pytest.raises(ParamsError) as exc:
        parse_params(data, origin="params/b.yaml")
    (line,) = str(exc.value).splitlines()
    assert line.startswith(f"params/b.yaml: {expected}"), line
    assert "hunter2" not in line


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "KPITOOLS_SMTP_HOST is not set"),
        ({"KPITOOLS_SMTP_HOST": "mail.example"}, "KPITOOLS_SMTP_FROM is not set"),
        (
            {
                "KPITOOLS_SMTP_HOST": "m",
                "KPITOOLS_SMTP_FROM": "a@b.example",
                "KPITOOLS_SMTP_PORT": "x",
            },
            "KPITOOLS_SMTP_PORT='x' is not a port",
        ),
        (
            {
                "KPITOOLS_SMTP_HOST": "mail.example",
                "KPITOOLS_SMTP_FROM": "a@b.example",
                "KPITOOLS_SMTP_USER": "u",
                "KPITOOLS_SMTP_PASSWORD": "hunter2",
                "KPITOOLS_SMTP_STARTTLS": "0",
            },
            "the password would cross the network in clear",
        ),
    ],
)
def test_smtp_settings_errors_name_the_variable(env, expected):
    with pytest.raises(DeliveryError, match=expected.replace("(", r"\(")) as exc:
        SmtpSettings.from_env(env)
    assert "hunter2" not in str(exc.value)


def test_smtp_defaults():
    s = SmtpSettings.from_env(
        {"KPITOOLS_SMTP_HOST": "mail.example", "KPITOOLS_SMTP_FROM": "a@b.ex"}
    )
    assert (s.port, s.starttls, s.user) == (587, True, None)
    local = SmtpSettings.from_env(
        {"KPITOOLS_SMTP_HOST": "localhost", "KPITOOLS_SMTP_FROM": "a@b.ex"}
    )
    assert (local.port, local.starttls) == (25, False)
    assert "hunter2" not in repr(
        SmtpSettings.from_env(
            {
                "KPITOOLS_SMTP_HOST": "mail.example",
                "KPITOOLS_SMTP_FROM": "a@b.ex",
                "KPITOOLS_SMTP_USER": "u",
                "KPITOOLS_SMTP_PASSWORD": "hunter2",
            }
        )
    )


# --------------------------------------------------------------------------------------
# The CLI: kpitools run --deliver
# --------------------------------------------------------------------------------------


def test_run_deliver_without_smtp_settings_stops_before_running(tmp_path, monkeypatch):
    for k in ("KPITOOLS_SMTP_HOST", "KPITOOLS_SMTP_FROM"):
        monkeypatch.delenv(k, raising=False)
    params = _params(tmp_path, "bellevue", to=["a@b.example"])
    result = CliRunner().invoke(main, ["run", str(params), "--deliver"])
    assert result.exit_code == 2
    assert "delivery: KPITOOLS_SMTP_HOST is not set" in result.output
    assert not (tmp_path / "reports").exists()  # nothing ran


@pytest.mark.e2e
def test_run_deliver_of_a_failing_brand_alerts_and_sends_no_report(tmp_path, smtp_env):
    """`kpitools run --deliver` end to end: the source is missing, the run fails, the brand's
    readers get nothing and the operators get the alert through the SMTP server."""
    handler, _ = smtp_env
    params = _params(tmp_path, "bellevue", to=["direction@bellevue.example"])
    result = CliRunner().invoke(main, ["run", str(params), "--deliver"])
    assert result.exit_code == 2, result.output  # its only brand failed: nothing published
    ((rcpts, alert),) = handler.messages()
    assert sorted(rcpts) == ["oncall@company.example", "ops@company.example"]
    assert "bellevue" in _text(alert) and "demo.duckdb" in _text(alert)
    assert (
        "delivery: bellevue: failed, report not sent (the operators are alerted)" in result.output
    )
    assert "delivery: alert to the operators: sent to ops@company.example" in result.output


@pytest.mark.slow
@pytest.mark.e2e
def test_run_deliver_sends_the_real_french_pdf(tmp_path, smtp_env):
    """The real pipeline on a 300-customer demo: the French brand's PDF and French summary
    arrive at the SMTP server."""
    from kpitools.data.demo import generate_demo

    handler, _ = smtp_env
    (tmp_path / "data").mkdir()
    generate_demo(tmp_path / "data" / "demo.duckdb", customers=300, seed=42)
    params = _params(tmp_path, "bellevue", to=["direction@bellevue.example"])
    result = CliRunner().invoke(main, ["run", str(params), "--deliver", "--period", "2025-Q4"])
    assert result.exit_code == 0, result.output
    to_brand = [m for rcpts, m in handler.messages() if rcpts == ["direction@bellevue.example"]]
    (msg,) = to_brand
    assert msg["Subject"] == "Bellevue Cosmétiques : rapport CRM de T4 2025"
    body = _text(msg)
    assert "Vous trouverez ci-joint le rapport CRM de Bellevue Cosmétiques pour T4 2025" in body
    assert "Indicateurs clés" in body and "Chiffre d'affaires : " in body
    files = {p.get_filename(): p.get_content() for p in msg.iter_attachments()}
    assert list(files)[0] == "report.pdf"
    assert files["report.pdf"].startswith(b"%PDF") and len(files["report.pdf"]) > 10_000
