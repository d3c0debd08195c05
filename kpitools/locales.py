"""The report languages: one list, used by params validation, the catalogue and the CLI."""

from __future__ import annotations

from typing import Literal

#: Every language a report can be written in (ISO 639-1), in the order the CLI lists them.
LOCALES: tuple[str, ...] = ("en", "fr", "it")

#: The type of a params file's ``locale`` field.
LocaleCode = Literal["en", "fr", "it"]

#: Babel's locale for each report language (numbers, currencies, dates).
BABEL_LOCALE: dict[str, str] = {"en": "en_GB", "fr": "fr_FR", "it": "it_IT"}

DEFAULT_LOCALE = "en"
