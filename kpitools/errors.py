"""One exception root for kpitools.

Every error a user can meet derives from :class:`KpitoolsError` and carries a message that
names the file, field, table or column at fault, so that a scheduled run can print one clear
line per problem instead of a stack trace.
"""

from __future__ import annotations


class KpitoolsError(Exception):
    """Root of every error raised by kpitools."""


class ParamsError(KpitoolsError):
    """A params file is missing, unreadable or invalid.

    Parameters
    ----------
    path : str
        The params file at fault.
    problems : list of str
        One line per problem, each already prefixed with the file and the field.
    """

    def __init__(self, path: str, problems: list[str]):
        self.path = str(path)
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class DataSourceError(KpitoolsError):
    """A data source cannot be opened (missing file, bad URL, unset credential variable)."""


class ContractError(KpitoolsError):
    """A table breaks its contract: missing column, wrong type, or values out of range.

    Parameters
    ----------
    problems : list of ContractProblem
        Every failure found, with the failing rows where there are some.
    """

    def __init__(self, problems: list):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class MissingTableError(KpitoolsError):
    """A KPI or analysis needs a table that the source does not have."""

    def __init__(self, table: str, needed_by: str | None = None):
        self.table = table
        self.needed_by = needed_by
        who = f" (needed by {needed_by})" if needed_by else ""
        super().__init__(f"table '{table}' is not in the data source{who}")


class MissingColumnError(KpitoolsError):
    """A KPI needs an optional column that the source does not fill (absent, or NULL in every
    row), e.g. ``opportunities.renewal_due_at`` for ``renewal_rate``: the KPI then has no data
    and says why, rather than falling back on another definition."""

    def __init__(self, table: str, column: str, needed_by: str | None = None):
        self.table = table
        self.column = column
        self.needed_by = needed_by
        who = f" (needed by {needed_by})" if needed_by else ""
        super().__init__(f"column '{table}.{column}' is empty or absent in the data source{who}")

    @property
    def qualified(self) -> str:
        """``table.column``."""
        return f"{self.table}.{self.column}"


class PeriodError(KpitoolsError):
    """A period is malformed or has no data."""


class UnknownKpiError(KpitoolsError):
    """A KPI id is not in the registry."""


class CampaignError(KpitoolsError):
    """A campaign cannot be analysed (no members, no control group, inconsistent dates)."""


class FitError(KpitoolsError):
    """A statistical model could not be fitted on the data given."""


class ReportError(KpitoolsError):
    """A report could not be rendered or published."""


class RunLockedError(KpitoolsError):
    """Another ``kpitools run`` holds the reports folder's lock (``reports/.lock``)."""


class ReportsFolderError(KpitoolsError):
    """The reports folder cannot be written (read-only, full disk, no permission).

    Parameters
    ----------
    message : str
        One line naming the folder or file and the cause.
    results : list, optional
        The brands' results when the failure came after they ran (recording them).
    """

    def __init__(self, message: str, results: list | None = None) -> None:
        self.results = list(results or [])
        super().__init__(message)


def out_of_memory_advice(text: str) -> str:
    """DuckDB's out-of-memory error in kpitools' words, other errors unchanged.

    DuckDB ends it with SQL to type (``SET memory_limit='...GB'``); a params file sets that
    limit as ``source.memory_limit``, and parallel brands share the machine's memory.
    """
    if "Out of Memory Error" not in text or "source.memory_limit" in text:
        return text
    first = next((line.strip() for line in text.splitlines() if line.strip()), text)
    return (
        f"{first}: DuckDB ran out of the memory it may use; raise source.memory_limit in the "
        "params file (or leave it out: DuckDB then takes up to 80 % of the RAM), or run "
        "fewer brands at once (-j)"
    )
