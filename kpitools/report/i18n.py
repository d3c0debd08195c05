"""The translation catalogue: every phrase a reader sees, in every report language.

Phrases live in data files, one folder per locale (``kpitools/report/locales/<locale>/``), one
YAML file per part of the report (``report.yaml``, ``kpis.yaml``, ``roi.yaml`` …). Each file maps
a *message id* (``roi.title``, ``kpi.revenue.name``) to its text; ``{name}`` fields are filled
by :func:`t`. A test checks that every message id exists in every locale, so a new phrase
cannot be forgotten in one language.

To add a locale: add it to :data:`kpitools.locales.LOCALES` and ``BABEL_LOCALE``, copy
``locales/en/`` to ``locales/<new>/`` and translate the values.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import yaml

from ..errors import KpitoolsError
from ..locales import DEFAULT_LOCALE, LOCALES


class CatalogueError(KpitoolsError):
    """A message id is missing from the catalogue, or a catalogue file is malformed."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key written twice in one file (PyYAML keeps the last
    one silently, so a stale translation would hide behind a newer one)."""

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise CatalogueError(
                    f"{key!r} declared twice (line {key_node.start_mark.line + 1})"
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


@cache
def catalogue(locale: str) -> dict[str, str]:
    """Every message of ``locale``: ``{message id: text}``.

    Raises
    ------
    CatalogueError
        For an unknown locale, a malformed file, or a message id declared twice.
    """
    if locale not in LOCALES:
        raise CatalogueError(f"unknown locale {locale!r}; one of {', '.join(LOCALES)}")
    folder = files("kpitools.report").joinpath("locales", locale)
    out: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".yaml"):
            continue
        try:
            doc = yaml.load(entry.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader) or {}
        except CatalogueError as exc:
            raise CatalogueError(f"locales/{locale}/{entry.name}: {exc}") from None
        if not isinstance(doc, dict):
            raise CatalogueError(f"locales/{locale}/{entry.name}: expected a mapping")
        for key, text in doc.items():
            if key in out:
                raise CatalogueError(f"locales/{locale}/{entry.name}: {key!r} declared twice")
            if not isinstance(text, str):
                raise CatalogueError(f"locales/{locale}/{entry.name}: {key!r} is not text")
            out[key] = text
    return out


def has_message(msgid: str, locale: str = DEFAULT_LOCALE) -> bool:
    """Whether ``msgid`` is in the catalogue of ``locale``."""
    return msgid in catalogue(locale)


def locale_of(result: object, locale: str | None = None) -> str:
    """``locale`` if given, else the result's ``locale`` attribute, else English."""
    return locale or getattr(result, "locale", None) or DEFAULT_LOCALE


def t(msgid: str, locale: str = DEFAULT_LOCALE, /, **fields: object) -> str:
    """The phrase ``msgid`` in ``locale``, with ``{name}`` fields filled from ``fields``.

    Parameters
    ----------
    msgid : str
        A message id, e.g. ``"report.value"`` or ``"kpi.revenue.name"``.
    locale : {"en", "fr", "it"}
    **fields
        Values for the phrase's ``{name}`` fields, already formatted for the locale.

    Raises
    ------
    CatalogueError
        When ``msgid`` is not in the catalogue.
    """
    try:
        text = catalogue(locale)[msgid]
    except KeyError:
        raise CatalogueError(f"no message {msgid!r} in the {locale!r} catalogue") from None
    return text.format(**fields) if fields else text


def kpi_name(kpi_id: str, locale: str = DEFAULT_LOCALE) -> str:
    """The KPI's name in ``locale`` (message ``kpi.<id>.name``)."""
    return t(f"kpi.{kpi_id}.name", locale)


def kpi_description(kpi_id: str, locale: str = DEFAULT_LOCALE) -> str:
    """The KPI's one-line definition in ``locale`` (message ``kpi.<id>.description``)."""
    return t(f"kpi.{kpi_id}.description", locale)


def label(prefix: str, code: object, locale: str = DEFAULT_LOCALE) -> str:
    """The name of a code in ``locale`` (message ``<prefix>.<code>``), else the code itself.

    For values that come from the data (channels, segments): a channel the catalogue does not
    know is shown as it is spelled in the data.
    """
    msgid = f"{prefix}.{code}"
    return t(msgid, locale) if has_message(msgid, locale) else str(code)


def channel_name(channel: object, locale: str = DEFAULT_LOCALE) -> str:
    """A campaign channel's name in ``locale`` (``email`` → ``E-mail``; unknown: as spelled)."""
    return label("channel", channel, locale)


def segment_name(segment: object, locale: str = DEFAULT_LOCALE) -> str:
    """A customer segment's name in ``locale`` (``new`` → ``New``; unknown: as spelled)."""
    return label("segment", segment, locale)


__all__ = [
    "LOCALES",
    "CatalogueError",
    "catalogue",
    "has_message",
    "kpi_description",
    "kpi_name",
    "label",
    "locale_of",
    "t",
]
