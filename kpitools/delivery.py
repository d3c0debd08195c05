"""Delivery: after a run, e-mail each brand's PDF(s) and summary, and alert the operators.

For every brand that ran ``ok`` and whose params have ``delivery.to``, one message to its
recipients (``to`` and ``cc``), in the brand's language (en/fr/it, numbers formatted by Babel),
with the brand's PDFs attached and a short summary read from its ``kpis.json``:

1. the objectives off track first (value, expected value at this date, gap), then the counts;
2. the headline KPIs (``report.headline``) with their change from the previous period;
3. what changed (``what_changed``: before → after and the largest driver);
4. a link to the report and the portal (``delivery.portal_url`` or ``$KPITOOLS_PORTAL_URL``).

A brand that failed gets no message: the operators (``$KPITOOLS_ALERT_TO``, comma-separated,
and every brand's ``delivery.alert_to``) get one alert listing the failures (one-line reason,
kept notebook, log) and the guardrails that tripped in the brands that were published
(:func:`guardrails`: a campaign's sample-ratio mismatch, data-quality warnings).

SMTP settings come from the environment only (:class:`SmtpSettings`). ``outbox`` (the CLI's
``--dry-run-deliver DIR``) writes every message as an ``.eml`` file instead of sending it.
"""

from __future__ import annotations

import json
import mimetypes
import os
import re
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from pathlib import Path
from typing import Any

from .errors import KpitoolsError
from .locales import DEFAULT_LOCALE, LOCALES
from .params import BrandParams, load_params
from .periods import parse_period
from .report.formatting import change_kind, format_change, format_value, period_title
from .report.i18n import has_message, kpi_name, t
from .report.templating import render

#: environment variables read by :meth:`SmtpSettings.from_env`
SMTP_ENV = (
    "KPITOOLS_SMTP_HOST",
    "KPITOOLS_SMTP_PORT",
    "KPITOOLS_SMTP_USER",
    "KPITOOLS_SMTP_PASSWORD",
    "KPITOOLS_SMTP_STARTTLS",
    "KPITOOLS_SMTP_FROM",
)
ALERT_ENV = "KPITOOLS_ALERT_TO"
ALERT_LOCALE_ENV = "KPITOOLS_ALERT_LOCALE"
PORTAL_ENV = "KPITOOLS_PORTAL_URL"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


class DeliveryError(KpitoolsError):
    """Delivery settings are missing or wrong (naming the environment variable), or a
    message could not be sent."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where messages are sent from: read from the environment, never from params.

    Attributes
    ----------
    host : str
        ``KPITOOLS_SMTP_HOST`` (required).
    port : int
        ``KPITOOLS_SMTP_PORT``; default 587 with STARTTLS, else 25; 465 is implicit TLS.
    user, password : str or None
        ``KPITOOLS_SMTP_USER`` / ``KPITOOLS_SMTP_PASSWORD``: log in when the user is set.
    starttls : bool
        ``KPITOOLS_SMTP_STARTTLS`` (``1``/``0``); default on, except for a server on this
        machine (localhost) without a user.
    sender : str
        ``KPITOOLS_SMTP_FROM`` (required): the From address.
    """

    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        """The settings of ``environ`` (default ``os.environ``).

        Raises
        ------
        DeliveryError
            Naming the variable that is missing or wrong.
        """
        env = os.environ if environ is None else environ
        host = env.get("KPITOOLS_SMTP_HOST", "").strip()
        if not host:
            raise DeliveryError(
                "delivery: KPITOOLS_SMTP_HOST is not set (the SMTP server); set it and "
                "KPITOOLS_SMTP_FROM, or write the messages to files with --dry-run-deliver DIR"
            )
        sender = env.get("KPITOOLS_SMTP_FROM", "").strip()
        if not sender or not getaddresses([sender])[0][1]:
            raise DeliveryError(
                "delivery: KPITOOLS_SMTP_FROM is not set to an address (the sender, e.g. "
                "'CRM reports <crm-reports@company.example>')"
            )
        user = env.get("KPITOOLS_SMTP_USER") or None
        password = env.get("KPITOOLS_SMTP_PASSWORD") or None
        if user and not password:
            raise DeliveryError(
                "delivery: KPITOOLS_SMTP_USER is set but KPITOOLS_SMTP_PASSWORD is not"
            )
        raw_tls = env.get("KPITOOLS_SMTP_STARTTLS")
        if raw_tls is None:
            starttls = not (host in _LOCAL_HOSTS and not user)
        elif raw_tls.strip().lower() in _TRUE:
            starttls = True
        elif raw_tls.strip().lower() in _FALSE:
            starttls = False
        else:
            raise DeliveryError(
                f"delivery: KPITOOLS_SMTP_STARTTLS={raw_tls!r}: write 1 (use STARTTLS) or 0"
            )
        raw_port = env.get("KPITOOLS_SMTP_PORT", "").strip()
        if raw_port:
            if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
                raise DeliveryError(f"delivery: KPITOOLS_SMTP_PORT={raw_port!r} is not a port")
            port = int(raw_port)
        else:
            port = 587 if starttls else 25
        if user and not starttls and port != 465 and host not in _LOCAL_HOSTS:
            raise DeliveryError(
                "delivery: KPITOOLS_SMTP_USER is set without STARTTLS or port 465: the password "
                "would cross the network in clear; set KPITOOLS_SMTP_STARTTLS=1"
            )
        return cls(host, port, sender, user, password, starttls)


def _truthy_env_list(value: str | None) -> list[str]:
    return [a for _, a in getaddresses([value or ""]) if a]


def _addresses(values: Iterable[str]) -> list[str]:
    """Bare addresses of ``values`` (which may hold display names), without repeats."""
    return list(dict.fromkeys(a for _, a in getaddresses(list(values)) if a))


def read_kpis(report_dir: Path) -> dict[str, Any]:
    """The brand's ``kpis.json`` (empty when absent or unreadable: the message says less)."""
    try:
        data = json.loads((report_dir / "kpis.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def guardrails(kpis: Mapping[str, Any]) -> list[str]:
    """The warnings of a published report that operators must see, one line each.

    - a campaign whose groups' sizes do not match the planned split (sample-ratio mismatch:
      an issue with code ``srm`` in ``campaign_roi.campaign_results``, or in
      ``campaign_roi.issues``): its measured lift cannot be trusted;
    - the data-quality rules that excluded rows or flagged values (``data_quality``: a list,
      or a mapping with ``warnings`` / ``rules``);
    - the run's own warnings (``warnings`` at the top level of ``kpis.json``).
    """
    out: list[str] = []
    roi = kpis.get("campaign_roi") or {}
    if isinstance(roi, Mapping):
        for c in roi.get("campaign_results") or []:
            for issue in (c.get("issues") or []) if isinstance(c, Mapping) else []:
                if isinstance(issue, Mapping) and issue.get("code") == "srm":
                    out.append(
                        f"campaign {c.get('name', c.get('campaign_id'))}: {issue.get('message')}"
                    )
        for issue in roi.get("issues") or []:
            if isinstance(issue, Mapping) and issue.get("code") == "srm":
                out.append(f"campaigns: {issue.get('message')}")
    dq = kpis.get("data_quality")
    items: list[Any] = []
    if isinstance(dq, Mapping):
        items = list(dq.get("warnings") or []) + list(dq.get("rules") or [])
    elif isinstance(dq, list):
        items = dq
    for item in items:
        out.append(f"data quality: {_quality_line(item)}")
    prov = kpis.get("provenance")
    run_warnings = list((prov.get("warnings") or []) if isinstance(prov, Mapping) else [])
    for w in run_warnings + list(kpis.get("warnings") or []):
        out.append(f"warning: {w}")
    return list(dict.fromkeys(out))


def _quality_line(item: Any) -> str:
    """One data-quality entry of ``kpis.json`` in one line: ``orders.revenue: rule
    negative_revenue, 3 rows (3 left out); KPIs affected: revenue, average_order_value``."""
    if not isinstance(item, Mapping):
        return str(item)
    if item.get("message"):
        return str(item["message"])
    where = ".".join(str(item[k]) for k in ("table", "column") if item.get(k))
    parts = [f"rule {item['rule']}"] if item.get("rule") else []
    if item.get("rows") is not None:
        excluded = item.get("rows_excluded")
        parts.append(
            f"{item['rows']} rows" + (f" ({excluded} left out)" if excluded else " (kept)")
        )
    if item.get("kpis"):
        parts.append("KPIs affected: " + ", ".join(map(str, item["kpis"])))
    text = ", ".join(parts[:2]) + ("; " + parts[2] if len(parts) > 2 else "")
    return f"{where}: {text}" if where else text or json.dumps(dict(item))


# --------------------------------------------------------------------------------------
# The brand's summary
# --------------------------------------------------------------------------------------


@dataclass
class Summary:
    """What a brand's message says, already formatted for its locale (text lines)."""

    locale: str
    subject: str
    intro: str
    off_track: list[str]
    objectives: str | None
    headline: list[str]
    changes: list[str]
    report_url: str | None
    portal_url: str | None
    attachments: list[str]


def _result_value(kpis: Mapping[str, Any], kpi_id: str) -> Mapping[str, Any] | None:
    k = (kpis.get("kpis") or {}).get(kpi_id)
    return k if isinstance(k, Mapping) else None


def _period_text(label: str | None, locale: str) -> str:
    if not label:
        return "–"
    try:
        return period_title(parse_period(label), locale)
    except KpitoolsError:
        return label


def _off_track(kpis: Mapping[str, Any], locale: str, currency: str) -> list[str]:
    out = []
    for o in (kpis.get("objectives") or {}).get("objectives") or []:
        if not isinstance(o, Mapping) or o.get("status") != "off_track":
            continue
        unit = o.get("unit") or "number"
        out.append(
            t(
                "delivery.off_track_item",
                locale,
                title=o.get("title") or o.get("id"),
                kpi=kpi_name(str(o.get("kpi")), locale) if o.get("kpi") else "",
                value=format_value(o.get("value"), unit, locale, currency),
                expected=format_value(o.get("expected"), unit, locale, currency),
                gap=format_change(o.get("relative_gap"), "relative", locale)
                if o.get("relative_gap") is not None
                else format_value(o.get("gap"), unit, locale, currency),
            )
        )
    return out


def _objective_counts(kpis: Mapping[str, Any], locale: str) -> str | None:
    counts = (kpis.get("objectives") or {}).get("counts")
    if not isinstance(counts, Mapping) or not sum(int(v or 0) for v in counts.values()):
        return None
    return t(
        "delivery.objectives_counts",
        locale,
        on_track=counts.get("on_track", 0),
        at_risk=counts.get("at_risk", 0),
        off_track=counts.get("off_track", 0),
        unknown=counts.get("unknown", 0),
    )


def _headline(kpis: Mapping[str, Any], ids: Sequence[str], locale: str, currency: str) -> list[str]:
    out = []
    for kpi_id in ids:
        k = _result_value(kpis, kpi_id)
        if k is None or k.get("value") is None:
            continue
        unit = k.get("unit") or "number"
        line = t(
            "delivery.headline_item",
            locale,
            kpi=kpi_name(kpi_id, locale),
            value=format_value(k.get("value"), unit, locale, currency),
        )
        if k.get("change_previous") is not None:
            # kpis.json: a relative change, or a difference in the KPI's points (a ratio's
            # as a fraction, shown in percentage points)
            kind = change_kind(unit)
            line += t(
                "delivery.headline_change",
                locale,
                change=format_change(k["change_previous"], kind, locale),
            )
        out.append(line)
    return out


def _changes(kpis: Mapping[str, Any], locale: str, currency: str) -> list[str]:
    out = []
    wc = kpis.get("what_changed") or {}
    for kpi_id, item in ((wc.get("kpis") or {}) if isinstance(wc, Mapping) else {}).items():
        comp = ((item or {}).get("comparisons") or {}).get("previous")
        if not isinstance(comp, Mapping) or comp.get("before") is None:
            continue
        unit = "currency" if kpi_id == "revenue" else (item.get("unit") or "number")
        kind = change_kind(unit)
        change = comp.get("relative") if kind == "relative" else comp.get("total")
        line = t(
            "delivery.changed_item",
            locale,
            kpi=kpi_name(kpi_id, locale),
            before=format_value(comp.get("before"), unit, locale, currency),
            after=format_value(comp.get("after"), unit, locale, currency),
            change=format_change(change, kind, locale),
            period=_period_text(comp.get("base_period"), locale),
        )
        factors = [f for f in comp.get("factors") or [] if f.get("effect") is not None]
        if factors:
            top = max(factors, key=lambda f: abs(f["effect"]))
            msgid = f"drivers.row.{top.get('driver')}"
            driver = t(msgid, locale) if has_message(msgid, locale) else str(top.get("driver"))
            line += t(
                "delivery.changed_driver",
                locale,
                driver=driver,
                effect=format_change(top["effect"], "difference", locale)
                if unit != "currency"
                else _signed_money(top["effect"], locale, currency),
            )
        out.append(line)
    return out


def _signed_money(value: float, locale: str, currency: str) -> str:
    body = format_value(abs(value), "currency", locale, currency)
    return ("+" if value > 0 else "\u2212" if value < 0 else "\u00b1") + body


def _join_url(base: str, *parts: str) -> str:
    return base.rstrip("/") + "/" + "/".join(p.strip("/") for p in parts if p)


def portal_base(params: BrandParams | None, environ: Mapping[str, str]) -> str | None:
    """The portal's base URL: ``delivery.portal_url``, else ``$KPITOOLS_PORTAL_URL``."""
    own = params.delivery.portal_url if params is not None and params.delivery else None
    return own or (environ.get(PORTAL_ENV) or "").strip() or None


def report_pdfs(report_dir: Path) -> list[Path]:
    """The brand's PDFs, ``report.pdf`` first."""
    pdfs = sorted(report_dir.glob("*.pdf"), key=lambda p: (p.name != "report.pdf", p.name))
    return [p for p in pdfs if p.is_file()]


def build_summary(
    params: BrandParams,
    report_dir: Path,
    reports_dir: Path,
    environ: Mapping[str, str] | None = None,
) -> Summary:
    """The brand's message content, from its published folder (``kpis.json``, PDFs)."""
    env = os.environ if environ is None else environ
    locale = params.locale if params.locale in LOCALES else DEFAULT_LOCALE
    kpis = read_kpis(report_dir)
    label = str(kpis.get("period") or report_dir.name)
    period = _period_text(label, locale)
    name = params.display_name
    if params.delivery and params.delivery.subject:
        subject = params.delivery.subject.format(name=name, brand=params.brand, period=period)
    else:
        subject = t("delivery.subject", locale, name=name, period=period)
    pdfs = report_pdfs(report_dir)
    base = portal_base(params, env)
    try:
        rel = report_dir.resolve().relative_to(reports_dir.resolve()).as_posix()
    except ValueError:
        rel = f"{params.slug}/{label}"
    return Summary(
        locale=locale,
        subject=subject,
        intro=t(
            "delivery.intro" if pdfs else "delivery.intro_no_pdf",
            locale,
            name=name,
            period=period,
            n=len(pdfs),
        ),
        off_track=_off_track(kpis, locale, params.currency),
        objectives=_objective_counts(kpis, locale),
        headline=_headline(kpis, params.report.headline, locale, params.currency),
        changes=_changes(kpis, locale, params.currency),
        report_url=_join_url(base, rel, "report.html") if base else None,
        portal_url=_join_url(base, "index.html") if base else None,
        attachments=[p.name for p in pdfs],
    )


def summary_text(s: Summary) -> str:
    """The plain-text body of a brand's message."""
    loc = s.locale
    lines = [t("delivery.greeting", loc), "", s.intro, ""]
    lines.append(t("delivery.off_track_title", loc, n=len(s.off_track)))
    lines += [f"  - {x}" for x in s.off_track] or [f"  {t('delivery.off_track_none', loc)}"]
    if s.objectives:
        lines += ["", s.objectives]
    if s.headline:
        lines += ["", t("delivery.headline_title", loc)] + [f"  - {x}" for x in s.headline]
    if s.changes:
        lines += ["", t("delivery.changed_title", loc)] + [f"  - {x}" for x in s.changes]
    if s.report_url:
        lines += ["", t("delivery.report_link", loc, url=s.report_url)]
    if s.portal_url:
        lines.append(t("delivery.portal_link", loc, url=s.portal_url))
    lines += ["", t("delivery.signature", loc)]
    return "\n".join(lines) + "\n"


def compose_brand_message(
    params: BrandParams,
    report_dir: Path,
    reports_dir: Path,
    sender: str,
    environ: Mapping[str, str] | None = None,
) -> EmailMessage:
    """The e-mail of one published brand: text and HTML summary, its PDFs attached.

    Raises
    ------
    DeliveryError
        When the params have no ``delivery.to``.
    """
    d = params.delivery
    if d is None or not d.to:
        raise DeliveryError(f"{params.origin}: delivery.to: no recipient")
    s = build_summary(params, report_dir, reports_dir, environ)
    msg = EmailMessage()
    msg["Subject"] = s.subject
    msg["From"] = sender
    msg["To"] = ", ".join(d.to)
    if d.cc:
        msg["Cc"] = ", ".join(d.cc)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="kpitools")
    msg.set_content(summary_text(s))
    msg.add_alternative(str(render("delivery/summary.html", s=s, t=t)), subtype="html")
    for pdf in report_pdfs(report_dir):
        ctype = mimetypes.guess_type(pdf.name)[0] or "application/pdf"
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(pdf.read_bytes(), maintype=maintype, subtype=subtype, filename=pdf.name)
    msg["Content-Language"] = s.locale  # after set_content, which clears Content-*
    return msg


# --------------------------------------------------------------------------------------
# The operators' alert
# --------------------------------------------------------------------------------------


@dataclass
class BrandOutcome:
    """What delivery needs of a run's result (:class:`kpitools.runner.RunResult` has it)."""

    params_path: str
    slug: str
    status: str
    period: str | None = None
    error: str | None = None
    report_dir: str | None = None
    failed_notebook: str | None = None
    log: str | None = None
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, result: Any) -> BrandOutcome:
        return cls(
            params_path=str(getattr(result, "params_path", "")),
            slug=str(getattr(result, "slug", "")),
            status=str(getattr(result, "status", "failed")),
            period=getattr(result, "period", None),
            error=getattr(result, "error", None),
            report_dir=getattr(result, "report_dir", None),
            failed_notebook=getattr(result, "failed_notebook", None),
            log=getattr(result, "log", None),
            warnings=[str(w) for w in getattr(result, "warnings", None) or []],
        )


def compose_alert(
    failures: Sequence[BrandOutcome],
    tripped: Mapping[str, Sequence[str]],
    recipients: Sequence[str],
    sender: str,
    reports_dir: Path,
    locale: str = DEFAULT_LOCALE,
) -> EmailMessage:
    """The operators' message: failed brands first, then the guardrails that tripped."""
    loc = locale if locale in LOCALES else DEFAULT_LOCALE
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [t("delivery.alert.intro", loc, when=stamp, reports=str(reports_dir)), ""]
    if failures:
        lines.append(t("delivery.alert.failed_title", loc, n=len(failures)))
        for f in failures:
            error = (f.error or "?").splitlines()
            lines.append(
                "  - "
                + t(
                    "delivery.alert.failed_item",
                    loc,
                    brand=f.slug,
                    period=f.period or "–",
                    error=error[0] if error else "?",
                )
            )
            lines += [f"      {e}" for e in error[1:5]]
            if f.failed_notebook:
                lines.append("      " + t("delivery.alert.notebook", loc, path=f.failed_notebook))
            log = f.log or f"_logs/{Path(f.params_path).stem}.log"
            log = log if Path(log).is_absolute() else str(reports_dir / log)
            lines.append("      " + t("delivery.alert.log", loc, path=log))
            lines.append("      " + t("delivery.alert.rerun", loc, params=f.params_path))
        lines.append("")
    if tripped:
        lines.append(t("delivery.alert.guardrails_title", loc, n=len(tripped)))
        for slug, items in tripped.items():
            lines.append(f"  - {slug}:")
            lines += [f"      {x}" for x in items]
        lines.append("")
    lines.append(t("delivery.alert.where", loc, reports=str(reports_dir)))
    msg = EmailMessage()
    msg["Subject"] = t(
        "delivery.alert.subject", loc, failed=len(failures), warned=len(tripped), when=stamp
    )
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="kpitools")
    msg.set_content("\n".join(lines) + "\n")
    msg["Content-Language"] = loc  # after set_content, which clears the Content-* headers
    return msg


# --------------------------------------------------------------------------------------
# Sending
# --------------------------------------------------------------------------------------


def send_message(msg: EmailMessage, smtp: SmtpSettings, timeout: float = 30.0) -> list[str]:
    """Send ``msg`` to its To and Cc recipients; returns them.

    Raises
    ------
    DeliveryError
        One line naming the server and the reason (never the password).
    """
    rcpts = _addresses([msg.get("To", ""), msg.get("Cc", "")])
    where = f"{smtp.host}:{smtp.port}"
    try:
        server: smtplib.SMTP
        if smtp.port == 465:
            server = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            server = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
        with server:
            if smtp.starttls and smtp.port != 465:
                server.starttls(context=ssl.create_default_context())
            if smtp.user:
                server.login(smtp.user, smtp.password or "")
            refused = server.send_message(
                msg, from_addr=_addresses([smtp.sender])[0], to_addrs=rcpts
            )
    except smtplib.SMTPAuthenticationError:
        raise DeliveryError(
            f"delivery: {where} refused the login of KPITOOLS_SMTP_USER (check it and "
            "KPITOOLS_SMTP_PASSWORD)"
        ) from None
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        text = " ".join(str(exc).split())
        if smtp.password:
            text = text.replace(smtp.password, "***")
        raise DeliveryError(
            f"delivery: could not send through {where}: {type(exc).__name__}: {text}"
        ) from None
    return [r for r in rcpts if r not in refused]


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _eml_name(stem: str) -> str:
    return _UNSAFE.sub("_", stem).strip("_") or "message"


@dataclass
class DeliveryOutcome:
    """What delivery did: one line per message sent or written, one per problem."""

    done: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"delivery: {x}" for x in self.done] + self.problems


def deliver_results(
    results: Iterable[Any],
    *,
    reports_dir: str | os.PathLike,
    outbox: str | os.PathLike | None = None,
    environ: Mapping[str, str] | None = None,
    smtp: SmtpSettings | None = None,
) -> DeliveryOutcome:
    """E-mail the brands that ran ok, and alert the operators about the others.

    Parameters
    ----------
    results : iterable of RunResult
        The run's results (:func:`kpitools.runner.run_all`); anything with ``params_path``,
        ``slug``, ``status``, ``period``, ``error``, ``report_dir``, ``failed_notebook``.
    reports_dir : path
        The reports root (links, alert text).
    outbox : path, optional
        Write each message as ``<brand>-<period>.eml`` (the alert as ``alert-<time>.eml``)
        into this folder instead of sending: a dry run, no SMTP server needed.
    environ : mapping, optional
        The environment (default ``os.environ``): SMTP settings, ``KPITOOLS_ALERT_TO``,
        ``KPITOOLS_ALERT_LOCALE``, ``KPITOOLS_PORTAL_URL``.
    smtp : SmtpSettings, optional
        Default :meth:`SmtpSettings.from_env` (when not a dry run).

    Returns
    -------
    DeliveryOutcome
        Never raises for one message: a message that cannot be sent is a problem line and the
        others go on.
    """
    env = os.environ if environ is None else environ
    reports = Path(reports_dir).resolve()
    box = Path(outbox) if outbox is not None else None
    out = DeliveryOutcome()
    if box is None and smtp is None:
        try:
            smtp = SmtpSettings.from_env(env)
        except DeliveryError as exc:
            out.problems.append(str(exc))
            return out
    sender = smtp.sender if smtp else (env.get("KPITOOLS_SMTP_FROM") or "kpitools@localhost")
    if box is not None:
        box.mkdir(parents=True, exist_ok=True)

    def dispatch(msg: EmailMessage, stem: str, what: str) -> None:
        if box is not None:
            path = box / f"{_eml_name(stem)}.eml"
            path.write_bytes(bytes(msg))
            out.files.append(path)
            out.done.append(f"{what}: written to {path} (dry run, not sent)")
            return
        assert smtp is not None
        try:
            sent = send_message(msg, smtp)
        except DeliveryError as exc:
            out.problems.append(f"{str(exc)} ({what})")
            return
        out.done.append(f"{what}: sent to {', '.join(sent)}")

    failures: list[BrandOutcome] = []
    tripped: dict[str, list[str]] = {}
    alert_to: list[str] = _truthy_env_list(env.get(ALERT_ENV))
    for r in map(BrandOutcome.of, results):
        params: BrandParams | None = None
        try:
            params = load_params(r.params_path)
        except KpitoolsError:
            params = None  # a params error is the run's failure, reported in the alert
        if params is not None and params.delivery:
            alert_to += _addresses(params.delivery.alert_to)
        if r.status == "skipped":
            continue
        if r.status != "ok" or not r.report_dir:
            failures.append(r)
            if params is not None and params.delivery and params.delivery.to:
                out.done.append(f"{r.slug}: failed, report not sent (the operators are alerted)")
            continue
        report_dir = Path(r.report_dir)
        if not report_dir.is_absolute():
            report_dir = reports / report_dir
        kpis = read_kpis(report_dir)
        warnings = guardrails(kpis) + [f"warning: {w}" for w in r.warnings]
        if warnings := list(dict.fromkeys(warnings)):
            tripped[f"{r.slug} {r.period or kpis.get('period') or ''}".strip()] = warnings
        if params is None or params.delivery is None or not params.delivery.to:
            continue
        try:
            msg = compose_brand_message(params, report_dir, reports, sender, env)
        except (OSError, KpitoolsError) as exc:
            out.problems.append(f"delivery: {r.slug}: could not build the message: {exc}")
            continue
        dispatch(
            msg, f"{r.slug}-{r.period or report_dir.name}", f"{r.slug} {r.period or ''}".strip()
        )
    if failures or tripped:
        recipients = list(dict.fromkeys(alert_to))
        if not recipients:
            out.problems.append(
                f"delivery: {len(failures)} failed and {len(tripped)} with warnings, but no "
                f"operator to alert: set {ALERT_ENV} or delivery.alert_to"
            )
        else:
            alert = compose_alert(
                failures,
                tripped,
                recipients,
                sender,
                reports,
                locale=env.get(ALERT_LOCALE_ENV) or DEFAULT_LOCALE,
            )
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            dispatch(alert, f"alert-{stamp}", "alert to the operators")
    return out


__all__ = [
    "ALERT_ENV",
    "PORTAL_ENV",
    "SMTP_ENV",
    "BrandOutcome",
    "DeliveryError",
    "DeliveryOutcome",
    "SmtpSettings",
    "Summary",
    "build_summary",
    "compose_alert",
    "compose_brand_message",
    "deliver_results",
    "guardrails",
    "report_pdfs",
    "send_message",
    "summary_text",
]
