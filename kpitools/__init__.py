"""kpitools: CRM KPI reporting from a brand's params file to its HTML and PDF report.

Importing the package has no side effects: no global pandas options, warning filters or
logging configuration. Heavy submodules are imported by the caller when needed.
"""

__version__ = "0.1.0"
