"""CRM adoption KPIs (seed 003 "Metriche di adozione")."""

from __future__ import annotations
