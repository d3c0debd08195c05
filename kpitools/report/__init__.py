"""Presentation of results: templates, the translation catalogue, formatting, export.

- :mod:`~kpitools.report.i18n`: the catalogue (``t``, ``kpi_name``);
  :mod:`~kpitools.report.formatting`: numbers and dates (Babel);
  :mod:`~kpitools.report.templating`: the Jinja2 environment (autoescape).
- :mod:`~kpitools.report.tables` and :mod:`~kpitools.report.notebook`: the KPI report's
  fragments and its notebook ``show_*`` calls; ``roi``, ``clv``, ``objectives``: theirs.
- :mod:`~kpitools.report.export`: HTML, PDF and the index; :mod:`~kpitools.report.kpis_json`:
  ``kpis.json``.

Importing this package loads nothing heavy: import the module you need.
"""
