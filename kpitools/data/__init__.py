"""Layer 3, data: open a brand's data and check it against the canonical model.

:func:`connect` opens the source a params file names and returns a :class:`Database` (canonical
tables, filtered on the brand and its product lines inside the database);
:mod:`kpitools.data.contracts` checks tables against :mod:`kpitools.schema`;
:mod:`kpitools.data.demo` writes the demo database with its planted truth.
"""

from .contracts import ContractProblem
from .sources import Database, connect

__all__ = ["ContractProblem", "Database", "connect"]
