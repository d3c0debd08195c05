"""The report languages: one list, used by params validation, the catalogue and the CLI.

To add a locale, add its code to :data:`LocaleCode` (``LOCALES`` follows) and its Babel
locale to :data:`BABEL_LOCALE`.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

#: The type of a params file's ``locale`` field: every language a report can be written in
#: (ISO 639-1), in the order the CLI lists them. The one declaration of the locales.
LocaleCode = Literal["en", "fr", "it"]

#: Every language a report can be written in, as a tuple (from :data:`LocaleCode`).
LOCALES: Final[tuple[str, ...]] = get_args(LocaleCode)

#: Babel's locale for each report language (numbers, currencies, dates).
BABEL_LOCALE: dict[str, str] = {"en": "en_GB", "fr": "fr_FR", "it": "it_IT"}

DEFAULT_LOCALE: LocaleCode = "en"
