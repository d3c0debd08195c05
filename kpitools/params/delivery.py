"""The ``delivery:`` section of a params file: who receives the brand's report by e-mail.

::

    delivery:
      to: [direction@bellevue.example, "Claire Martin <claire.martin@bellevue.example>"]
      cc: [crm-team@bellevue.example]
      subject: "{name} : rapport CRM {period}"     # optional; fields {name}, {brand}, {period}
      portal_url: https://reports.example/kpitools/  # optional; else $KPITOOLS_PORTAL_URL
      alert_to: [crm-ops@example.com]             # optional; with $KPITOOLS_ALERT_TO

Only addresses and wording live here: the SMTP server, its account and password, and the
sender are read from the environment (``KPITOOLS_SMTP_HOST``, ``_PORT``, ``_USER``,
``_PASSWORD``, ``_STARTTLS``, ``_FROM``), and a params file that tries to hold one is refused.
Sending is :mod:`kpitools.delivery`.
"""

from __future__ import annotations

import re
import string
from email.utils import parseaddr
from typing import Annotated
from urllib.parse import parse_qsl, urlsplit

from pydantic import AfterValidator, Field, field_validator, model_validator

from .base import _Strict

#: keys that would put an SMTP setting or a secret into a params file
_SMTP_KEYS = re.compile(
    r"^(smtp.*|host|port|user|username|login|password|passwd|pass|pwd|secret|token|api_key|"
    r"apikey|starttls|ssl|tls|from|sender|from_addr|credentials?)$",
    re.IGNORECASE,
)
_SECRET_QUERY_KEYS = {"password", "pass", "pwd", "passwd", "secret", "token", "key", "api_key"}
_ADDRESS = re.compile(
    r"^[^@\s<>(),;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
SUBJECT_FIELDS = ("name", "brand", "period")


def check_address(v: str) -> str:
    """An e-mail address, bare (``a@b.example``) or with a display name (``Ann <a@b.example>``).

    Raises
    ------
    ValueError
        When it is not one address.
    """
    text = v.strip()
    _, addr = parseaddr(text)
    if not addr or not _ADDRESS.match(addr) or any(c in text for c in ",;\n\r"):
        raise ValueError(
            f"{v!r} is not an e-mail address (write one address per list item, "
            "e.g. ann@brand.example or 'Ann Lee <ann@brand.example>')"
        )
    return text


Address = Annotated[str, AfterValidator(check_address)]


class DeliveryParams(_Strict):
    """Recipients and wording of a brand's report e-mail (see the module doc)."""

    to: list[Address] = Field(default_factory=list, description="recipients of the report")
    cc: list[Address] = Field(default_factory=list, description="copied recipients")
    subject: str | None = Field(
        None,
        description="subject line; fields {name}, {brand}, {period} (default: in the locale)",
    )
    portal_url: str | None = Field(
        None, description="base URL of the published reports (default: $KPITOOLS_PORTAL_URL)"
    )
    alert_to: list[Address] = Field(
        default_factory=list,
        description="operators alerted when the brand fails or a guardrail trips "
        "(besides $KPITOOLS_ALERT_TO)",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_smtp_settings(cls, data):
        if isinstance(data, dict):
            for key in data:
                if isinstance(key, str) and _SMTP_KEYS.match(key):
                    raise ValueError(
                        f"{key}: SMTP settings and secrets are read from the environment only "
                        "(KPITOOLS_SMTP_HOST, _PORT, _USER, _PASSWORD, _STARTTLS, _FROM), never "
                        "from a params file: remove it"
                    )
        return data

    @field_validator("subject")
    @classmethod
    def _subject_fields(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not v.strip() or "\n" in v or "\r" in v:
            raise ValueError("the subject is one non-empty line")
        try:
            names = [f for _, f, _, _ in string.Formatter().parse(v) if f is not None]
        except ValueError as exc:
            raise ValueError(f"subject {v!r}: {exc} (write {{{{ and }}}} for braces)") from None
        unknown = [n for n in names if n not in SUBJECT_FIELDS]
        if unknown:
            raise ValueError(
                f"subject: unknown field {{{unknown[0]}}}; use {', '.join('{' + f + '}' for f in SUBJECT_FIELDS)}"
            )
        return v

    @field_validator("portal_url")
    @classmethod
    def _portal_url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https", "file") or not (parts.netloc or parts.path):
            raise ValueError(f"portal_url {v!r} is not an http(s) URL")
        secret = "@" in parts.netloc or any(
            k.lower() in _SECRET_QUERY_KEYS for k, _ in parse_qsl(parts.query)
        )
        if secret:
            raise ValueError(
                "portal_url holds credentials: the link is sent to every recipient; "
                "give the plain address of the portal"
            )
        return v


__all__ = ["Address", "DeliveryParams", "SUBJECT_FIELDS", "check_address"]
